"""Physics and geometry shared by env families, as constructors returning pure functions.

:mod:`.particles`: point masses with soft contacts, damping and speed limits (the MPE world;
  walls and kicks for soccer).
:mod:`.boxes`: oriented rectangles and their pairwise overlap by separating axes (vehicles).
:mod:`.space`: periodic and free space (``periodic(box_size) -> (displacement, shift)``).
:mod:`.neighbours`: radius neighbour lists, all-pairs or cell list, with capacities fixed outside
  jit and a checked overflow flag.
:mod:`.order`: order parameters and local histograms of swarms.
"""

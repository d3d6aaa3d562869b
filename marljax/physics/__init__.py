"""Physics and geometry shared by env families, as constructors returning pure functions.

:mod:`.particles`: point masses with soft contacts, damping and speed limits (the MPE world).
"""

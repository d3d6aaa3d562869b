import os

os.environ.setdefault("MPLBACKEND", "Agg")
# Tests run on the CPU (CI has no accelerator) with 8 virtual devices for sharding tests.
os.environ.setdefault("JAX_PLATFORMS", "cpu")

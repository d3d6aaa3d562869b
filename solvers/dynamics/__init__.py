"""Learning dynamics for n-player normal-form games (optax-style ``init``/``update``):
fictitious play, replicator and projected replicator dynamics, regret matching(+),
optimistic multiplicative weights. Everything lives in :mod:`.learning_dynamics`."""

from marljax.solvers.dynamics.learning_dynamics import *  # noqa: F401,F403
from marljax.solvers.dynamics.learning_dynamics import __all__  # noqa: F401

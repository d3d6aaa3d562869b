"""Policy-Space Response Oracles (PSRO; Lanctot et al., 2017).

Read in this order: :mod:`.meta_solvers` (meta-game -> meta-strategy), :mod:`.oracles.exact`
(pure best responses in normal-form games), :mod:`.loop` (the jitted PSRO loop with the exact
oracle: ``psro_solver``'s ``init``/``update``/``solve`` and the public :func:`run`),
:mod:`.oracles.rl` (PSRO with PPO best responses in two-team environments).
"""

from marljax.solvers.psro import meta_solvers
from marljax.solvers.psro.loop import *  # noqa: F401,F403
from marljax.solvers.psro.loop import __all__ as _loop_all

__all__ = ["meta_solvers"] + list(_loop_all)

"""What the registry-wide tests share: small budgets for the iterative solvers and the games
they run on, so that the registry, CLI and property tests reuse one compilation per solver."""

import jax
import numpy as np
import pytest

from marljax.envs.matrix import games
from marljax.solvers.registry import get_solver

#: Budgets small enough for tests (each iterative solver compiles once with them).
FAST_OPTIONS = {"num_steps": 50, "num_iters": 20}


def fast_options(name: str) -> dict:
    """The options of FAST_OPTIONS that solver ``name`` takes."""
    return {k: v for k, v in FAST_OPTIONS.items() if k in get_solver(name).defaults}


@pytest.fixture(scope="session")
def zero_sum_pair():
    """Two different random zero-sum 2x3 games (float32): every registered solver takes them."""
    return [np.asarray(games.random_zero_sum(jax.random.PRNGKey(k), (2, 3))) for k in (0, 1)]

"""Property-based: on random payoff tensors of random small shapes and dtypes, every registered
solver either returns a verified result or raises a clear ValueError -- never NaN, never a
non-distribution, never a success that its own criterion does not back.

Shapes come from a short list (the 2x3 of the other registry tests and a 2x2x2 three-player
game), so each solver compiles at most twice however many examples run."""

import numpy as np
import pytest
from conftest import fast_options
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from marljax.solvers import nash
from marljax.solvers.game import is_zero_sum
from marljax.solvers.registry import get_solver, solve, solver_names

SHAPES = [(2, 3), (2, 2, 2)]
DTYPES = [np.int32, np.float32, np.float64]


@st.composite
def payoff_tensors(draw):
    actions = draw(st.sampled_from(SHAPES))
    dtype = draw(st.sampled_from(DTYPES))
    shape = (len(actions), *actions)
    if np.issubdtype(dtype, np.integer):
        elements = st.integers(-3, 3)  # small integers: many ties, degenerate games
    else:
        elements = st.floats(-100, 100, width=32 if dtype == np.float32 else 64)
    payoffs = draw(hnp.arrays(dtype, shape, elements=elements))
    if len(actions) == 2 and draw(st.booleans()):
        payoffs[1] = -payoffs[0]  # zero-sum half of the time, so the zero-sum LP runs too
    return payoffs


def _expected_refusal(spec, payoffs) -> str | None:
    """The ValueError a solver may raise on this game (a regex), None when it must solve it."""
    if spec.num_players is not None and payoffs.shape[0] != spec.num_players:
        return "2-player|two-player"
    if spec.zero_sum and not is_zero_sum(payoffs):
        return "not a zero-sum game"
    return None


def _check(name, payoffs):
    spec = get_solver(name)
    refusal = _expected_refusal(spec, payoffs)
    if refusal is not None:
        with pytest.raises(ValueError, match=refusal):
            solve(name, payoffs, **fast_options(name))
        return
    result = solve(name, payoffs, **fast_options(name))
    game = np.asarray(payoffs, np.float32)
    spread = max(float(game.max() - game.min()), 1.0)
    profile = [np.asarray(p) for p in result.profile]
    for i, (strategy, actions) in enumerate(zip(profile, game.shape[1:])):
        assert strategy.shape == (actions,), (name, i)
        assert np.all(np.isfinite(strategy)) and strategy.min() >= -1e-6, (name, i, strategy)
        assert abs(float(strategy.sum()) - 1.0) <= 1e-5, (name, i, strategy)
    reported = float(result.nash_conv)
    assert np.isfinite(reported), name
    assert abs(reported - float(nash.nash_conv(game, result.profile))) <= 1e-5 * spread, name
    success = bool(result.success)
    if success and spec.certifies == "Nash":
        assert reported <= spec.defaults["tol"] * spread + 1e-5 * spread, (name, reported)


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible, never flaky
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(payoffs=payoff_tensors())
def test_every_solver_returns_a_verified_result_or_a_clear_error(payoffs):
    for name in solver_names():
        _check(name, payoffs)

"""``marljax.make`` checks env options at the registry: one ``ValueError`` naming the env, the
option and the accepted ones, instead of a ``TypeError`` traceback from the constructor."""

import pytest

import marljax
from marljax.registry import env_metrics, env_options

STAG_OPTIONS = "horizon=10, stag_stag=4.0, stag_hare=0.0, hare_stag=3.0, hare_hare=3.0"


@pytest.mark.parametrize(
    "name, options, message",
    [
        (
            "matrix/StagHunt-v0",
            {"bogus": 1},
            f"env 'matrix/StagHunt-v0' takes no option 'bogus'; its options: {STAG_OPTIONS}",
        ),
        ("matrix/StagHunt-v0", {"horizn": 3}, "takes no option 'horizn' (did you mean 'horizon'?)"),
        ("matrix/StagHunt-v0", {"horizon": "3"}, "option 'horizon' must be an integer (default 10); got '3' (str)"),
        ("matrix/StagHunt-v0", {"horizon": 2.5}, "option 'horizon' must be an integer"),
        ("matrix/StagHunt-v0", {"horizon": True}, "option 'horizon' must be an integer"),
        ("matrix/StagHunt-v0", {"stag_stag": "high"}, "option 'stag_stag' must be a number"),
        (
            "mpe/SimpleSpread-v0",
            {"num_agents": "3"},
            "env 'mpe/SimpleSpread-v0': option 'num_agents' must be an integer",
        ),
        ("mpe/SimpleTag-v0", {"num_landmarks": 2}, "its options: num_predators=3, num_prey=1"),
        # Values of the right type that the constructor rejects: its message, prefixed with the env.
        ("matrix/StagHunt-v0", {"horizon": 0}, "env 'matrix/StagHunt-v0': horizon must be positive"),
        ("mpe/SimpleSpread-v0", {"action_type": "x"}, "env 'mpe/SimpleSpread-v0': action_type must be one of"),
    ],
)
def test_bad_env_options_raise_one_clear_value_error(name, options, message):
    with pytest.raises(ValueError) as err:
        marljax.make(name, **options)
    assert message in str(err.value)


def test_good_options_build_the_env():
    assert marljax.make("matrix/StagHunt-v0", horizon=3, stag_stag=10).max_steps == 3
    assert marljax.make("mpe/SimpleSpread-v0", num_agents=4, local_ratio=1).num_agents == 4
    assert marljax.make("mpe/SimpleTag-v0", speeds=[1, 1, 1, 2]).num_agents == 4  # a JSON list for a sequence
    assert marljax.make("matrix/MatrixGame-v0", payoffs=[[[1, 2]], [[3, 4]]]).actions_per_agent == (1, 2)


def test_env_options_and_metrics_are_listed():
    assert env_options("matrix/StagHunt-v0") == {
        "horizon": 10,
        "stag_stag": 4.0,
        "stag_hare": 0.0,
        "hare_stag": 3.0,
        "hare_hare": 3.0,
    }
    assert env_options("mpe/SimpleSpread-v0")["num_agents"] == 3
    assert env_metrics("mpe/SimpleSpread-v0") == marljax.envs.mpe.SimpleSpread.metrics
    assert env_metrics("matrix/StagHunt-v0") == {}  # built from a function: read from an instance
    for name in marljax.registered():
        assert set(env_metrics(name).values()) <= {"sum", "mean", "final"}, name

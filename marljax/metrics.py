"""Env metrics: the scalars an env reports each step, and how an episode aggregates them.

An env declares its metrics in the class attribute ``metrics``, a dict mapping each name to
how an episode aggregates it, and reports their values on every ``reset`` and ``step`` in
``timestep.extras["metrics"]`` (a dict of float32 scalars with exactly the declared keys)::

    class SimpleSpread(ParticleEnv):
        metrics = {"collisions": "sum", "occupied_landmarks": "final", "landmark_distance": "mean"}

For an episode of ``T`` steps with per-step values ``m_1 .. m_T`` (the value on ``reset``,
``m_0``, is reported for the pytree's sake but never aggregated):

- ``"sum"``:   ``sum_t m_t``          (counts: crashes, collisions, catches, goals)
- ``"mean"``:  ``(1/T) sum_t m_t``    (levels: an order parameter, a distance)
- ``"final"``: ``m_T``                (outcomes: success, landmarks covered at the end)

An env without metrics declares nothing (``metrics = {}``, the base class's default) and need
not put a ``"metrics"`` key in its extras. Aggregation happens here and only here: a running
*total* per metric (the sum so far for ``sum``/``mean``, the latest value for ``final``) is
folded step by step with :func:`accumulate` and turned into the episode's value by
:func:`finish`; :func:`aggregate` does both over a whole time-major array.
"""

from __future__ import annotations

from typing import Mapping

import chex
import jax
import jax.numpy as jnp

__all__ = ["AGGREGATIONS", "declared_metrics", "step_metrics", "zeros", "accumulate", "finish", "aggregate"]

#: How an episode aggregates a metric.
AGGREGATIONS = ("sum", "mean", "final")

Metrics = Mapping[str, chex.Array]


def declared_metrics(env) -> dict[str, str]:
    """The env's metric declaration ``{name: aggregation}``, checked.

    Args:
        env: an env or a wrapper around one (wrappers forward ``metrics`` to the env), or
            the declaration dict itself.

    Returns:
        A plain ``dict`` copy of the declaration (``{}`` when the env declares none).

    Raises:
        ValueError: the declaration is not a dict of string names to one of :data:`AGGREGATIONS`.
    """
    declaration = env if isinstance(env, Mapping) else getattr(env, "metrics", {})
    if not isinstance(declaration, Mapping):
        raise ValueError(f"{env!r}: metrics must be a dict name -> aggregation; got {type(declaration).__name__}")
    for name, how in declaration.items():
        if not isinstance(name, str):
            raise ValueError(f"{env!r}: metric names must be strings; got {name!r}")
        if how not in AGGREGATIONS:
            raise ValueError(
                f"{env!r}: metric {name!r} has unknown aggregation {how!r}; expected one of {AGGREGATIONS}"
            )
    return dict(declaration)


def step_metrics(extras, declaration: Mapping[str, str]) -> dict[str, chex.Array]:
    """The declared metrics of one timestep, as float32: ``extras["metrics"]`` checked against
    the declaration (at trace time, so the check is free inside jit).

    Args:
        extras: ``timestep.extras`` (may be ``None`` or lack ``"metrics"`` when nothing is declared).
        declaration: ``{name: aggregation}`` from :func:`declared_metrics`.

    Returns:
        ``{name: value}`` with exactly the declared names (``{}`` when nothing is declared).

    Raises:
        ValueError: the reported names differ from the declared ones.
    """
    reported = (extras or {}).get("metrics", {})
    if set(reported) != set(declaration):
        raise ValueError(
            f"extras['metrics'] reports {sorted(reported)} but the env declares {sorted(declaration)} "
            "(the keys must be the same on reset and step)"
        )
    return {name: jnp.asarray(reported[name], jnp.float32) for name in declaration}


def zeros(declaration: Mapping[str, str], shape: tuple = ()) -> dict[str, chex.Array]:
    """Running totals of an episode that has not started: float32 zeros of ``shape`` (the batch)."""
    return {name: jnp.zeros(shape, jnp.float32) for name in declaration}


def accumulate(totals: Metrics, values: Metrics, declaration: Mapping[str, str], live=True) -> dict[str, chex.Array]:
    """Fold one step's ``values`` into the running ``totals``.

    ``sum``/``mean`` add the value, ``final`` keeps the latest; where ``live`` is False (a step
    after the episode ended) the totals are left as they were.

    Args:
        totals: running totals, ``{name: [...]}``.
        values: this step's metrics, same shapes.
        declaration: ``{name: aggregation}``.
        live: bool, broadcastable to the totals' shape: which entries this step belongs to.

    Returns:
        The updated totals.
    """
    out = {}
    for name, how in declaration.items():
        new = values[name] if how == "final" else totals[name] + values[name]
        out[name] = jnp.where(live, new, totals[name])
    return out


def finish(totals: Metrics, length, declaration: Mapping[str, str]) -> dict[str, chex.Array]:
    """The episode's metrics from its running totals and its ``length`` (steps taken).

    ``mean`` divides by ``max(length, 1)`` (an episode of no steps reports 0), the others are
    the totals themselves.
    """
    steps = jnp.maximum(jnp.asarray(length, jnp.float32), 1.0)
    return {name: totals[name] / steps if how == "mean" else totals[name] for name, how in declaration.items()}


def aggregate(values: Metrics, declaration: Mapping[str, str], mask=None) -> dict[str, chex.Array]:
    """Aggregate whole episodes given time-major per-step values.

    Args:
        values: ``{name: [T, ...]}``, the metrics of steps ``1..T`` (not the reset's).
        declaration: ``{name: aggregation}``.
        mask: optional bool ``[T, ...]``: the steps that belong to the episode (the rest, e.g.
            steps after it ended, are ignored). Default: every step.

    Returns:
        ``{name: [...]}``, each episode's aggregated metrics.
    """
    declaration = declared_metrics(declaration)
    if not declaration:
        return {}
    first = values[next(iter(declaration))]
    mask = jnp.ones(first.shape, bool) if mask is None else jnp.asarray(mask, bool)
    values = {name: jnp.asarray(values[name], jnp.float32) for name in declaration}

    def fold(totals, step):
        step_values, live = step
        return accumulate(totals, step_values, declaration, live), None

    totals, _ = jax.lax.scan(fold, zeros(declaration, first.shape[1:]), (values, mask))
    return finish(totals, mask.sum(0), declaration)

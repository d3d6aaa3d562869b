r"""Exact policy gradients of Bayesian-network policies on the tabular coordination game.

The coordination game (:mod:`marljax.envs.coordination.coordination_game`) with ``n`` agents
has :math:`2^n` states and :math:`2^n` joint actions, so everything is exact. A BN policy over a
DAG :math:`G` (``G[j, i] = 1``: agent ``j`` is a parent of agent ``i``) is tabular per agent,
state and parents' actions:

.. math::

    \pi_\theta(a | s) = \prod_i \mathrm{softmax}(\theta_{i, s, a_{\mathrm{Pa}(i)}})[a_i].

``G`` empty gives independent policies, ``G`` full (``j < i``) an autoregressive policy that
can represent any joint distribution. With :math:`P_\pi(s, s') = \sum_a \pi(a|s) P(s'|a)` and
:math:`r(a) = \sum_{s'} P(s'|a) R(s')` (the reward of a step is that of the state it leads to):

.. math::

    V^\pi &= (I - \gamma P_\pi)^{-1} r_\pi, \qquad J(\theta) = \mu^\top V^\pi \ (\mu \text{ uniform}), \\
    Q^\pi(s, a) &= r(a) + \gamma \sum_{s'} P(s'|a) V^\pi(s'), \qquad
    d^\pi = (1 - \gamma)\, \mu^\top (I - \gamma P_\pi)^{-1}, \\
    \nabla_\theta J &= \frac{1}{1 - \gamma} \sum_s d^\pi(s) \sum_a \nabla_\theta \pi_\theta(a|s)\, Q^\pi(s, a)

(the policy gradient theorem, evaluated exactly), followed by plain gradient ascent. ``J*``
comes from value iteration over joint actions. The **Nash gap** of a joint policy is
:math:`\max_i (\max_{\pi'_i} J(\pi'_i, \pi_{-i}) - J(\pi))`, where agent ``i`` deviates to any
state-dependent policy while the others keep their conditionals (a child of ``i`` reacts to
``i``'s deviated action: the intervened network); each best response is value iteration on the
two-action MDP that this leaves to agent ``i``.

References:
    Chen & Zhang 2023, "Context-aware Bayesian Network Actor-Critic Methods for Cooperative
    Multi-Agent Reinforcement Learning", ICML (Sec. 4: the coordination game, Theorem 1);
    Sutton et al. 2000, "Policy Gradient Methods for RL with Function Approximation" (the
    theorem); Agarwal et al. 2021, "On the Theory of Policy Gradient Methods" (tabular softmax).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.coordination.coordination_game import (
    check_coordination_args,
    joint_bits,
    reward_table,
    transition_matrix,
)
from marljax.solvers.bnac.dag import fixed_dag, is_acyclic

__all__ = ["TabularResult", "TabularGame", "tabular_game", "exact_policy_gradient", "joint_policy", "evaluate"]

TABULAR_AGENTS = (2, 3, 5)  # 10 agents would need 2^10 x 2^10 tables per agent
METHODS = ("pg", "npg")
VALUE_ITERATIONS = 1500  # gamma^1500 < 1e-33 at gamma = 0.95


class TabularGame(NamedTuple):
    """The exact model: ``transition [A, S]`` :math:`P(s'|a)`, ``reward [A]`` :math:`r(a)`,
    ``state_reward [S]`` :math:`R(s)`, ``bits [A, n]`` and ``gamma``."""

    transition: chex.Array
    reward: chex.Array
    state_reward: chex.Array
    bits: chex.Array
    gamma: float


class TabularResult(NamedTuple):
    """What :func:`exact_policy_gradient` returns.

    Attributes:
        j: :math:`J` of the final policy from the uniform initial state.
        j_star: the optimal :math:`J^*` (value iteration).
        j_ratio: ``j / j_star``.
        nash_gap: the final policy's Nash gap (module docstring).
        j_ratio_curve: ``[steps + 1]`` :math:`J/J^*` before every step and after the last.
        nash_gap_curve: the Nash gap at ``checkpoint_steps``.
        checkpoint_steps: the steps the gap was measured after: 0, every ``steps // num_checkpoints``
            steps, and ``steps`` (``num_checkpoints + 1`` entries, one more when they do not divide).
        logits: ``[n, S, 2^n, 2]`` the final :math:`\theta` (context index = parents' bits).
        policy: ``[S, A]`` the final joint policy :math:`\\pi(a|s)`.
    """

    j: chex.Array
    j_star: chex.Array
    j_ratio: chex.Array
    nash_gap: chex.Array
    j_ratio_curve: chex.Array
    nash_gap_curve: chex.Array
    checkpoint_steps: chex.Array
    logits: chex.Array
    policy: chex.Array


def tabular_game(num_agents: int, eps: float = 0.1, gamma: float = 0.95) -> TabularGame:
    """The coordination game's exact model (checked: ``n`` in 2, 3, 5, ``eps`` in [0, 1], ``0 < gamma < 1``)."""
    check_coordination_args(num_agents, eps)
    if num_agents not in TABULAR_AGENTS:
        raise ValueError(f"the tabular game supports num_agents in {TABULAR_AGENTS}; got {num_agents}")
    if not 0.0 < gamma < 1.0:
        raise ValueError(f"gamma must lie in (0, 1); got {gamma}")
    transition = transition_matrix(num_agents, eps)
    state_reward = reward_table(num_agents).astype(np.float64)
    return TabularGame(
        jnp.asarray(transition, jnp.float32),
        jnp.asarray(transition @ state_reward, jnp.float32),
        jnp.asarray(state_reward, jnp.float32),
        jnp.asarray(joint_bits(num_agents)),
        float(gamma),
    )


def _contexts(dag: chex.Array, bits: chex.Array) -> chex.Array:
    """``[A, n]`` context index of agent ``i`` under joint action ``a``: its parents' bits."""
    weights = (2 ** jnp.arange(dag.shape[0]))[:, None] * dag  # [j, i]
    return bits @ weights.astype(jnp.int32)


def joint_policy(logits: chex.Array, dag: chex.Array, bits: chex.Array) -> chex.Array:
    r"""``[S, A]`` log :math:`\pi(a|s) = \sum_i \log \mathrm{softmax}(\theta_{i,s,\mathrm{ctx}_i(a)})[a_i]`."""
    n = dag.shape[0]
    ctx = _contexts(dag, bits)  # [A, n]
    log_p = jax.nn.log_softmax(logits, -1)  # [n, S, C, 2]
    per_agent = log_p[jnp.arange(n)[None, :], :, ctx, bits]  # [A, n, S]
    return per_agent.sum(1).T


def _values(game: TabularGame, policy: chex.Array) -> chex.Array:
    """``V^pi [S]`` by one linear solve."""
    p_pi = policy @ game.transition
    r_pi = policy @ game.reward
    return jnp.linalg.solve(jnp.eye(p_pi.shape[0]) - game.gamma * p_pi, r_pi)


def evaluate(game: TabularGame, policy: chex.Array):
    """``(J, V [S], Q [S, A], d [S])`` of the joint ``policy [S, A]`` (exact; module docstring)."""
    s = policy.shape[0]
    mu = jnp.full((s,), 1.0 / s)
    values = _values(game, policy)
    q = jnp.broadcast_to(game.reward + game.gamma * game.transition @ values, policy.shape)
    p_pi = policy @ game.transition
    d = (1.0 - game.gamma) * jnp.linalg.solve((jnp.eye(s) - game.gamma * p_pi).T, mu)
    return mu @ values, values, q, d


def optimal_value(game: TabularGame) -> chex.Array:
    """:math:`J^* = \\mu^\\top V^*` by value iteration over joint actions."""

    def backup(_, v):
        return jnp.max(game.reward + game.gamma * game.transition @ v) * jnp.ones_like(v)

    v = jax.lax.fori_loop(0, VALUE_ITERATIONS, backup, jnp.zeros(game.transition.shape[1]))
    return jnp.mean(v)


def nash_gap(game: TabularGame, logits: chex.Array, dag: chex.Array) -> chex.Array:
    """``max_i`` (agent ``i``'s best-response J with the others' conditionals kept) - J."""
    n = dag.shape[0]
    log_pi = joint_policy(logits, dag, game.bits)
    j, *_ = evaluate(game, jnp.exp(log_pi))
    ctx = _contexts(dag, game.bits)
    log_own = jax.nn.log_softmax(logits, -1)[jnp.arange(n)[None, :], :, ctx, game.bits]  # [A, n, S]

    def best_response(i):
        others = jnp.exp(log_pi - log_own[:, i, :].T)  # [S, A]: the intervened network, a_i fixed
        picks = (game.bits[:, i][None, :] == jnp.arange(2)[:, None]).astype(jnp.float32)  # [2, A]
        weight = others[:, None, :] * picks[None]  # [S, 2, A]
        reward = weight @ game.reward  # [S, 2]
        trans = weight @ game.transition  # [S, 2, S]

        def backup(_, v):
            return jnp.max(reward + game.gamma * trans @ v, axis=1)

        return jnp.mean(jax.lax.fori_loop(0, VALUE_ITERATIONS, backup, jnp.zeros(reward.shape[0])))

    # Clipped at 0: a best response is never worse; float32 round-off can put it 1e-4 below J.
    return jnp.maximum(jnp.max(jax.vmap(best_response)(jnp.arange(n))) - j, 0.0)


def _dag_matrix(dag, num_agents: int) -> np.ndarray:
    if isinstance(dag, str):
        return fixed_dag(dag, num_agents)
    g = np.asarray(dag)
    if g.shape != (num_agents, num_agents) or not np.isin(g, (0, 1)).all():
        raise ValueError(f"dag must be 'full', 'empty' or a 0/1 [{num_agents}, {num_agents}] matrix; got {g.shape}")
    if not bool(is_acyclic(jnp.asarray(g, jnp.float32))):
        raise ValueError("dag has a cycle (or a self-loop): a Bayesian-network policy needs a DAG")
    return g.astype(np.int32)


def exact_policy_gradient(
    num_agents: int,
    dag,
    key: chex.PRNGKey,
    steps: int = 3000,
    lr: float = 8.0,
    eps: float = 0.1,
    gamma: float = 0.95,
    p_one: float = 0.6,
    init_noise: float = 0.1,
    num_checkpoints: int = 20,
    method: str = "pg",
) -> TabularResult:
    r"""Run exact policy-gradient ascent for a BN policy on the tabular coordination game.

    Every agent starts from the same joint policy whatever the DAG: agent ``i`` plays 1 with
    probability ``p_one`` (logit gap :math:`\mathrm{logit}(p_1) + \sigma \xi_{i,s}`, the noise
    :math:`\xi \sim N(0, 1)` drawn from ``key`` per agent and state and shared by all contexts),
    so a full and an empty DAG are compared from one initialisation. With ``p_one > 1/2`` the
    agents lean towards the all-ones trap.

    Args:
        num_agents: 2, 3 or 5.
        dag: ``"full"`` (autoregressive: ``j < i`` are parents of ``i``), ``"empty"``
            (independent policies) or a 0/1 ``[n, n]`` DAG matrix.
        key: PRNG key of the initial noise.
        steps: gradient steps.
        lr: step size of the ascent on :math:`(1 - \gamma) J` (the average reward scale).
        eps: probability that a bit flips against its action.
        gamma: discount.
        p_one: initial probability of action 1.
        init_noise: :math:`\sigma`, the scale of the initial logit noise.
        num_checkpoints: the Nash gap is measured this many times (plus at the start).
        method: ``"pg"``, the exact policy gradient (above), or ``"npg"``, the exact natural
            policy gradient of the tabular conditionals, :math:`\theta_{i,s,c,x} \mathrel{+}= \eta\,
            A_i(s, c, x)` with :math:`A_i(s, c, x) = E[Q | s, a_{\mathrm{Pa}(i)} = c, a_i = x] - E[Q | s, c]`
            (the Fisher of the product of conditionals is block-diagonal per conditional, each
            block weighted by :math:`d(s) P(c | s)`, which the natural gradient removes; Kakade 2001).

    Returns:
        A :class:`TabularResult` (``j``, ``j_star``, ``j_ratio``, ``nash_gap`` and the curves).

    Raises:
        ValueError: ``num_agents`` not in 2, 3, 5, ``eps`` outside [0, 1], an unknown DAG kind,
            a cyclic DAG, or non-positive ``steps``/``num_checkpoints``.
    """
    game = tabular_game(num_agents, eps, gamma)
    g = _dag_matrix(dag, num_agents)
    for name, value in (("steps", steps), ("num_checkpoints", num_checkpoints)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer; got {value!r}")
    if steps < 1 or num_checkpoints < 1:
        raise ValueError(f"steps and num_checkpoints must be positive; got {steps}, {num_checkpoints}")
    if not 0.0 < p_one < 1.0:
        raise ValueError(f"p_one must lie in (0, 1); got {p_one}")
    num_checkpoints = min(int(num_checkpoints), int(steps))
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    natural = method == "npg"
    args = (int(steps), float(lr), float(p_one), float(init_noise), num_checkpoints, natural)
    return _run(game, jnp.asarray(g), key, *args)


def conditional_advantages(logits, dag, bits, policy, q) -> chex.Array:
    r"""``[n, S, C, 2]`` :math:`A_i(s, c, x) = E[Q | s, a_{\mathrm{Pa}(i)} = c, a_i = x] - E[Q | s, c]`
    under the joint ``policy``: the natural-gradient direction of tabular conditionals (zero
    where a context has probability 0)."""
    n, s, c, _ = logits.shape
    ctx = _contexts(dag, bits)  # [A, n]
    cell = jax.nn.one_hot(ctx * 2 + bits, 2 * c)  # [A, n, 2C]: (context, own action) of each agent
    mass = jnp.einsum("sa,aik->isk", policy, cell)
    value = jnp.einsum("sa,aik->isk", policy * q, cell)
    conditional_q = (value / jnp.maximum(mass, 1e-30)).reshape(n, s, c, 2)
    pi_i = jax.nn.softmax(logits, -1)
    advantage = conditional_q - jnp.sum(pi_i * conditional_q, -1, keepdims=True)
    return jnp.where(mass.reshape(n, s, c, 2).sum(-1, keepdims=True) > 0, advantage, 0.0)


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6, 7, 8))
def _run(game, dag, key, steps, lr, p_one, init_noise, num_checkpoints, natural) -> TabularResult:
    n = dag.shape[0]
    s = 2**n
    gap = jnp.log(p_one / (1.0 - p_one)) + init_noise * jax.random.normal(key, (n, s))
    logits = jnp.zeros((n, s, s, 2)).at[..., 1].set(gap[:, :, None])
    j_star = optimal_value(game)

    def surrogate(theta, d, q):
        # The policy gradient theorem with exact d and Q (stopped): its gradient is that of J.
        return jnp.sum(d[:, None] * jnp.exp(joint_policy(theta, dag, game.bits)) * q)

    def step(theta, _):
        policy = jnp.exp(joint_policy(theta, dag, game.bits))
        j, _, q, d = evaluate(game, policy)
        if natural:
            direction = conditional_advantages(theta, dag, game.bits, policy, q)
        else:
            direction = jax.grad(surrogate)(theta, d, q)  # = (1 - gamma) dJ/dtheta
        return theta + lr * direction, j

    def chunk(theta, _):
        theta, js = jax.lax.scan(step, theta, None, steps // num_checkpoints)
        return theta, (js, nash_gap(game, theta, dag))

    start_gap = nash_gap(game, logits, dag)
    logits, (js, gaps) = jax.lax.scan(chunk, logits, None, num_checkpoints)
    rest = steps - num_checkpoints * (steps // num_checkpoints)
    logits, js_rest = jax.lax.scan(step, logits, None, rest)
    policy = jnp.exp(joint_policy(logits, dag, game.bits))
    j, *_ = evaluate(game, policy)
    final_gap = nash_gap(game, logits, dag)
    curve = jnp.concatenate([js.reshape(-1), js_rest, j[None]]) / j_star
    gaps = (
        jnp.concatenate([start_gap[None], gaps[:-1], final_gap[None]])
        if rest == 0
        else jnp.concatenate([start_gap[None], gaps, final_gap[None]])
    )
    at = np.arange(num_checkpoints + 1) * (steps // num_checkpoints)
    at = at if rest == 0 else np.concatenate([at, [steps]])
    return TabularResult(j, j_star, j / j_star, final_gap, curve, gaps, jnp.asarray(at), logits, policy)

"""PSRO with a reinforcement-learning oracle: PPO best responses in two-team environments.

For any registered Jumanji-API env whose agents split into two teams (default: the first and
second half of the agents; ``agent 0`` vs ``agent 1`` in two-player matrix games), PSRO's
population for each team is a set of PPO actor networks, stored as one parameter pytree with
leading axes ``[2, K]`` (``K = max_population`` preallocated slots, ``sizes [2]`` filled).
:func:`make_rl_psro` builds the solver with the contract of every iterative solver
(``init(key)``, ``update(state, payoffs=None)``, ``solve(key, iterations)``); each iteration
(``update``) runs, in this order:

1. **meta-strategy** ``sigma`` from any meta-solver of :mod:`marljax.solvers.psro.meta_solvers`
   on the simulated meta-game of the current population;
2. **oracle** (:func:`~marljax.solvers.psro.oracles.best_response.train_best_responses`): for
   each team, PPO (:mod:`marljax.solvers.learners.ppo`, ``trained_agents`` = the team) trains a
   fresh policy against opponents that play each episode with one policy sampled from the other
   team's meta-strategy (drawn from PPO's per-episode key); one PPO program for both teams when
   they have the same size;
3. **bookkeeping** (:func:`add_best_responses`): the new policies take each team's next slot;
4. **meta-game by simulation** (:func:`~marljax.solvers.psro.oracles.simulation.simulate_meta_game`):
   ``M[t, k_0, k_1]`` = mean episode return of team ``t`` (averaged over its agents) when team 0
   plays policy ``k_0`` and team 1 policy ``k_1``, from ``sims_per_entry`` episodes per entry
   (:func:`marljax.evaluation.play_episodes`, re-simulated each iteration with fresh keys); the
   same episodes give every env metric per entry (``state.meta_metrics``), so each iteration
   also records the env metrics of the meta-strategy it solved (``metrics.env_metrics``:
   ``sigma_0^T metric sigma_1``, e.g. the crash rate of the mixture per iteration);
5. **exploitability by a fresh best response** (:func:`nash_conv_estimate`): the new policy *is*
   a fresh best response to ``sigma``, so
   ``sum_t M'_t(BR_t, sigma_-t) - M_t(sigma)`` estimates the meta-strategy's NashConv.

**Compilation.** Each step is its own jitted piece, compiled once per solver and reused
wherever it recurs: the meta-game simulation (by ``init`` and every ``update``), the
meta-solver (by ``update``, ``meta_strategy`` and the final evaluation), the learners' initial
state (the first population and every oracle). The first iteration's wall-clock is mostly this
compilation, so it is what this layout keeps small; jitting ``update`` whole also works, but
compiles every piece again.

``solve`` loops ``update`` and then plays the final meta-strategy profile
(:func:`~marljax.solvers.psro.oracles.simulation.play_meta_strategy`: each episode, each team
samples a policy from it) for its action frequencies, returns and the env's metrics.
:func:`run_rl_psro` is the public call: it keeps the solver of each set of settings (env
object, meta-solver, population budget, config), so a second run with the same settings
compiles nothing. Policies are feed-forward (the oracle's PPO config must have
``recurrent=False``).

References:
    Lanctot et al., "A Unified Game-Theoretic Approach to Multiagent Reinforcement Learning",
    NeurIPS 2017. Schulman et al., "Proximal Policy Optimization Algorithms", 2017.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jumanji.wrappers import Wrapper

from marljax.checks import check_positive
from marljax.progress import ProgressBar
from marljax.sharding import check_batch_divides
from marljax.solvers.base import verified
from marljax.solvers.learners.ppo import PPOConfig, make_learner
from marljax.solvers.psro.loop import call_cached, check_budget, resolve_meta_solver
from marljax.solvers.psro.meta_solvers import MetaSolver
from marljax.solvers.psro.oracles.best_response import fresh_runners, train_best_response, train_best_responses
from marljax.solvers.psro.oracles.simulation import (
    play_meta_strategy,
    profile_metrics,
    profile_statistics,
    simulate_meta_game,
    team_act,
    team_masks,
)

__all__ = [
    "RLOracleConfig",
    "RLPSROState",
    "RLPSROMetrics",
    "RLPSROResult",
    "RLPSRO",
    "make_rl_psro",
    "run_rl_psro",
    "team_masks",
    "simulate_meta_game",
    "play_meta_strategy",
    "train_best_response",
    "train_best_responses",
    "fresh_runners",
    "add_best_responses",
    "nash_conv_estimate",
    "profile_statistics",
    "profile_metrics",
]


@dataclasses.dataclass(frozen=True)
class RLOracleConfig:
    """The PPO best-response trainer, the meta-game simulation and the final evaluation."""

    ppo: PPOConfig = PPOConfig(
        total_steps=16_384,
        num_envs=32,
        num_steps=16,
        lr=3e-3,
        ent_coef=0.0,
        hidden_size=32,
        update_epochs=4,
        num_minibatches=4,
    )
    sims_per_entry: int = 64  # episodes per meta-game entry
    episode_steps: int | None = None  # default: the env's max_steps
    teams: tuple | None = None  # ((agents of team 0), (agents of team 1)); default: halves
    eval_episodes: int = 256  # episodes that play the final meta-strategy profile
    tolerance: float = 0.05  # success: NashConv estimate <= tolerance * the meta-game's payoff range


@struct.dataclass
class RLPSROState:
    """The populations, their simulated meta-game, and what the last ``update`` saw.

    Attributes:
        actors: actor parameters, every leaf ``[2, K, ...]``.
        sizes: ``[2]`` int32 filled slots per team.
        meta_payoffs: ``[2, K, K]`` simulated meta-game of the current population.
        key: PRNG key for the next iteration.
        meta_strategy: ``[2, K]`` the meta-strategy the last oracles answered (``init``: slot 0).
        nash_conv: ``[]`` its NashConv estimate (0 before the first update).
        best_response_value: ``[2]`` each new policy's return against it (0 before the first update).
        meta_value: ``[2]`` its own value (0 before the first update).
        meta_metrics: ``{name: [K, K]}`` the env's metrics of every pair of slots, from the
            episodes that simulated ``meta_payoffs`` (empty for an env without metrics).
        env_metrics: ``{name: []}`` the env's metrics of ``meta_strategy`` on the meta-game it
            was solved on (``sigma_0^T metric sigma_1``; 0 before the first update).
    """

    actors: chex.ArrayTree
    sizes: chex.Array
    meta_payoffs: chex.Array
    key: chex.PRNGKey
    meta_strategy: chex.Array
    nash_conv: chex.Array
    best_response_value: chex.Array
    meta_value: chex.Array
    meta_metrics: dict = dataclasses.field(default_factory=dict)
    env_metrics: dict = dataclasses.field(default_factory=dict)


@struct.dataclass
class RLPSROMetrics:
    """Per iteration, stacked by ``solve`` (leading axis ``T``)."""

    meta_strategy: chex.Array  # [T, 2, K] the meta-strategy the oracles answered
    nash_conv: chex.Array  # [T] NashConv estimate by the fresh best responses
    best_response_value: chex.Array  # [T, 2] each new policy's return against the meta-strategy
    meta_value: chex.Array  # [T, 2] the meta-strategy's own value
    sizes: chex.Array  # [T, 2] population sizes when the meta-game was solved
    env_metrics: dict = dataclasses.field(default_factory=dict)  # {name: [T]} env metrics of the meta-strategy

    @property
    def exploitability(self) -> chex.Array:
        """PSRO's name for :attr:`nash_conv`."""
        return self.nash_conv


@struct.dataclass
class RLPSROResult:
    """A PSRO run with the PPO oracle.

    Attributes:
        state: the final :class:`RLPSROState` (populations and their simulated meta-game).
        metrics: :class:`RLPSROMetrics` per iteration.
        meta_strategy: ``[2, K]`` meta-strategy of the final population.
        profile: ``(sigma_0 [K], sigma_1 [K])``, that meta-strategy as the mixed profile of the
            meta-game (each team's distribution over its population slots; empty slots get 0).
        nash_conv: ``[]`` NashConv estimate of the last meta-strategy the oracles answered (a
            fresh estimate for the final one would need another round of training).
        success: ``[]`` bool, ``nash_conv <= tolerance * payoff range of the meta-game``.
        action_frequencies: ``[2, A]`` how often each team's agents take each action under the
            final meta-strategy profile (``None`` for continuous actions).
        team_returns: ``[2]`` mean return per agent of each team under that profile.
        env_metrics: ``{name: []}`` the env's metrics of that profile, mean over episodes.
    """

    state: RLPSROState
    metrics: RLPSROMetrics
    meta_strategy: chex.Array
    profile: tuple
    nash_conv: chex.Array
    success: chex.Array
    action_frequencies: chex.Array | None
    team_returns: chex.Array
    env_metrics: dict

    @property
    def exploitability(self) -> chex.Array:
        """PSRO's name for :attr:`nash_conv`."""
        return self.nash_conv


class RLPSRO(NamedTuple):
    """PSRO with the PPO oracle as pure functions (built by :func:`make_rl_psro`)."""

    init: Callable  # (key) -> RLPSROState
    update: Callable  # (state, payoffs=None) -> RLPSROState
    solve: Callable  # (key, iterations, progress=False) -> RLPSROResult
    evaluate: Callable  # (state, key) -> (meta_strategy [2, K], EpisodeBatch of that profile)
    meta_strategy: Callable  # (state) -> [2, K] the meta-solver on the state's meta-game


# --------------------------------------------------------------------------- bookkeeping


def slot_masks(sizes: chex.Array, max_population: int) -> chex.Array:
    """``[2, K]`` bool: the filled slots."""
    return jnp.arange(max_population)[None, :] < sizes[:, None]


def initial_population(first: chex.ArrayTree, max_population: int) -> chex.ArrayTree:
    """Leaves ``[2, K, ...]``: every slot of team ``t`` holds ``first[t]`` (leaves ``[2, ...]``;
    empty slots repeat it)."""
    return jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x[:, None], (2, max_population) + x.shape[1:]), first)


def add_best_responses(actors: chex.ArrayTree, sizes: chex.Array, responses: chex.ArrayTree) -> tuple:
    """``(actors, sizes, new_slot [2])``: each team's response (``responses`` leaves ``[2, ...]``)
    in its next slot (the last slot is overwritten once the population is full)."""
    max_population = jax.tree_util.tree_leaves(actors)[0].shape[1]
    new_slot = jnp.minimum(sizes, max_population - 1)
    actors = jax.tree_util.tree_map(lambda pop, r: pop.at[jnp.arange(2), new_slot].set(r), actors, responses)
    return actors, jnp.minimum(sizes + 1, max_population), new_slot


def nash_conv_estimate(old_meta: chex.Array, new_meta: chex.Array, sigma: chex.Array, new_slot: chex.Array) -> tuple:
    """``(nash_conv, best_response_value [2], meta_value [2])`` of ``sigma``.

    ``meta_value[t] = sigma_0^T M_t sigma_1`` on the meta-game ``sigma`` was solved on;
    ``best_response_value[t]`` is the fresh best response's value against ``sigma_-t`` in the
    re-simulated meta-game, and ``nash_conv = sum_t (best_response_value[t] - meta_value[t])``.
    """
    meta_value = jnp.stack([sigma[0] @ old_meta[t] @ sigma[1] for t in range(2)])
    br_value = jnp.stack([new_meta[0, new_slot[0]] @ sigma[1], sigma[0] @ new_meta[1][:, new_slot[1]]])
    return jnp.sum(br_value - meta_value), br_value, meta_value


# --------------------------------------------------------------------------- wiring


class _StaticSizes(Wrapper):
    """The env with its sizes read once, outside jit: the PPO learners are built inside the
    jitted iteration (their opponents close over the traced population), where a size computed
    with ``jnp`` would be a tracer."""

    def __init__(self, env):
        super().__init__(env)
        self._num_actions = int(env.num_actions)

    @property
    def num_actions(self) -> int:
        return self._num_actions


def make_rl_psro(
    env, meta_solver: MetaSolver, max_population: int, config: RLOracleConfig = RLOracleConfig(), mesh=None
) -> RLPSRO:
    """PSRO with PPO best responses on a two-team ``env``, with the solvers' ``init``/``update``/``solve``.

    ``update(state, payoffs=None)`` keeps the ``update(state, <game>)`` order of every solver, so
    code that steps any solver reads the same. Its second argument is where the others take the
    game's payoff tensor; an env game has none to pass: the game is the ``env`` the solver is built
    on (a Python object with static sizes, which cannot be a traced argument), and its meta-game
    is estimated by simulation inside ``update`` and carried in ``state.meta_payoffs``. So it must
    be ``None``; anything else is a ``ValueError`` (silently ignoring a tensor would be wrong).

    Args:
        env: a registered env whose agents split into two teams (``config.teams``).
        meta_solver: ``(meta_payoffs [2, K, K], masks [2, K]) -> [2, K]``.
        max_population: ``K``, slots per team.
        config: the oracle, simulation and evaluation settings.
        mesh: a 1-D :func:`marljax.sharding.batch_mesh`: the PPO best responses split their env
            axis (``config.ppo.num_envs``, a multiple of its size) and the meta-game simulation its
            ``K^2`` entries over its devices; the results equal one device's to float tolerance.

    Returns:
        An :class:`RLPSRO`: ``init(key)``, ``update(state, payoffs=None)`` (one PSRO iteration,
        in the order of the module docstring, from jitted pieces compiled once per solver: call
        it as it is), ``solve(key, iterations, progress=False)`` (``init``, then ``iterations``
        updates from the host, then the final profile played: an :class:`RLPSROResult`),
        ``evaluate(state, key)`` (the final meta-strategy and an
        :class:`marljax.evaluation.EpisodeBatch` of its profile, with action counts as tally for
        discrete actions) and ``meta_strategy(state)`` (the meta-solver on ``state``'s
        meta-game: the meta-strategy the next ``update`` answers).

    Raises:
        ValueError: bad teams, sizes, tolerance or PPO config, or an env without ``max_steps``
            (``solve``: an iteration budget above ``max_population - 1``).
    """
    env = _StaticSizes(env)
    check_positive(
        max_population=max_population, sims_per_entry=config.sims_per_entry, eval_episodes=config.eval_episodes
    )
    if not config.tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0; got {config.tolerance!r}")
    if config.ppo.recurrent:
        raise ValueError("the RL oracle's population policies are feed-forward: set ppo.recurrent=False")
    check_batch_divides(config.ppo.num_envs, mesh, "ppo.num_envs")
    steps = config.episode_steps or getattr(env, "max_steps", None)
    if not steps:
        raise ValueError(f"{env!r} has no max_steps: pass RLOracleConfig(episode_steps=...)")
    masks = team_masks(env.num_agents, config.teams)
    members = [tuple(int(a) for a in np.flatnonzero(m)) for m in masks]
    team_of = jnp.asarray(masks)
    uniform_opponent = lambda key, obs, episode_key: jnp.zeros((env.num_agents,), jnp.int32)  # noqa: E731 (init only)
    actor = make_learner(dataclasses.replace(config.ppo, trained_agents=members[0]), env, uniform_opponent)

    # One actor network's policy, and the play_episodes policies built on it (built once, so
    # play_episodes' compilation is reused).
    def act(params, observation, key):
        num_envs = jax.tree_util.tree_leaves(observation)[0].shape[0]
        carry = actor.initial_carry(num_envs)["actor"]
        reset = jnp.zeros((num_envs, env.num_agents), bool)
        return actor.act({"actor": params}, carry, observation, reset, key)[1]

    def act_one(params, observation, key):
        return act(params, jax.tree_util.tree_map(lambda x: x[None], observation), key)[0]

    def pair_policy(pair, observation, first, key):
        return pair, team_act(act, team_of, pair, observation, key)

    def sampled_policy(carry, observation, first, key):
        actors, slots = carry  # each episode's pair of slots [E, 2]
        pairs = jax.tree_util.tree_map(lambda x: x[jnp.arange(2)[None, :], slots], actors)  # leaves [E, 2, ...]
        keys = jax.random.split(key, slots.shape[0])
        one_env = lambda pair, obs, k: team_act(act_one, team_of, pair, obs, k)  # noqa: E731
        return carry, jax.vmap(one_env)(pairs, observation, keys)

    tally = None
    if env.action_type != "continuous":
        num_actions = env.num_actions

        def tally(action, timestep):  # [E, 2, A] action counts per team
            return jnp.einsum("tn,ena->eta", team_of.astype(jnp.float32), jax.nn.one_hot(action, num_actions))

    # The iteration's pieces, each jitted once per solver and reused wherever it recurs (the
    # meta-game simulation by init and every update, the meta-solver by update, the benchmarks
    # and the final evaluation), so XLA compiles each piece once. Jitting init or update whole
    # also works (the pieces inline), but compiles them all again.
    @jax.jit
    def fresh(keys):
        return fresh_runners(config.ppo, env, members, keys, mesh)

    @jax.jit
    def populate(runners):
        return initial_population(runners.params["actor"], max_population)

    @jax.jit
    def simulate(actors, key):
        return simulate_meta_game(env, pair_policy, team_of, actors, key, config.sims_per_entry, steps, mesh)

    @jax.jit
    def solve_meta(meta_payoffs, sizes):
        return meta_solver(meta_payoffs, slot_masks(sizes, max_population))

    @jax.jit
    def respond(state: RLPSROState, sigma, runners):
        responses = train_best_responses(config.ppo, env, members, act_one, state.actors, sigma, runners, mesh)
        return add_best_responses(state.actors, state.sizes, responses)

    @jax.jit
    def start(actors, key, meta, meta_metrics) -> RLPSROState:
        zeros = jnp.zeros((2,), meta.dtype)
        return RLPSROState(
            actors=actors,
            sizes=jnp.ones((2,), jnp.int32),
            meta_payoffs=meta,
            key=key,
            meta_strategy=jnp.zeros((2, max_population), meta.dtype).at[:, 0].set(1.0),
            nash_conv=jnp.zeros((), meta.dtype),
            best_response_value=zeros,
            meta_value=zeros,
            meta_metrics=meta_metrics,
            env_metrics={name: jnp.zeros((), meta.dtype) for name in meta_metrics},
        )

    @jax.jit
    def record(state: RLPSROState, sigma, actors, sizes, new_slot, key, meta, meta_metrics) -> RLPSROState:
        nash_conv, br_value, meta_value = nash_conv_estimate(state.meta_payoffs, meta, sigma, new_slot)
        env_metrics = profile_metrics(state.meta_metrics, sigma)  # sigma's metrics where it was solved
        return RLPSROState(actors, sizes, meta, key, sigma, nash_conv, br_value, meta_value, meta_metrics, env_metrics)

    @jax.jit
    def play(actors, sigma, key):
        return play_meta_strategy(env, sampled_policy, actors, sigma, key, config.eval_episodes, steps, tally)

    @jax.jit
    def statistics(state: RLPSROState, batch) -> dict:
        return {
            "nash_conv": state.nash_conv,
            "success": verified(state.nash_conv, state.meta_payoffs, config.tolerance),
            **profile_statistics(batch, team_of),
        }

    def init(key) -> RLPSROState:
        init_key, sim_key, key = jax.random.split(key, 3)
        actors = populate(fresh(jax.random.split(init_key, 2)))
        return start(actors, key, *simulate(actors, sim_key))

    def meta_strategy(state: RLPSROState) -> chex.Array:
        return solve_meta(state.meta_payoffs, state.sizes)

    def update(state: RLPSROState, payoffs=None) -> RLPSROState:
        if payoffs is not None:
            raise ValueError(
                "the RL oracle's game is the env it was built on, whose meta-game update simulates "
                "(state.meta_payoffs): call update(state) or update(state, None), not with a payoff tensor"
            )
        sigma = meta_strategy(state)
        keys = jax.random.split(state.key, 4)  # next iteration's, team 0's and 1's learners', simulation's
        actors, sizes, new_slot = respond(state, sigma, fresh(keys[1:3]))
        return record(state, sigma, actors, sizes, new_slot, keys[0], *simulate(actors, keys[3]))

    def evaluate(state: RLPSROState, key):
        sigma = meta_strategy(state)
        return sigma, play(state.actors, sigma, key)

    def finish(state: RLPSROState, key) -> dict:
        """The result's fields that the final state and meta-strategy give."""
        sigma, batch = evaluate(state, key)
        return {"meta_strategy": sigma, "profile": (sigma[0], sigma[1]), **statistics(state, batch)}

    def solve(key, iterations: int, progress: bool = False) -> RLPSROResult:
        check_budget(max_population, iterations)
        init_key, eval_key = jax.random.split(key)
        state = init(init_key)
        history = []
        with ProgressBar(iterations, "PSRO (PPO oracle)", unit="it", enabled=progress) as bar:
            for _ in range(iterations):
                sizes = state.sizes
                state = update(state)
                history.append(
                    RLPSROMetrics(
                        state.meta_strategy,
                        state.nash_conv,
                        state.best_response_value,
                        state.meta_value,
                        sizes,
                        state.env_metrics,
                    )
                )
                bar.update(nash_conv=state.nash_conv)
        metrics = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *history)
        return RLPSROResult(state=state, metrics=metrics, **finish(state, eval_key))

    return RLPSRO(init, update, solve, evaluate, meta_strategy)


def run_rl_psro(
    env,
    meta_solver: str | MetaSolver = "nash",
    iterations: int = 3,
    key: chex.PRNGKey | None = None,
    config: RLOracleConfig = RLOracleConfig(),
    max_population: int | None = None,
    progress: bool = False,
    mesh=None,
    **meta_options,
) -> RLPSROResult:
    """Run PSRO with PPO best responses on ``env`` (a registered two-team env): the ``solve`` of
    :func:`make_rl_psro`'s solver, kept per set of settings (the env object, the meta-solver and
    its options, ``max_population``, ``config``), so a second call with the same settings compiles
    nothing (an env is keyed by identity: reuse the object; an unhashable setting builds afresh).

    Args:
        env: the env.
        meta_solver: a meta-solver name (options in ``meta_options``) or a function
            ``(meta_payoffs, masks) -> [2, K]``.
        iterations: PSRO iterations (positive).
        key: PRNG key (default ``PRNGKey(0)``).
        config: the oracle, simulation and evaluation settings.
        max_population: slots per team (default ``iterations + 1``).
        progress: show a progress bar with the NashConv estimate.
        mesh: split the PPO env batch and the meta-game entries over its devices (:func:`make_rl_psro`).

    Returns:
        An :class:`RLPSROResult` (populations, per-iteration metrics, final meta-strategy and its
        ``profile`` over population slots, its NashConv estimate and success, and how its profile
        plays: action frequencies, team returns, env metrics).

    Raises:
        ValueError: a bad budget, meta-solver name or option, or config (see :func:`make_rl_psro`).

    >>> import marljax
    >>> result = run_rl_psro(marljax.make("matrix/StagHunt-v0"), "nash", 3, jax.random.PRNGKey(0))
    >>> result.meta_strategy, result.action_frequencies, result.env_metrics
    """
    max_population = iterations + 1 if max_population is None else max_population
    check_budget(max_population, iterations)
    key = jax.random.PRNGKey(0) if key is None else key
    if isinstance(config.teams, (list, tuple)) and all(isinstance(t, (list, tuple)) for t in config.teams):
        config = dataclasses.replace(config, teams=tuple(map(tuple, config.teams)))  # lists: still a cache key
    # ``nash`` is the zero-sum LP only for a matrix env whose payoff tensor is zero-sum; for other
    # envs (simulated meta-games are general-sum) it is Lemke-Howson.
    meta_solver = resolve_meta_solver(meta_solver, getattr(env, "payoffs", None), **meta_options)
    solver = call_cached(_cached_rl_psro, env, meta_solver, max_population, config, mesh)
    return solver.solve(key, iterations, progress)


@functools.lru_cache(maxsize=8)
def _cached_rl_psro(env, meta_solver, max_population: int, config: RLOracleConfig, mesh=None) -> RLPSRO:
    """:func:`make_rl_psro` once per settings, with its jitted functions (and their compilations)."""
    return make_rl_psro(env, meta_solver, max_population, config, mesh)

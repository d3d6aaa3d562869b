"""marljax envs as PettingZoo ``ParallelEnv``s: ``to_pettingzoo(env, num_envs=1, seed=0)``.

PyTorch learners (BenchMARL, TorchRL, RLlib) speak PettingZoo's parallel API (Terry et al. 2021,
"PettingZoo: Gym for Multi-Agent Reinforcement Learning"). The bridge keeps the env in JAX: one
jitted ``reset`` and one jitted ``step`` per env object, and only the results cross to NumPy.

- **Agents** by name: a JaxMARL-bridged env keeps JaxMARL's names; other envs name agent ``i``
  ``"<kind>_<i>"`` with ``kind`` its ``agent_type`` (``agent`` when all agents are alike, else
  ``type0``, ``type1``, ...).
- **Spaces** (Gymnasium) from the specs: ``observation_space(agent)`` is a ``Box`` of the
  agent's ``agents_view`` row (the spec's bounds if it has them); ``action_space(agent)`` is
  ``Discrete(num_values[i])`` or the agent's row of the continuous ``Box``.
- **Masks** in ``infos[agent]["action_mask"]`` (``int8 [num_values[i]]``, 1 = allowed), where
  PettingZoo's parallel envs (and their consumers) look for them; ``infos[agent]["metrics"]``
  holds the env's metrics of the step.
- **Episode end**: at the env's ``LAST`` step every agent is terminated (discount 0) or truncated
  (discount > 0) and ``agents`` empties; ``reset`` starts the next episode. ``state()`` is the
  env's ``global_state`` row of the first agent.
- **Batched** (``num_envs > 1``, :class:`PettingZooVectorEnv`): the same dicts with a leading
  ``[num_envs]`` axis, envs reset automatically (the finished episode's last observation is
  in ``infos[agent]["final_observation"]``) and ``agents`` always lists every agent.
"""

from __future__ import annotations

import functools
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np

from marljax.bridges.jaxmarl import MissingExtraError
from marljax.types import StepType
from marljax.wrappers import AutoResetWrapper

try:
    import gymnasium
    from pettingzoo.utils.env import ParallelEnv
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError(
        f"marljax.bridges.to_pettingzoo needs pettingzoo and gymnasium ({err}); "
        "install them with: pip install 'marljax[pettingzoo]'"
    ) from None

__all__ = ["to_pettingzoo", "PettingZooParallelEnv", "PettingZooVectorEnv", "agent_names", "FAST_COMPILE"]

#: XLA options that compile about a third faster for slower code: for a few steps (an API check).
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def to_pettingzoo(
    env, num_envs: int = 1, seed: int = 0, name: str | None = None, jit: bool = True, compiler_options=None
):
    """A PettingZoo parallel env that steps the jitted marljax ``env``.

    Args:
        env: a marljax env (``marljax.make(...)``), unwrapped.
        num_envs: 1 for a ``ParallelEnv``; more for a :class:`PettingZooVectorEnv` whose arrays
            carry a leading ``[num_envs]`` axis and whose envs reset automatically.
        seed: seed of the PRNG key that resets draw from (``reset(seed=...)`` replaces it).
        name: the env's name in ``metadata["name"]`` (default: its class name).
        jit: compile ``reset`` and ``step`` (``False`` runs them op by op).
        compiler_options: XLA options for those compilations (``jax.jit``'s), e.g.
            :data:`FAST_COMPILE` for a handful of steps, where compiling costs more than stepping.

    Returns:
        :class:`PettingZooParallelEnv` or :class:`PettingZooVectorEnv`.

    Raises:
        ValueError: ``num_envs`` is not a positive integer or ``seed`` is not an integer.
    """
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer; got {num_envs!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    if num_envs == 1:
        return PettingZooParallelEnv(env, int(seed), name, jit, compiler_options)
    return PettingZooVectorEnv(env, int(num_envs), int(seed), name, jit, compiler_options)


def agent_names(env, first_agent_types=None) -> list[str]:
    """The agents' names: ``env.agent_names`` if the env has them, else ``<kind>_<i>``.

    ``first_agent_types()`` gives the ``[N]`` agent types of a first observation (default: a
    jitted ``env.reset``); it is called only when the env has several kinds of agents."""
    names = getattr(env, "agent_names", None)
    if names is not None:
        return [str(a) for a in names]
    spec = env.observation_spec.agent_type
    num_types = int(np.asarray(spec.maximum)) + 1
    if num_types == 1:
        return [f"agent_{i}" for i in range(env.num_agents)]
    if first_agent_types is None:
        kinds = np.asarray(jax.jit(env.reset)(jax.random.PRNGKey(0))[1].observation.agent_type)
    else:
        kinds = np.asarray(first_agent_types())
    return [f"type{int(k)}_{i}" for i, k in enumerate(kinds)]


def _row(bound, shape, i):
    """Agent ``i``'s row of a spec bound that is a scalar or a ``[N, ...]`` array."""
    bound = np.asarray(bound, np.float32)
    return np.broadcast_to(bound, shape)[i] if bound.ndim else np.full(shape[1:], bound, np.float32)


class _Bridge:
    """What the single and the batched bridge share: names, spaces, action assembly."""

    def __init__(self, env, seed: int, name: str | None):
        self.env = env
        self.metadata = {"name": name or type(env).__name__, "render_modes": [], "is_parallelizable": True}
        self.render_mode = None
        self._key = jax.random.PRNGKey(seed)
        self._discrete = env.action_type == "discrete"
        spec = env.action_spec
        self._num_values = np.asarray(spec.num_values, np.int64) if self._discrete else None

    @cached_property
    def possible_agents(self) -> list:
        # Named from the first observation's agent types, read with the bridge's own compiled reset.
        return agent_names(self.env, self._first_agent_types)

    def _first_agent_types(self):
        raise NotImplementedError

    @cached_property
    def _observation_spaces(self) -> dict:
        spec = self.env.observation_spec.agents_view
        shape = tuple(spec.shape)
        bounded = hasattr(spec, "minimum")
        spaces = {}
        for i, agent in enumerate(self.possible_agents):
            low = _row(spec.minimum, shape, i) if bounded else np.full(shape[1:], -np.inf, np.float32)
            high = _row(spec.maximum, shape, i) if bounded else np.full(shape[1:], np.inf, np.float32)
            spaces[agent] = gymnasium.spaces.Box(low, high, shape[1:], np.float32)
        return spaces

    @cached_property
    def _action_spaces(self) -> dict:
        if self._discrete:
            return {a: gymnasium.spaces.Discrete(int(n)) for a, n in zip(self.possible_agents, self._num_values)}
        spec = self.env.action_spec
        shape = tuple(spec.shape)
        return {
            a: gymnasium.spaces.Box(_row(spec.minimum, shape, i), _row(spec.maximum, shape, i), shape[1:], np.float32)
            for i, a in enumerate(self.possible_agents)
        }

    def observation_space(self, agent):
        return self._observation_spaces[agent]

    def action_space(self, agent):
        return self._action_spaces[agent]

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    @property
    def max_num_agents(self) -> int:
        return len(self.possible_agents)

    def _joint_action(self, actions: dict, batch: tuple) -> np.ndarray:
        """The ``[*batch, N(, d)]`` joint action; an agent without an action plays 0 (one that
        has finished its episode)."""
        unknown = set(actions) - set(self.possible_agents)
        if unknown:
            raise ValueError(f"actions for unknown agents {sorted(unknown)}; agents: {self.possible_agents}")
        spec = self.env.action_spec
        dtype = np.int32 if self._discrete else np.float32
        joint = np.zeros((*batch, *spec.shape), dtype)
        for i, agent in enumerate(self.possible_agents):
            if agent in actions:
                value = np.asarray(actions[agent])
                if self._discrete and not np.issubdtype(value.dtype, np.integer):
                    raise ValueError(f"action of {agent} has dtype {value.dtype}; discrete actions are integers")
                joint[(slice(None),) * len(batch) + (i,)] = value
        return joint

    def _infos(self, observation, metrics: dict) -> dict:
        mask = np.asarray(observation.action_mask)
        infos = {}
        for i, agent in enumerate(self.possible_agents):
            info = {"metrics": metrics}
            if self._discrete:
                info["action_mask"] = mask[..., i, : int(self._num_values[i])].astype(np.int8)
            infos[agent] = info
        return infos

    def close(self) -> None:
        pass

    def render(self):
        return None


class PettingZooParallelEnv(_Bridge, ParallelEnv):
    """One marljax env behind PettingZoo's ``ParallelEnv`` API (see the module docstring)."""

    def __init__(self, env, seed: int = 0, name: str | None = None, jit: bool = True, compiler_options=None):
        super().__init__(env, seed, name)
        self.agents = []
        compile_ = functools.partial(jax.jit, compiler_options=compiler_options) if jit else (lambda f: f)
        self._reset_env = compile_(env.reset)
        self._step_env = compile_(env.step)
        self._state = None
        self._global_state = None

    def _first_agent_types(self):
        return self._reset_env(jax.random.PRNGKey(0))[1].observation.agent_type

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._key = jax.random.PRNGKey(seed)
        self._key, key = jax.random.split(self._key)
        self._state, timestep = self._reset_env(key)
        self.agents = list(self.possible_agents)
        observations, _, _, _, infos = self._convert(timestep)
        return observations, infos

    def step(self, actions: dict):
        if not self.agents:
            raise ValueError("step() after the episode ended; call reset() first")
        action = self._joint_action(actions, ())
        self.env.check_action(action)
        self._state, timestep = self._step_env(self._state, jnp.asarray(action))
        observations, rewards, terminations, truncations, infos = self._convert(timestep)
        if any(terminations.values()) or any(truncations.values()):
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        if self._global_state is None:
            raise ValueError("state() before reset()")
        return self._global_state

    def _convert(self, timestep):
        timestep = jax.device_get(timestep)
        obs = timestep.observation
        self._global_state = np.asarray(obs.global_state[0])
        last = int(timestep.step_type) == int(StepType.LAST)
        discount = np.asarray(timestep.discount)
        reward = np.asarray(timestep.reward)
        metrics = {k: float(v) for k, v in timestep.extras.get("metrics", {}).items()}
        views = np.asarray(obs.agents_view, np.float32)
        observations = {a: views[i] for i, a in enumerate(self.possible_agents)}
        rewards = {a: float(reward[i]) for i, a in enumerate(self.possible_agents)}
        terminations = {a: bool(last and discount[i] == 0.0) for i, a in enumerate(self.possible_agents)}
        truncations = {a: bool(last and discount[i] != 0.0) for i, a in enumerate(self.possible_agents)}
        return observations, rewards, terminations, truncations, self._infos(obs, metrics)


class PettingZooVectorEnv(_Bridge):
    """``num_envs`` copies of a marljax env stepped together (one jitted, vmapped step).

    The parallel API with a leading ``[num_envs]`` axis on every value: ``reset`` returns
    ``({agent: [B, ...]}, infos)``; ``step({agent: [B] or [B, d]})`` returns observations,
    rewards ``[B]``, terminations and truncations ``[B]`` bool and infos; a finished env resets
    at once (its last observation in ``infos[agent]["final_observation"]``). ``agents`` always
    lists every agent.
    """

    def __init__(
        self, env, num_envs: int, seed: int = 0, name: str | None = None, jit: bool = True, compiler_options=None
    ):
        super().__init__(env, seed, name)
        self.num_envs = num_envs
        auto = AutoResetWrapper(env, next_obs_in_extras=True)
        compile_ = functools.partial(jax.jit, compiler_options=compiler_options) if jit else (lambda f: f)
        self._reset_env = compile_(jax.vmap(env.reset))
        self._step_env = compile_(jax.vmap(auto.step))
        self._state = None
        self.agents = list(self.possible_agents)

    def _first_agent_types(self):
        keys = jax.random.split(jax.random.PRNGKey(0), self.num_envs)
        return self._reset_env(keys)[1].observation.agent_type[0]

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._key = jax.random.PRNGKey(seed)
        self._key, key = jax.random.split(self._key)
        self._state, timestep = self._reset_env(jax.random.split(key, self.num_envs))
        timestep = jax.device_get(timestep)
        views = np.asarray(timestep.observation.agents_view, np.float32)
        observations = {a: views[:, i] for i, a in enumerate(self.possible_agents)}
        return observations, self._infos(timestep.observation, self._metrics(timestep))

    def step(self, actions: dict):
        if self._state is None:
            raise ValueError("step() before reset()")
        action = self._joint_action(actions, (self.num_envs,))
        self._state, timestep = self._step_env(self._state, jnp.asarray(action))
        timestep = jax.device_get(timestep)
        obs = timestep.observation
        last = np.asarray(timestep.step_type) == int(StepType.LAST)
        discount = np.asarray(timestep.discount)
        views = np.asarray(obs.agents_view, np.float32)
        final_views = np.asarray(timestep.extras["next_obs"].agents_view, np.float32)
        infos = self._infos(obs, self._metrics(timestep))
        observations, rewards, terminations, truncations = {}, {}, {}, {}
        for i, a in enumerate(self.possible_agents):
            observations[a] = views[:, i]
            rewards[a] = np.asarray(timestep.reward[:, i], np.float32)
            terminations[a] = last & (discount[:, i] == 0.0)
            truncations[a] = last & (discount[:, i] != 0.0)
            infos[a]["final_observation"] = final_views[:, i]
        return observations, rewards, terminations, truncations, infos

    @staticmethod
    def _metrics(timestep) -> dict:
        return {k: np.asarray(v) for k, v in timestep.extras.get("metrics", {}).items()}

    def state(self) -> np.ndarray:
        raise NotImplementedError("the batched bridge has no single global state; read each env's")

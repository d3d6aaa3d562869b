"""JaxMARL's environments as marljax envs: ``marljax.make("jaxmarl/<JaxMARL name>", **kwargs)``.

Source: Rutherford et al. 2024, "JaxMARL: Multi-Agent RL Environments and Algorithms in JAX"
(package ``jaxmarl``, an optional extra: ``pip install marljax[jaxmarl]``). The bridge wraps the
env that ``jaxmarl.make(name, **kwargs)`` builds and changes only the interface:

- **Agents**: JaxMARL's ``env.agents`` in order, the leading agent axis (``agent_names``).
- **Observation** ``agents_view [N, ...]`` float32: each agent's observation; agents whose
  observations differ in size are flattened and zero-padded to the largest, and
  ``agent_type`` tells them apart (JaxMARL's ``agent_classes`` where the env defines them,
  otherwise the agent name without its index: ``adversary_0`` -> ``adversary``).
  ``action_mask [N, A]``: JaxMARL's ``get_avail_actions`` where the env has it, and for every
  agent the actions its own space lacks hidden. ``global_state [N, G]``: JaxMARL's
  ``world_state`` (the observation entry, or ``get_world_state``) where the env has one,
  otherwise every agent's view concatenated.
- **Action**: discrete ``[N]`` int32, agent ``i`` choosing among its own ``Discrete(n_i)``
  (out-of-range actions are clipped inside jit); continuous ``[N, d]`` float32 (``Box``
  spaces, padded to the widest; an agent reads its first ``d_i`` columns).
- **Reward** ``[N]`` float32, JaxMARL's per-agent rewards.
- **Termination**: the episode ends when JaxMARL's ``dones["__all__"]`` is set; at or after the
  env's own ``max_steps`` that is a truncation (discount 1, learners bootstrap), before it a
  termination (discount 0). ``max_steps`` here is JaxMARL's plus one (JaxMARL's MPE ends after
  ``max_steps + 1`` steps); an env without one is truncated after ``DEFAULT_MAX_STEPS``.
- **Metrics**: every scalar leaf of the env's own ``info`` dict, named by its path
  (``shaped_reward/agent_0``), aggregated by ``"sum"`` over the episode.

The env runs through JaxMARL's ``step_env`` (no JaxMARL auto-reset: marljax's wrappers reset)
with the PRNG key carried in ``state.key``; nothing else is added to the step.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import io
import os
import re
import sys
from functools import cached_property
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.types import StepType, TimeStep

from marljax.env import MultiAgentEnv, observation_spec

__all__ = [
    "JaxMARLEnv",
    "import_jaxmarl",
    "JaxMARLState",
    "MissingExtraError",
    "jaxmarl_env_names",
    "make_jaxmarl",
    "PREFIX",
]

PREFIX = "jaxmarl/"
DEFAULT_MAX_STEPS = 1000
EXTRA = "jaxmarl"

# JaxMARL names the bridge cannot take, and why (their observations are not one array per agent).
UNSUPPORTED = {
    "storm": "observations are a dict of team arrays, not one array per agent",
    "storm_2p": "observations are a dict of team arrays, not one array per agent",
    "storm_np": "observations are a dict of team arrays, not one array per agent",
    "LearnedPolicyEnemySMAX": "needs a trained enemy policy's parameters",
}
MABRAX = ("ant_4x2", "halfcheetah_6x1", "hopper_3x1", "humanoid_9|8", "walker2d_2x3")


class MissingExtraError(ImportError, ValueError):
    """An optional dependency is missing; the message names the extra that installs it.

    A ``ValueError`` too, so the CLI reports it as one line like any other bad input."""


@contextlib.contextmanager
def _quiet_stdout():
    """Silence standard output, at the file-descriptor level too: importing JaxMARL prints, and
    something it imports swaps ``sys.stdout`` so that a ``redirect_stdout`` alone misses it."""
    stdout = sys.stdout
    try:
        fd = sys.__stdout__.fileno()
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):  # no real stdout (a notebook)
        with contextlib.redirect_stdout(io.StringIO()):
            yield
        return
    for stream in (sys.stdout, sys.__stdout__):
        stream.flush()
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        for stream in (sys.stdout, sys.__stdout__):
            stream.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)
        sys.stdout = stdout


def import_jaxmarl():
    """Import ``jaxmarl`` quietly (it prints while importing) or say which extra installs it."""
    if "jaxmarl" in sys.modules and sys.modules["jaxmarl"] is not None:
        return sys.modules["jaxmarl"]
    try:
        with _quiet_stdout():
            import jaxmarl
    except ImportError as err:
        raise MissingExtraError(
            f"JaxMARL envs need the optional dependency 'jaxmarl' ({err}); "
            f"install it with: pip install 'marljax[{EXTRA}]'"
        ) from None
    return jaxmarl


def jaxmarl_env_names() -> list[str]:
    """The JaxMARL env names the bridge can wrap here (``jaxmarl/`` prefix left off)."""
    jaxmarl = import_jaxmarl()
    from jaxmarl.environments import MABRAX_AVAILABLE, SUBMODULE_ENVIRONMENTS

    names = []
    for name in jaxmarl.registered_envs:
        if name in UNSUPPORTED or (name in MABRAX and not MABRAX_AVAILABLE):
            continue
        if name.startswith("JaxRobotarium") and not SUBMODULE_ENVIRONMENTS:
            continue
        names.append(name)
    return names


def check_name(name: str) -> None:
    from marljax.registry import UnknownEnvError

    known = import_jaxmarl().registered_envs
    if name in UNSUPPORTED:
        raise ValueError(f"jaxmarl/{name} cannot be wrapped: {UNSUPPORTED[name]}")
    if name in MABRAX and name not in jaxmarl_env_names():
        raise MissingExtraError(f"jaxmarl/{name} is a MABrax env and needs brax: pip install 'jaxmarl[mabrax]'")
    if name.startswith("JaxRobotarium") and name in known and name not in jaxmarl_env_names():
        raise MissingExtraError(f"jaxmarl/{name} needs JaxMARL's submodule environments (jaxrobotarium)")
    if name not in jaxmarl_env_names():
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(PREFIX + c for c in close)}?" if close else ""
        listing = "\n  ".join(PREFIX + n for n in jaxmarl_env_names())
        raise UnknownEnvError(
            f"unknown JaxMARL env {PREFIX + name!r}.{hint} JaxMARL envs the bridge wraps:\n  {listing}"
        )


def jaxmarl_class(name: str):
    """The JaxMARL class ``jaxmarl.make(name)`` builds (read from its ``make``'s dispatch), or None."""
    import_jaxmarl()
    from jaxmarl import registration

    source = inspect.getsource(registration.make)
    found = re.search(rf'env_id == "{re.escape(name)}"\s*:\s*\n\s*env = (\w+)\(', source)
    return getattr(registration, found.group(1), None) if found else None


def describe_jaxmarl(name: str) -> str:
    """One line about a JaxMARL env: its class and the first line of its docstring."""
    cls = jaxmarl_class(name)
    own = inspect.cleandoc(cls.__dict__.get("__doc__") or "") if cls is not None else ""  # not the base's
    first = " ".join(own.split("\n\n")[0].split()).split(". ")[0].rstrip(".:")
    label = cls.__name__ if cls is not None else name
    return f"JaxMARL {label} via the bridge" + (f": {first}" if first else "")


def make_jaxmarl(name: str, **kwargs) -> "JaxMARLEnv":
    """``JaxMARLEnv(jaxmarl.make(name, **kwargs))``. SMAX's ``scenario`` may be a map name ("3m")."""
    check_name(name)
    jaxmarl = import_jaxmarl()
    if isinstance(kwargs.get("scenario"), str):
        from jaxmarl.environments.smax import map_name_to_scenario

        kwargs["scenario"] = map_name_to_scenario(kwargs["scenario"])
    try:
        env = jaxmarl.make(name, **kwargs)
    except AssertionError as err:  # JaxMARL checks its arguments with assert
        raise ValueError(f"JaxMARL rejects {kwargs}: {err}") from None
    return JaxMARLEnv(env, name=name)


@chex.dataclass
class JaxMARLState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32
    env_state: Any  # JaxMARL's own state


def _agent_types(env, agents: list, signatures: list) -> tuple[np.ndarray, tuple]:
    """``([N] int32 type of each agent, names of the types)``: JaxMARL's ``agent_classes`` when
    they partition the agents, otherwise the agent names without their trailing index; agents of
    one kind that differ in ``signatures`` (observation and action sizes) are told apart by name."""
    try:
        classes = env.agent_classes
        classes = classes() if callable(classes) else classes
    except (NotImplementedError, AttributeError, TypeError):
        classes = None
    by_name = {a: re.sub(r"_?\d+$", "", str(a)) or "agent" for a in agents}
    if isinstance(classes, dict) and sorted(a for members in classes.values() for a in members) == sorted(agents):
        kind_of = {a: kind for kind, members in classes.items() for a in members}
    else:
        kind_of = dict(by_name)
    signature_of = dict(zip(agents, signatures))
    for kind in set(kind_of.values()):
        members = [a for a in agents if kind_of[a] == kind]
        if len({signature_of[a] for a in members}) > 1:  # e.g. MPE speaker_listener's one "agents" class
            kind_of.update({a: f"{by_name[a]}{signature_of[a]}" if by_name[a] == kind else by_name[a] for a in members})
    kinds = tuple(dict.fromkeys(kind_of[a] for a in agents))
    return np.array([kinds.index(kind_of[a]) for a in agents], np.int32), kinds


class JaxMARLEnv(MultiAgentEnv):
    """A JaxMARL env with marljax's interface (see the module docstring)."""

    def __init__(self, env, name: str | None = None):
        import_jaxmarl()
        from jaxmarl.environments import spaces

        self.jaxmarl_env = env
        self.jaxmarl_name = name or type(env).__name__
        self.agent_names = tuple(env.agents)
        self.num_agents = len(self.agent_names)
        self._time_limit = getattr(env, "max_steps", None)
        self.max_steps = int(self._time_limit) + 1 if self._time_limit is not None else DEFAULT_MAX_STEPS

        action_spaces = [env.action_space(a) for a in self.agent_names]
        if all(isinstance(s, spaces.Discrete) for s in action_spaces):
            self.action_type = "discrete"
            self._num_values = np.array([int(s.n) for s in action_spaces], np.int32)
        elif all(isinstance(s, spaces.Box) for s in action_spaces):
            self.action_type = "continuous"
            self._action_dims = [int(np.prod(s.shape)) for s in action_spaces]
            width = max(self._action_dims)
            low = np.zeros((self.num_agents, width), np.float32)
            high = np.zeros((self.num_agents, width), np.float32)
            for i, (s, d) in enumerate(zip(action_spaces, self._action_dims)):
                low[i, :d] = np.broadcast_to(np.asarray(s.low, np.float32), s.shape).reshape(-1)
                high[i, :d] = np.broadcast_to(np.asarray(s.high, np.float32), s.shape).reshape(-1)
            self._action_low, self._action_high = low, high
        else:
            kinds = sorted({type(s).__name__ for s in action_spaces})
            raise ValueError(
                f"JaxMARL env {self.jaxmarl_name}: action spaces {kinds} are neither all Discrete nor all Box"
            )

        # Shapes of what reset and step return, traced once (nothing runs).
        obs, env_state = jax.eval_shape(env.reset, jax.random.PRNGKey(0))
        missing = [a for a in self.agent_names if not isinstance(obs, dict) or a not in obs]
        if missing:
            raise ValueError(f"JaxMARL env {self.jaxmarl_name} gives no observation array for agents {missing}")
        view_shapes = [tuple(obs[a].shape) for a in self.agent_names]
        signatures = [(v, getattr(s, "n", None), getattr(s, "shape", None)) for v, s in zip(view_shapes, action_spaces)]
        self._agent_type, self.agent_type_names = _agent_types(env, list(self.agent_names), signatures)
        self._flatten_views = len(set(view_shapes)) > 1
        self._view_shape = (max(int(np.prod(s)) for s in view_shapes),) if self._flatten_views else view_shapes[0]
        self._world_state_in_obs = "world_state" in obs
        self._world_state_rows = False
        if self._world_state_in_obs:
            self._global_state_size = int(np.prod(obs["world_state"].shape))
        else:
            world = jax.eval_shape(env.get_world_state, env_state) if hasattr(env, "get_world_state") else None
            self._world_state_rows = isinstance(world, dict)  # facmac MPE: one world-state row per agent
            if world is None:
                self._global_state_size = self.num_agents * int(np.prod(self._view_shape))
            elif self._world_state_rows:
                self._global_state_size = max(int(np.prod(world[a].shape)) for a in self.agent_names)
            else:
                self._global_state_size = int(np.prod(world.shape))
        self._avail_actions = None  # JaxMARL's get_avail_actions, or Hanabi's get_legal_moves
        for method in ("get_avail_actions", "get_legal_moves"):
            try:
                jax.eval_shape(getattr(env, method), env_state)
            except (NotImplementedError, AttributeError):
                continue
            self._avail_actions = getattr(env, method)
            break
        info = jax.eval_shape(env.step_env, jax.random.PRNGKey(0), env_state, self._action_dict(self._zero_action()))[4]
        self._info_paths = [
            (path, leaf) for path, leaf in jax.tree_util.tree_flatten_with_path(info)[0] if leaf.shape == ()
        ]
        self.metrics = {self._metric_name(path): "sum" for path, _ in self._info_paths}
        super().__init__()

    # ----- specs -----------------------------------------------------------------------
    @cached_property
    def observation_spec(self) -> specs.Spec:
        width = int(self._num_values.max()) if self.action_type == "discrete" else 1
        return observation_spec(
            self.num_agents,
            self._view_shape,
            width,
            self.max_steps,
            self._global_state_size,
            num_agent_types=len(self.agent_type_names),
        )

    @cached_property
    def action_spec(self):
        if self.action_type == "discrete":
            return self.discrete_action_spec(self._num_values)
        return specs.BoundedArray(self._action_low.shape, jnp.float32, self._action_low, self._action_high, "action")

    # ----- conversion --------------------------------------------------------------------
    @staticmethod
    def _metric_name(path) -> str:
        return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)

    def _zero_action(self) -> chex.Array:
        if self.action_type == "discrete":
            return jnp.zeros((self.num_agents,), jnp.int32)
        return jnp.zeros(self._action_low.shape, jnp.float32)

    def _action_dict(self, action: chex.Array) -> dict:
        if self.action_type == "discrete":
            action = jnp.clip(jnp.asarray(action, jnp.int32), 0, jnp.asarray(self._num_values) - 1)
            return {a: action[i] for i, a in enumerate(self.agent_names)}
        spaces = [self.jaxmarl_env.action_space(a) for a in self.agent_names]
        return {
            a: action[i, : self._action_dims[i]].reshape(s.shape)
            for i, (a, s) in enumerate(zip(self.agent_names, spaces))
        }

    def _views(self, obs: dict) -> chex.Array:
        views = [jnp.asarray(obs[a], jnp.float32) for a in self.agent_names]
        if self._flatten_views:
            width = self._view_shape[0]
            views = [jnp.pad(v.reshape(-1), (0, width - v.size)) for v in views]
        return jnp.stack(views)

    def _action_mask(self, env_state) -> chex.Array:
        if self.action_type == "continuous":
            return jnp.ones((self.num_agents, 1), bool)
        width = int(self._num_values.max())
        in_space = jnp.arange(width)[None, :] < jnp.asarray(self._num_values)[:, None]
        if self._avail_actions is None:
            return in_space
        avail = self._avail_actions(env_state)
        rows = [
            jnp.pad(jnp.asarray(avail[a], bool).reshape(-1), (0, width - int(n)))
            for a, n in zip(self.agent_names, self._num_values)
        ]
        return jnp.stack(rows) & in_space

    def _global_state(self, obs: dict, env_state, views: chex.Array) -> chex.Array:
        if self._world_state_in_obs:
            world = obs["world_state"].reshape(-1)
        elif self._world_state_rows:
            rows = self.jaxmarl_env.get_world_state(env_state)
            width = self._global_state_size
            rows = [jnp.asarray(rows[a], jnp.float32).reshape(-1) for a in self.agent_names]
            return jnp.stack([jnp.pad(r, (0, width - r.size)) for r in rows])
        elif hasattr(self.jaxmarl_env, "get_world_state"):
            world = self.jaxmarl_env.get_world_state(env_state).reshape(-1)
        else:
            world = views.reshape(-1)
        return jnp.broadcast_to(world.astype(jnp.float32), (self.num_agents, world.shape[0]))

    def _observation_of(self, obs: dict, env_state, step_count):
        views = self._views(obs)
        return self._observation(
            views,
            self._action_mask(env_state),
            step_count,
            global_state=self._global_state(obs, env_state, views),
            agent_type=jnp.asarray(self._agent_type),
        )

    def _extras(self, info: dict | None) -> dict:
        if info is None:
            values = {name: jnp.float32(0.0) for name in self.metrics}
        else:
            leaves = {self._metric_name(p): leaf for p, leaf in jax.tree_util.tree_flatten_with_path(info)[0]}
            values = {name: jnp.asarray(leaves[name], jnp.float32) for name in self.metrics}
        return {"metrics": values}

    # ----- dynamics ----------------------------------------------------------------------
    def reset(self, key: chex.PRNGKey):
        key, reset_key = jax.random.split(key)
        obs, env_state = self.jaxmarl_env.reset(reset_key)
        state = JaxMARLState(key=key, step_count=jnp.int32(0), env_state=env_state)
        observation = self._observation_of(obs, env_state, 0)
        n = self.num_agents
        timestep = TimeStep(
            step_type=StepType.FIRST,
            reward=jnp.zeros((n,), jnp.float32),
            discount=jnp.ones((n,), jnp.float32),
            observation=observation,
            extras=self._extras(None),
        )
        return state, timestep

    def step(self, state: JaxMARLState, action: chex.Array):
        key, step_key = jax.random.split(state.key)
        obs, env_state, rewards, dones, info = self.jaxmarl_env.step_env(
            step_key, state.env_state, self._action_dict(action)
        )
        step_count = state.step_count + 1
        reward = jnp.stack([jnp.asarray(rewards[a], jnp.float32) for a in self.agent_names])
        limit = self.max_steps if self._time_limit is None else self._time_limit
        truncated = step_count >= limit
        last = jnp.asarray(dones["__all__"], bool) | (step_count >= self.max_steps)
        terminated = last & ~truncated
        n = self.num_agents
        timestep = TimeStep(
            step_type=jnp.where(last, StepType.LAST, StepType.MID),
            reward=reward,
            discount=jnp.where(terminated, jnp.zeros((n,), jnp.float32), jnp.ones((n,), jnp.float32)),
            observation=self._observation_of(obs, env_state, step_count),
            extras=self._extras(info),
        )
        return JaxMARLState(key=key, step_count=step_count, env_state=env_state), timestep

    def render(self, state: JaxMARLState):
        raise NotImplementedError(f"render JaxMARL's {self.jaxmarl_name} with JaxMARL's own visualisers")

    def __repr__(self) -> str:
        return f"JaxMARLEnv({self.jaxmarl_name!r}, num_agents={self.num_agents}, max_steps={self.max_steps})"

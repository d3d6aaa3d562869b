r"""The repeated coordination game of the Bayesian-network actor-critic paper (Chen & Zhang 2023).

``n`` agents each hold one bit; the joint state is the bit vector :math:`s \in \{0, 1\}^n`.
Each step every agent picks an action :math:`a_i \in \{0, 1\}` and its next bit equals the
action with probability :math:`1 - \epsilon` (flips otherwise, independently per agent). With
:math:`z` zeros and :math:`o = n - z` ones in the new state and the tolerance
:math:`l = \{2: 1, 3: 1, 5: 2, 10: 3\}[n]`:

.. math::

    R(s') = \begin{cases} 1[o > z] & |z - o| \le l \\ 3 & z - o > l \ \text{(the optimum)} \\
    2 & o - z > l \ \text{(the trap)} \end{cases}

All-ones is a Nash equilibrium worth 2 per step: one agent switching to 0 alone lands in the
balanced band (reward 0 or 1), so independent learners that drift towards ones stay there,
while all-zeros is worth 3. The reward of a step is that of the state it leads to, shared by
every agent.

- **Observation** ``agents_view [N, N]`` float32: the whole bit vector (every agent sees the
  state); ``global_state`` the same; ``agent_type [N]`` the agent's index (``N`` types) so
  that shared networks can tell agents apart.
- **Action** ``[N]`` int32 in {0, 1}, the bit the agent wants next.
- **Reward** ``[N]`` float32, :math:`R(s_{t+1})` for every agent.
- **Termination**: none; truncation after ``max_steps`` = 25 steps.
- **Metrics**: ``optimal_state`` (1 when the new state is in the optimal region, zeros
  dominate by more than ``l``; an episode reports the mean, the share of steps spent there)
  and ``trap_state`` (the same for the suboptimal region where ones dominate).

The tabular model (:func:`reward_table`, :func:`transition_matrix`, the states enumerated
with agent ``i``'s bit as bit ``i`` of the index) gives exact values: ``J*`` by value
iteration and exact policy gradients (:func:`marljax.solvers.bnac.exact_policy_gradient`).

References:
    Chen & Zhang 2023, "Context-aware Bayesian Network Actor-Critic Methods for Cooperative
    Multi-Agent Reinforcement Learning", ICML, https://proceedings.mlr.press/v202/chen23a.html
"""

from __future__ import annotations

from functools import cached_property

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.types import restart

from marljax.env import MultiAgentEnv, observation_spec
from marljax.envs.coordination.types import CoordinationState

__all__ = ["CoordinationGame", "TOLERANCE", "bits_reward", "reward_table", "transition_matrix", "joint_bits"]

#: The band half-width ``l`` per supported number of agents.
TOLERANCE = {2: 1, 3: 1, 5: 2, 10: 3}
OPTIMUM_REWARD, TRAP_REWARD = 3.0, 2.0


def check_coordination_args(num_agents, eps) -> None:
    if num_agents not in TOLERANCE:
        raise ValueError(f"num_agents must be one of {sorted(TOLERANCE)}; got {num_agents}")
    if not 0.0 <= float(eps) <= 1.0:
        raise ValueError(f"eps (the probability a bit flips against the action) must lie in [0, 1]; got {eps}")


def bits_reward(bits: chex.Array, tolerance: int) -> chex.Array:
    """:math:`R(s)` of bit vectors ``[..., N]`` (module docstring), float32 ``[...]``."""
    ones = jnp.sum(bits, -1)
    zeros = bits.shape[-1] - ones
    band = jnp.where(ones > zeros, 1.0, 0.0)
    return jnp.where(zeros - ones > tolerance, OPTIMUM_REWARD, jnp.where(ones - zeros > tolerance, TRAP_REWARD, band))


def joint_bits(num_agents: int) -> np.ndarray:
    """``[2^n, n]`` int32: row ``k`` is the bit vector with agent ``i``'s bit = bit ``i`` of ``k``."""
    k = np.arange(2**num_agents)
    return ((k[:, None] >> np.arange(num_agents)[None, :]) & 1).astype(np.int32)


def reward_table(num_agents: int) -> np.ndarray:
    """``[2^n]`` float32 :math:`R(s)` for every state index."""
    return np.asarray(bits_reward(jnp.asarray(joint_bits(num_agents)), TOLERANCE[num_agents]), np.float32)


def transition_matrix(num_agents: int, eps: float = 0.1) -> np.ndarray:
    r"""``[2^n, 2^n]`` float64 :math:`P(s' | a) = \prod_i (1 - \epsilon)^{[s'_i = a_i]} \epsilon^{[s'_i \ne a_i]}`
    (rows: joint actions, indexed like states; the current state does not enter)."""
    bits = joint_bits(num_agents)
    differ = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    return (eps**differ) * ((1.0 - eps) ** (num_agents - differ))


class CoordinationGame(MultiAgentEnv):
    """n binary agents that should all pick 0 but are lured to all-1 (see the module docstring).

    Observation ``agents_view [N, N]`` (the joint bits), action ``[N]`` in {0, 1}, reward
    ``[N]`` (shared, that of the next state), truncation after ``max_steps``.
    """

    metrics = {"optimal_state": "mean", "trap_state": "mean"}

    def __init__(self, num_agents: int = 3, eps: float = 0.1, max_steps: int = 25):
        check_coordination_args(num_agents, eps)
        if max_steps < 1:
            raise ValueError(f"max_steps must be positive; got {max_steps}")
        self.num_agents = int(num_agents)
        self.eps = float(eps)
        self.max_steps = int(max_steps)
        self.tolerance = TOLERANCE[self.num_agents]
        self._mask = jnp.ones((self.num_agents, 2), bool)
        super().__init__()

    @cached_property
    def observation_spec(self) -> specs.Spec:
        n = self.num_agents
        return observation_spec(n, (n,), 2, self.max_steps, n, num_agent_types=n, view_bounds=(0.0, 1.0))

    @cached_property
    def action_spec(self) -> specs.MultiDiscreteArray:
        return self.discrete_action_spec([2] * self.num_agents)

    def _obs(self, bits, step_count):
        n = self.num_agents
        view = jnp.broadcast_to(bits.astype(jnp.float32), (n, n))
        return self._observation(view, self._mask, step_count, global_state=view, agent_type=jnp.arange(n))

    def _extras(self, bits) -> dict:
        ones = jnp.sum(bits)
        zeros = self.num_agents - ones
        return {
            "metrics": {
                "optimal_state": (zeros - ones > self.tolerance).astype(jnp.float32),
                "trap_state": (ones - zeros > self.tolerance).astype(jnp.float32),
            }
        }

    def reset(self, key: chex.PRNGKey):
        key, key_bits = jax.random.split(key)
        bits = jax.random.bernoulli(key_bits, 0.5, (self.num_agents,)).astype(jnp.int32)
        state = CoordinationState(key=key, step_count=jnp.int32(0), bits=bits)
        n = (self.num_agents,)
        return state, restart(self._obs(bits, 0), self._extras(bits), shape=n, dtype=jnp.float32)

    def step(self, state: CoordinationState, action: chex.Array):
        key, key_flip = jax.random.split(state.key)
        action = jnp.clip(jnp.asarray(action, jnp.int32), 0, 1)
        flip = jax.random.bernoulli(key_flip, self.eps, (self.num_agents,))
        bits = jnp.where(flip, 1 - action, action)
        step_count = state.step_count + 1
        state = CoordinationState(key=key, step_count=step_count, bits=bits)
        reward = jnp.broadcast_to(bits_reward(bits, self.tolerance), (self.num_agents,)).astype(jnp.float32)
        obs, extras = self._obs(bits, step_count), self._extras(bits)
        timestep = self._time_limited_timestep(step_count, reward, obs, extras)
        return state, timestep

    def render(self, state: CoordinationState):
        """Draw each agent's bit (white 0, black 1) and the reward of the state."""
        from marljax.envs.coordination.viewer import draw_agents

        bits = np.asarray(state.bits)
        reward = float(bits_reward(jnp.asarray(bits), self.tolerance))
        title = f"step {int(state.step_count)}/{self.max_steps}  R = {reward:g}"
        return draw_agents(bits, np.where(bits == 1, "black", "white"), [str(b) for b in bits], title)

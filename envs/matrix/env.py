"""Repeated normal-form game as a multi-agent Jumanji environment.

- **Agents**: the ``n`` players of a payoff tensor ``[n, A_1, ..., A_n]``; players may have
  different numbers of actions (the action axis is padded to ``max A_i`` and masked).
- **Observation**: ``agents_view [n, sum_i A_i]`` -- the previous joint action, one one-hot
  block per player (all zeros on the first round); every agent sees the same vector, which
  is also the ``global_state``. ``agent_type`` is the player index.
- **Action**: ``[n]`` int32, player ``i`` choosing in ``0..A_i-1`` (the mask says which are
  valid). Outside jit the base class rejects any other action with a ``ValueError``; inside
  jit an out-of-range action is clipped to the nearest valid one.
- **Reward**: ``[n]`` float32, ``u[:, a_1, ..., a_n]`` for the joint action played.
- **Termination**: after ``horizon`` rounds (discount 0 on the last step; 1 before).
"""

from __future__ import annotations

from functools import cached_property

import chex
import jax
import jax.numpy as jnp
from jumanji import specs
from jumanji.types import restart, termination, transition

from marljax.checks import check_payoffs, check_positive
from marljax.env import MultiAgentEnv, observation_spec

__all__ = ["MatrixGame", "MatrixGameState"]


@chex.dataclass
class MatrixGameState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32 rounds played
    last_action: chex.Array  # [n] int32, -1 before the first round


class MatrixGame(MultiAgentEnv):
    """Play the normal-form game ``payoffs`` for ``horizon`` rounds."""

    def __init__(self, payoffs: chex.Array, horizon: int = 10):
        check_payoffs(payoffs)
        check_positive(horizon=horizon)
        self.payoffs = jnp.asarray(payoffs, jnp.float32)
        self.num_agents = int(self.payoffs.shape[0])
        self.actions_per_agent = tuple(int(a) for a in self.payoffs.shape[1:])
        self.max_steps = int(horizon)
        self._max_actions = max(self.actions_per_agent)
        self._offsets = jnp.cumsum(jnp.array((0,) + self.actions_per_agent[:-1]))
        self._view_size = sum(self.actions_per_agent)
        self._mask = jnp.arange(self._max_actions)[None, :] < jnp.array(self.actions_per_agent)[:, None]
        super().__init__()

    @cached_property
    def observation_spec(self) -> specs.Spec:
        return observation_spec(
            self.num_agents,
            (self._view_size,),
            self._max_actions,
            self.max_steps,
            self._view_size,
            num_agent_types=self.num_agents,
            view_bounds=(0.0, 1.0),
        )

    @cached_property
    def action_spec(self) -> specs.MultiDiscreteArray:
        return self.discrete_action_spec(self.actions_per_agent)

    def _obs(self, last_action: chex.Array, step_count: chex.Array):
        played = (last_action >= 0).astype(jnp.float32)
        one_hot = jnp.zeros((self._view_size,), jnp.float32)
        one_hot = one_hot.at[self._offsets + jnp.maximum(last_action, 0)].set(played)
        view = jnp.broadcast_to(one_hot, (self.num_agents, self._view_size))
        return self._observation(
            view, self._mask, step_count, global_state=view, agent_type=jnp.arange(self.num_agents)
        )

    def reset(self, key: chex.PRNGKey):
        state = MatrixGameState(
            key=key,
            step_count=jnp.int32(0),
            last_action=jnp.full((self.num_agents,), -1, jnp.int32),
        )
        return state, restart(self._obs(state.last_action, 0), shape=(self.num_agents,), dtype=jnp.float32)

    def step(self, state: MatrixGameState, action: chex.Array):
        action = jnp.clip(jnp.asarray(action, jnp.int32), 0, jnp.array(self.actions_per_agent) - 1)
        reward = self.payoffs[(slice(None), *action)]
        step_count = state.step_count + 1
        state = MatrixGameState(key=state.key, step_count=step_count, last_action=action)
        obs = self._obs(action, step_count)
        n = (self.num_agents,)
        timestep = jax.lax.cond(
            step_count >= self.max_steps,
            lambda: termination(reward, obs, shape=n, dtype=jnp.float32),
            lambda: transition(reward, obs, shape=n, dtype=jnp.float32),
        )
        return state, timestep

    def render(self, state: MatrixGameState):
        """Draw each player's payoff matrix (two players) or last actions (n players)."""
        import matplotlib.pyplot as plt

        last = [int(a) for a in state.last_action]
        if self.num_agents == 2:
            fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
            for i, ax in enumerate(axes):
                ax.imshow(self.payoffs[i], cmap="viridis")
                for (r, c), v in _cells(self.payoffs[i]):
                    ax.text(c, r, f"{v:g}", ha="center", va="center", color="w")
                if last[0] >= 0:
                    ax.add_patch(plt.Rectangle((last[1] - 0.5, last[0] - 0.5), 1, 1, fill=False, ec="r", lw=3))
                ax.set_title(f"player {i} payoff")
                ax.set_xlabel("column action")
                ax.set_ylabel("row action")
        else:
            fig, ax = plt.subplots(figsize=(4, 3))
            ax.bar(range(self.num_agents), last)
            ax.set_xlabel("player")
            ax.set_ylabel("last action")
        fig.suptitle(f"round {int(state.step_count)} / {self.max_steps}")
        fig.tight_layout()
        return fig


def _cells(matrix):
    rows, cols = matrix.shape
    return [((r, c), float(matrix[r, c])) for r in range(rows) for c in range(cols)]

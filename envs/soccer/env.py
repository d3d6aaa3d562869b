"""Soccer-v0: N-vs-N 2-D physics soccer with a scripted opponent or two learning teams."""

from __future__ import annotations

from functools import cached_property
from typing import Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.types import StepType, TimeStep, restart

from marljax.env import MultiAgentEnv, observation_spec
from marljax.envs.soccer.generator import UniformGenerator
from marljax.envs.soccer.physics import entity_constants, goals_scored, make_physics_step
from marljax.envs.soccer.scripted import DIRECTIONS, scripted_controls, speed_scale
from marljax.envs.soccer.types import Pitch, SoccerState
from marljax.physics.particles import batch_minor

__all__ = ["Soccer", "OPPONENTS", "MAX_TEAM_SIZE"]

#: ``scripted``: the built-in heuristic (:mod:`marljax.envs.soccer.scripted`) plays team 1;
#: ``still``: team 1 stands still (tests, warm-ups); ``self-play``: both teams are agents.
OPPONENTS = ("scripted", "still", "self-play")
MAX_TEAM_SIZE = 11
NUM_MOVES = len(DIRECTIONS)  # stay + 8 directions


class Soccer(MultiAgentEnv):
    """N-vs-N soccer on a 3 x 1.5 pitch with walls and goals (VMAS ``football``'s sizes and speeds).

    Team 0 (the first ``n`` players) attacks the goal at ``x = +1.5``, team 1 the one at
    ``x = -1.5``. With ``opponent="scripted"`` (default) or ``"still"`` the agents are team 0 and
    team 1 is played by the env; with ``opponent="self-play"`` the agents are both teams, team 0
    first (``N = 2n``; PSRO's default split into halves is the two teams).

    - **Observation** ``agents_view [N, 10 + 4(n - 1) + 4n]``, in the agent's team frame (team 1's
      is rotated by 180 degrees, so every agent attacks to the right): own position (2) and
      velocity (2); the ball relative to the agent: position (2) and velocity (2); the ball
      relative to the goal it attacks (2); teammates' relative positions (2(n-1)) and velocities
      (2(n-1)); opponents' relative positions (2n) and velocities (2n). Velocities are in units of
      the players' speed cap (0.15). ``global_state [N, 4 + 8n]``: the ball's position and
      velocity, then every player of the agent's team and of the other team (position, velocity),
      in the agent's team frame. ``agent_type``: 0 (both teams are alike in their own frames).
    - **Action** (team frame): discrete ``[N]`` in ``0..8`` (0 stay, ``k`` = the compass direction
      ``(k - 1) * 45`` degrees) and, with ``kick=True``, ``9..16`` = move in direction ``k - 8``
      and kick the ball that way if it is within reach (0.08) and in front. Continuous
      ``[N, 2]`` forces in ``[-1, 1]^2`` (``[N, 3]`` with kicks: kick along the force when the
      third entry is > 0).
    - **Reward** ``[N]``, shared by a team: ``goal_reward`` for scoring, ``-goal_reward`` for
      conceding; with ``dense_reward`` also ``ball_shaping`` times the decrease of the ball's
      distance to the goal the team attacks and ``player_shaping`` times the decrease of the
      closest teammate's distance to the ball.
    - **Termination**: a goal (discount 0); truncation after ``max_steps`` (500) steps.
    - **Metrics** (team 0's view, :mod:`marljax.metrics`): ``goals_for``, ``goals_against``
      (sums), ``win``, ``draw``, ``loss`` (final score), ``possession`` (mean of "a team-0 player
      is the closest to the ball").

    Args:
        team_size: players per team ``n``, 1..11 (default 3).
        opponent: one of :data:`OPPONENTS`.
        strength: the scripted opponent's strength in ``[0, 1]``.
        max_steps: episode length.
        action_type: ``"discrete"`` or ``"continuous"``.
        kick: whether agents have kick actions.
        dense_reward: add the shaping terms.
        goal_reward: reward of a goal (VMAS uses 100).
        ball_shaping, player_shaping: shaping coefficients (per metre).
        pitch: geometry and physics (default :class:`Pitch`, VMAS's values).

    Raises:
        ValueError: a team size outside 1..11, an unknown opponent or action type, a strength
            outside ``[0, 1]`` or a non-positive ``max_steps``.
    """

    metrics = {
        "goals_for": "sum",
        "goals_against": "sum",
        "win": "final",
        "draw": "final",
        "loss": "final",
        "possession": "mean",
    }

    def __init__(
        self,
        team_size: int = 3,
        opponent: str = "scripted",
        strength: float = 0.5,
        max_steps: int = 500,
        action_type: str = "discrete",
        kick: bool = True,
        dense_reward: bool = True,
        goal_reward: float = 1.0,
        ball_shaping: float = 0.1,
        player_shaping: float = 0.1,
        pitch: Optional[Pitch] = None,
    ):
        if isinstance(team_size, bool) or not isinstance(team_size, (int, np.integer)):
            raise ValueError(f"team_size must be an integer in 1..{MAX_TEAM_SIZE}; got {team_size!r}")
        if not 1 <= team_size <= MAX_TEAM_SIZE:
            raise ValueError(f"team_size must be in 1..{MAX_TEAM_SIZE}; got {team_size}")
        if opponent not in OPPONENTS:
            raise ValueError(f"unknown opponent {opponent!r}; known opponents: {', '.join(OPPONENTS)}")
        if not 0.0 <= float(strength) <= 1.0:
            raise ValueError(f"strength must be in [0, 1]; got {strength}")
        if action_type not in ("discrete", "continuous"):
            raise ValueError(f"action_type must be 'discrete' or 'continuous'; got {action_type!r}")
        if max_steps < 1:
            raise ValueError(f"max_steps must be positive; got {max_steps}")
        self.team_size = n = int(team_size)
        self.opponent = opponent
        self.strength = float(strength)
        self.max_steps = int(max_steps)
        self.action_type = action_type
        self.kick = bool(kick)
        self.dense_reward = bool(dense_reward)
        self.goal_reward = float(goal_reward)
        self.ball_shaping = float(ball_shaping)
        self.player_shaping = float(player_shaping)
        self.pitch = Pitch() if pitch is None else pitch
        self.num_agents = 2 * n if opponent == "self-play" else n
        opponent_speed = speed_scale(self.strength) if opponent == "scripted" else 1.0
        self.constants = entity_constants(self.pitch, n, (1.0, opponent_speed))
        self._physics = make_physics_step(self.pitch, self.constants)
        self.generator = UniformGenerator(self.pitch, n)
        # Static index tables: row p lists player p's own team, teammates and opponents (world indices).
        players = np.arange(2 * n)
        team = players // n
        self._team = team
        self._own_team = (team[:, None] * n + np.arange(n)[None, :]).astype(np.int32)
        self._mates = self._own_team[self._own_team != players[:, None]].reshape(2 * n, n - 1)
        self._opponents = ((1 - team)[:, None] * n + np.arange(n)[None, :]).astype(np.int32)
        self._sign = np.where(team == 0, 1.0, -1.0).astype(np.float32)  # team frame = sign * world
        self._view_size = 10 + 4 * (n - 1) + 4 * n
        self._num_actions = 2 * NUM_MOVES - 1 if self.kick else NUM_MOVES
        self._mask_width = self._num_actions if action_type == "discrete" else 1
        self._step_kernel = batch_minor(self._advance)
        self._observe_kernel = batch_minor(self._observe_layout)
        super().__init__()

    # ----- specs -----------------------------------------------------------------------
    @cached_property
    def observation_spec(self) -> specs.Spec:
        return observation_spec(
            self.num_agents, (self._view_size,), self._mask_width, self.max_steps, 4 + 8 * self.team_size
        )

    @cached_property
    def action_spec(self):
        if self.action_type == "discrete":
            return self.discrete_action_spec([self._num_actions] * self.num_agents)
        return specs.BoundedArray((self.num_agents, 3 if self.kick else 2), jnp.float32, -1.0, 1.0, "action")

    # ----- actions -----------------------------------------------------------------------
    def _decode(self, action: chex.Array):
        """Agents' ``(control, kick_direction, kicking)`` in their team frames."""
        if self.action_type == "discrete":
            action = jnp.clip(jnp.asarray(action, jnp.int32), 0, self._num_actions - 1)
            kicking = action >= NUM_MOVES
            direction = jnp.asarray(DIRECTIONS)[jnp.where(kicking, action - (NUM_MOVES - 1), action)]
            return direction, direction, kicking
        action = jnp.clip(jnp.asarray(action, jnp.float32), -1.0, 1.0)
        kicking = action[:, 2] > 0 if self.kick else jnp.zeros((self.num_agents,), bool)
        return action[:, :2], action[:, :2], kicking

    # ----- the batch-last kernels ----------------------------------------------------------
    # World arrays carry one trailing batch axis: pos, vel [2n + 1, 2, B] (marljax.physics.particles.batch_minor:
    # under vmap the whole batch runs at once, laid out so that XLA vectorises along it).
    def _team_controls(self, pos, vel, agent_controls, noise):
        """Every player's ``(control, kick_direction, kicking)`` ``[2n, ...]`` in the world frame,
        from the agents' decoded ``agent_controls`` (team frames) and, with the scripted
        opponent, its uniform draws ``noise [2, n, ...]``."""
        n = self.team_size
        control, direction, kicking = agent_controls
        if self.opponent == "scripted":
            # Team 1's frame is the world rotated by 180 degrees: negate in, negate out.
            team1 = scripted_controls(self.pitch, -pos[n : 2 * n], -vel[n : 2 * n], -pos[-1], self.strength, noise)
            control, direction, kicking = (jnp.concatenate(x) for x in zip((control, direction, kicking), team1))
        elif self.opponent == "still":
            control, direction = (jnp.concatenate([x, jnp.zeros_like(x)]) for x in (control, direction))
            kicking = jnp.concatenate([kicking, jnp.zeros_like(kicking)])
        sign = jnp.reshape(jnp.asarray(self._sign), (-1,) + (1,) * (control.ndim - 1))
        return control * sign, direction * sign, kicking

    def _observe_layout(self, pos, vel):
        """``(views [N, V, ...], global_state [N, 4 + 8n, ...])`` of the world ``pos, vel [2n + 1, 2, ...]``,
        each agent's in its team frame (``sign * world``; velocities in units of the speed cap)."""
        rows = np.arange(self.num_agents)
        sign = jnp.reshape(jnp.asarray(self._sign[rows]), (-1, 1) + (1,) * (pos.ndim - 2))
        scaled = vel / self.pitch.player_max_speed
        goal = jnp.reshape(jnp.array([self.pitch.length / 2, 0.0], jnp.float32), (1, 2) + (1,) * (pos.ndim - 2))
        own_p, own_v, ball_p, ball_v = pos[rows], scaled[rows], pos[-1][None], scaled[-1][None]

        def relative(world, index):  # [N, k, 2, ...] -> [N, 2k, ...] in the team frames
            rel = (world[index] - world[rows][:, None]) * sign[:, None]
            return rel.reshape((rel.shape[0], -1) + rel.shape[3:])

        views = [
            sign * own_p,
            sign * own_v,
            sign * (ball_p - own_p),
            sign * (ball_v - own_v),
            sign * ball_p - goal,
            relative(pos, self._mates[rows]),
            relative(scaled, self._mates[rows]),
            relative(pos, self._opponents[rows]),
            relative(scaled, self._opponents[rows]),
        ]
        order = np.concatenate([self._own_team[rows], self._opponents[rows]], 1)
        players = jnp.concatenate([pos[order], scaled[order]], 2) * sign[:, None]  # [N, 2n, 4, ...]
        players = players.reshape((players.shape[0], -1) + players.shape[3:])
        global_state = jnp.concatenate([sign * ball_p, sign * ball_v, players], 1)
        return jnp.concatenate(views, 1), global_state

    def _closest_team(self, pos):
        """The team (int32 ``[...]``) of the player closest to the ball."""
        dist = jnp.linalg.norm(pos[:-1] - pos[-1][None], axis=1)
        return (jnp.argmin(dist, axis=0) >= self.team_size).astype(jnp.int32)

    def _team_rewards(self, before, after, scored):
        """``[2, ...]`` each team's reward for the transition ``before -> after`` (world positions)."""
        n, half = self.team_size, self.pitch.length / 2
        sparse = self.goal_reward * (scored.astype(jnp.float32) - scored[::-1].astype(jnp.float32))
        if not self.dense_reward:
            return sparse
        goals = jnp.reshape(jnp.array([[half, 0.0], [-half, 0.0]], jnp.float32), (2, 2) + (1,) * (after.ndim - 2))

        def potentials(pos):
            ball_to_goal = jnp.linalg.norm(pos[-1][None] - goals, axis=1)
            to_ball = jnp.linalg.norm(pos[:-1] - pos[-1][None], axis=1)
            to_ball = to_ball.reshape((2, n) + to_ball.shape[1:]).min(1)
            return self.ball_shaping * ball_to_goal + self.player_shaping * to_ball

        return sparse + potentials(before) - potentials(after)

    def _advance(self, pos, vel, score, agent_controls, noise):
        """The kernel of :meth:`step`: the new ``(pos, vel, score, possession)``, the agents'
        rewards ``[N, ...]``, their observation parts and the goals ``scored [2, ...]``."""
        control, direction, kicking = self._team_controls(pos, vel, agent_controls, noise)
        new_pos, new_vel = self._physics(pos, vel, control, direction, kicking)
        scored = goals_scored(self.pitch, pos[-1], new_pos[-1])
        reward = self._team_rewards(pos, new_pos, scored)[self._team[: self.num_agents]]
        views, global_state = self._observe_layout(new_pos, new_vel)
        score = score + scored.astype(jnp.int32)
        return new_pos, new_vel, score, self._closest_team(new_pos), reward, views, global_state, scored

    def _observation_of(self, state: SoccerState):
        views, global_state = self._observe_kernel(state.pos, state.vel)
        mask = jnp.ones((self.num_agents, self._mask_width), bool)
        return self._observation(views, mask, state.step_count, global_state=global_state)

    # ----- rewards and metrics -----------------------------------------------------------
    def _metric_values(self, state: SoccerState, scored):
        f = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        ours, theirs = state.score[0], state.score[1]
        return {
            "goals_for": f(scored[0]),
            "goals_against": f(scored[1]),
            "win": f(ours > theirs),
            "draw": f(ours == theirs),
            "loss": f(ours < theirs),
            "possession": f(state.possession == 0),
        }

    # ----- the env ---------------------------------------------------------------------
    def reset(self, key: chex.PRNGKey):
        state = self.generator(key)
        state = state.replace(possession=self._closest_team(state.pos))
        extras = {"metrics": self._metric_values(state, jnp.zeros((2,), bool))}
        return state, restart(self._observation_of(state), extras, shape=(self.num_agents,), dtype=jnp.float32)

    def step(self, state: SoccerState, action: chex.Array):
        n = self.team_size
        key, noise = state.key, None
        if self.opponent == "scripted":
            key, scripted_key = jax.random.split(state.key)
            noise = jax.random.uniform(scripted_key, (2, n))  # the scripted team's direction and kick draws
        pos, vel, score, possession, reward, views, global_state, scored = self._step_kernel(
            state.pos, state.vel, state.score, self._decode(action), noise
        )
        state = SoccerState(
            key=key, step_count=state.step_count + 1, pos=pos, vel=vel, score=score, possession=possession
        )
        mask = jnp.ones((self.num_agents, self._mask_width), bool)
        obs = self._observation(views, mask, state.step_count, global_state=global_state)
        extras = {"metrics": self._metric_values(state, scored)}
        # One timestep built arithmetically (no lax.cond: cheaper to compile and to vmap):
        # a goal terminates (discount 0), the time limit truncates (discount 1).
        ended = scored.any()
        last = ended | (state.step_count >= self.max_steps)
        timestep = TimeStep(
            step_type=jnp.where(last, StepType.LAST, StepType.MID).astype(jnp.int8),
            reward=reward,
            discount=jnp.where(ended, 0.0, jnp.ones((self.num_agents,), jnp.float32)),
            observation=obs,
            extras=extras,
        )
        return state, timestep

    # ----- rendering -------------------------------------------------------------------
    def render(self, state: SoccerState):
        """A top-down matplotlib figure of one state (see :mod:`marljax.envs.soccer.viewer`)."""
        from marljax.envs.soccer.viewer import draw

        return draw(self, state)

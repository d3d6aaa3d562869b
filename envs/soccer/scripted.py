"""The scripted team: go to the ball, dribble and shoot toward the opponent goal, hold a formation.

Everything is computed in the team's own frame (it attacks to the right, toward
``(length / 2, 0)``), for one team of ``n`` players:

- **chaser**: the player closest to the ball. Behind the ball (on the far side from the goal,
  within a small lateral offset of the ball-goal line) it pushes through the ball toward the goal
  and kicks when the ball is within reach; otherwise it runs to the point behind the ball, going
  round it when it is on the wrong side (so it does not push the ball toward its own goal).
- **the others**: a formation that follows the ball: staggered lines between the ball and their
  own goal, spread across the width.
- **steering**: a velocity controller, ``u = clip_norm(g (v_desired - v))`` with ``v_desired`` the
  cap speed toward the target, slowing within 0.1 of it.
- **strength** ``s in [0, 1]``: the env scales the team's speed cap by ``0.5 + 0.5 s``; here the
  direction of every control is turned by a uniform random angle in ``+-1.4 (1 - s)`` radians and
  a possible kick happens with probability ``s``. ``s = 1`` is the full heuristic.

The same behaviour in spirit as VMAS ``football``'s red AI (go to the ball, dribble to goal,
keep players spread), written from scratch and much simpler (no spline trajectories or passes).
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.soccer.types import Pitch

__all__ = ["scripted_team", "scripted_controls", "speed_scale", "DIRECTIONS", "discretise", "scripted_policy"]

#: Discrete moves: 0 stay, then the 8 compass directions counter-clockwise from +x (unit length).
DIRECTIONS = np.concatenate(
    [np.zeros((1, 2)), np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], -1)]
).astype(np.float32)


def speed_scale(strength: float) -> float:
    """The factor on a scripted team's speed cap at ``strength``."""
    return 0.5 + 0.5 * float(strength)


def _norm(x):  # length along the coordinate axis 1 of [k, 2, ...], kept
    return jnp.sqrt(jnp.sum(x * x, axis=1, keepdims=True))


def _unit(x, eps=1e-6):
    return x / jnp.maximum(_norm(x), eps)


def scripted_team(
    pitch: Pitch,
    own_pos: chex.Array,
    own_vel: chex.Array,
    ball_pos: chex.Array,
    strength: float,
    key: chex.PRNGKey,
) -> tuple[chex.Array, chex.Array, chex.Array]:
    """Controls of a scripted team, in its own frame.

    Args:
        pitch: the pitch.
        own_pos, own_vel: ``[n, 2]`` the team's players.
        ball_pos: ``[2]`` the ball.
        strength: in ``[0, 1]`` (see the module docstring).
        key: PRNG key of the decision noise.

    Returns:
        ``(control [n, 2] in the unit disc, kick_direction [n, 2], kicking [n] bool)``.
    """
    noise = jax.random.uniform(key, (2, own_pos.shape[0]))  # one draw for both: cheap to compile and to run
    return scripted_controls(pitch, own_pos, own_vel, ball_pos, strength, noise)


def scripted_controls(pitch: Pitch, own_pos, own_vel, ball_pos, strength: float, noise):
    """:func:`scripted_team` given its uniform draws ``noise [2, n]`` (direction noise, kick
    chance); every array may carry trailing batch axes (``own_pos [n, 2, B]``, ``ball_pos [2, B]``,
    ``noise [2, n, B]``: the env's batch-last kernel)."""
    n = own_pos.shape[0]
    ball = ball_pos[None]  # [1, 2, ...]
    goal = jnp.reshape(jnp.array([pitch.length / 2, 0.0], jnp.float32), (1, 2) + (1,) * (ball.ndim - 2))
    aim = _unit(goal - ball)  # [1, 2, ...]
    perp = jnp.concatenate([-aim[:, 1:], aim[:, :1]], 1)
    rel = own_pos - ball  # [n, 2, ...]
    along = rel[:, 0] * aim[:, 0] + rel[:, 1] * aim[:, 1]  # < 0: on the far side of the ball from the goal
    lateral = rel[:, 0] * perp[:, 0] + rel[:, 1] * perp[:, 1]
    dist = jnp.sqrt(rel[:, 0] * rel[:, 0] + rel[:, 1] * rel[:, 1])  # [n, ...]
    contact = pitch.player_radius + pitch.ball_radius
    behind = along < -0.5 * contact
    aligned = behind & (jnp.abs(lateral) < 0.6 * contact)
    side = jnp.where(lateral >= 0, 1.0, -1.0)[:, None]
    push = ball + 0.2 * aim
    get_behind = ball - (contact + 0.01) * aim
    go_round = ball - 2.5 * contact * aim + side * 3.0 * contact * perp
    chase_target = jnp.where(aligned[:, None], push, jnp.where(behind[:, None], get_behind, go_round))

    # Formation: staggered lines between the ball and the own goal, spread across the width.
    slot = jnp.reshape(jnp.arange(n, dtype=jnp.float32), (n,) + (1,) * (ball.ndim - 2))
    home_x = jnp.clip(ball[:, 0] - 0.5 - 0.35 * (slot % 2), -pitch.length / 2 + 0.15, pitch.length / 2 - 0.4)
    home_y = ((slot + 0.5) / n - 0.5) * 0.7 * pitch.width + 0.3 * ball[:, 1]
    home = jnp.stack([home_x, home_y], 1)
    chaser = slot == jnp.argmin(dist, axis=0)
    target = jnp.where(chaser[:, None], chase_target, home)

    to_target = target - own_pos
    desired = _unit(to_target) * pitch.player_max_speed * jnp.minimum(1.0, _norm(to_target) / 0.1)
    control = (desired - own_vel) * 50.0
    angle = (2.0 * noise[0] - 1.0) * 1.4 * (1.0 - strength)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    control = jnp.stack([cos * control[:, 0] - sin * control[:, 1], sin * control[:, 0] + cos * control[:, 1]], 1)
    control = control / jnp.maximum(_norm(control), 1.0)
    kicking = chaser & aligned & (dist <= pitch.kick_reach) & (noise[1] < strength)
    return control, jnp.broadcast_to(aim, own_pos.shape), kicking


def discretise(control: chex.Array, kicking: chex.Array, kick: bool) -> chex.Array:
    """The discrete actions ``[n]`` closest to continuous controls: the compass direction of
    ``control`` (stay below a tenth of full force), plus 8 when kicking and kicks are enabled.
    Lets the scripted team play in a discrete env (demos, baselines)."""
    scores = control @ jnp.asarray(DIRECTIONS[1:]).T  # [n, 8]
    move = 1 + jnp.argmax(scores, -1)
    move = jnp.where(jnp.linalg.norm(control, axis=-1) < 0.1, 0, move)
    if kick:
        move = jnp.where(kicking & (move > 0), move + 8, move)
    return move.astype(jnp.int32)


def scripted_policy(env, strength: float = 1.0):
    """The scripted team as a policy for the agents of a discrete ``Soccer`` env (one team:
    ``opponent`` scripted or still), in :func:`marljax.evaluation.play_episodes`'s form
    ``policy(carry, observation, first, key) -> (carry, action [E, n])``.

    It reads what it needs from the agents' own observations (their positions and velocities,
    and the ball's position relative to the first agent; all in the team's frame), so it plays
    from either side. Demos and tests use it as a hand-made baseline team; its speed is the
    agents' (only the env's own scripted opponent has a speed cap scaled by strength).
    """
    if env.action_type != "discrete" or env.num_agents != env.team_size:
        raise ValueError("scripted_policy plays the one agent team of a discrete Soccer env")
    pitch, kick = env.pitch, env.kick

    def one_env(view, key):
        own_pos, own_vel = view[:, 0:2], view[:, 2:4] * pitch.player_max_speed
        ball = own_pos[0] + view[0, 4:6]
        control, _, kicking = scripted_team(pitch, own_pos, own_vel, ball, strength, key)
        return discretise(control, kicking, kick)

    def policy(carry, observation, first, key):
        views = observation.agents_view
        return carry, jax.vmap(one_env)(views, jax.random.split(key, views.shape[0]))

    return policy

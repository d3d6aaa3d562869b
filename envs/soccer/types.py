"""Soccer's state and constants: the pitch geometry and physics parameters, and the env state."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import chex
import numpy as np

__all__ = ["Pitch", "SoccerState"]


@dataclass(frozen=True)
class Pitch:
    """Geometry and physics of the pitch (defaults: VMAS ``football``'s, Bettini et al. 2022).

    The pitch is ``length x width`` centred at the origin; team 0 attacks the goal at
    ``x = +length / 2``, team 1 the one at ``x = -length / 2``. Goals are ``goal_width`` wide and
    ``goal_depth`` deep, centred on the end lines. Players are discs of ``player_radius`` and
    mass ``player_mass``, the ball one of ``ball_radius`` and ``ball_mass``. A step lasts ``dt``
    and is integrated in ``substeps`` sub-steps; ``drag`` damps velocities once per step, a
    control ``u in [-1, 1]^2`` is the force ``u * force_scale``. A kick adds ``kick_speed`` to the
    ball's velocity when its centre is within ``kick_reach`` of the kicker's (VMAS's shooting
    radius).
    """

    length: float = 3.0
    width: float = 1.5
    goal_width: float = 0.35
    goal_depth: float = 0.1
    player_radius: float = 0.025
    ball_radius: float = 0.02
    player_mass: float = 1.0
    ball_mass: float = 0.25
    player_max_speed: float = 0.15
    ball_max_speed: float = 0.3
    force_scale: float = 0.1  # VMAS's u_multiplier
    drag: float = 0.05
    dt: float = 0.1
    substeps: int = 2
    contact_force: float = 100.0
    contact_margin: float = 1e-3
    kick_reach: float = 0.08
    kick_speed: float = 0.3

    @cached_property
    def walls(self) -> tuple[np.ndarray, np.ndarray]:
        """``(start [S, 2], end [S, 2])``: touchlines, end lines beside the goal mouths, and each
        goal's two side nets and back net (12 segments)."""
        half_l, half_w, half_g = self.length / 2, self.width / 2, self.goal_width / 2
        back = half_l + self.goal_depth
        segments = [((-half_l, half_w), (half_l, half_w)), ((-half_l, -half_w), (half_l, -half_w))]
        for side in (1.0, -1.0):
            x, xb = side * half_l, side * back
            segments += [
                ((x, half_g), (x, half_w)),
                ((x, -half_w), (x, -half_g)),
                ((x, half_g), (xb, half_g)),
                ((x, -half_g), (xb, -half_g)),
                ((xb, -half_g), (xb, half_g)),
            ]
        array = np.asarray(segments, np.float32)
        return array[:, 0], array[:, 1]

    @property
    def half_extent(self) -> np.ndarray:
        """``[2]`` half size of the box that holds every disc (pitch plus goals), as VMAS's
        world semidims."""
        return np.array([self.length / 2 + self.goal_depth, self.width / 2], np.float32)


@chex.dataclass
class SoccerState:
    """One match.

    Attributes:
        key: PRNG key (the scripted opponent's decision noise).
        step_count: ``[]`` int32 steps taken.
        pos: ``[2n + 1, 2]`` positions: team 0's ``n`` players, team 1's, then the ball.
        vel: ``[2n + 1, 2]`` velocities, in the same order.
        score: ``[2]`` int32 goals of team 0 and team 1 so far.
        possession: ``[]`` int32 the team (0 or 1) whose player is closest to the ball.
    """

    key: chex.PRNGKey
    step_count: chex.Array
    pos: chex.Array
    vel: chex.Array
    score: chex.Array
    possession: chex.Array

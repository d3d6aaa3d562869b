"""Top-down matplotlib view of a soccer state: pitch, goals, teams (blue attacks right, red left), ball."""

from __future__ import annotations

import numpy as np

__all__ = ["draw", "TEAM_COLOURS"]

TEAM_COLOURS = ("#377eb8", "#e41a1c")  # VMAS's blue and red


def draw(env, state):
    """A figure of one (unbatched) state: the pitch with its markings and goals, each team's
    players as discs in its colour (team 0 blue, team 1 red), the ball in white, and the score,
    step and team in possession in the title."""
    import matplotlib.pyplot as plt

    p = env.pitch
    half_l, half_w, half_g = p.length / 2, p.width / 2, p.goal_width / 2
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.set_facecolor("#2a5d2a")  # the surround, darker than the pitch, so the white walls show
    ax.add_patch(plt.Rectangle((-half_l, -half_w), p.length, p.width, color="#3f8f3f", zorder=0))
    line = dict(color="white", lw=1.2, zorder=1)
    ax.plot([0, 0], [-half_w, half_w], **line)
    ax.add_patch(plt.Circle((0, 0), p.goal_width / 2, fill=False, ec="white", lw=1.2, zorder=1))
    for side, colour in ((1, TEAM_COLOURS[1]), (-1, TEAM_COLOURS[0])):  # a goal in its defenders' colour
        ax.add_patch(
            plt.Rectangle(
                (min(side * half_l, side * (half_l + p.goal_depth)), -half_g),
                p.goal_depth,
                p.goal_width,
                color=colour,
                alpha=0.35,
                zorder=1,
            )
        )
    start, end = p.walls
    for a, b in zip(start, end):
        ax.plot([a[0], b[0]], [a[1], b[1]], color="white", lw=2.0, zorder=2)
    pos = np.asarray(state.pos)
    n = env.team_size
    for i in range(2 * n):
        ax.add_patch(
            plt.Circle(pos[i], p.player_radius * 1.4, color=TEAM_COLOURS[i // n], ec="black", lw=0.6, zorder=3)
        )
    ax.add_patch(plt.Circle(pos[-1], p.ball_radius * 1.4, color="white", ec="black", lw=0.8, zorder=4))
    score = np.asarray(state.score)
    ax.set_xlim(-half_l - p.goal_depth - 0.05, half_l + p.goal_depth + 0.05)
    ax.set_ylim(-half_w - 0.05, half_w + 0.05)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    holder = "blue" if int(state.possession) == 0 else "red"
    ax.set_title(
        f"blue {score[0]} : {score[1]} red   step {int(state.step_count)}/{env.max_steps}   ball: {holder}", fontsize=9
    )
    fig.tight_layout()
    return fig

"""Top-down rendering of traffic scenes (matplotlib): lanes, vehicles as rotated boxes.

Vehicles are coloured by who drives them -- learning agents green (numbered), NPCs by driver type
(normal blue, aggressive red, defensive amber) -- and crashed vehicles are drawn dark with a
cross. The window follows the agents (centred on the mean ``x`` of those still driving).
"""

from __future__ import annotations

import numpy as np

from marljax.envs.traffic.common.drivers import AGGRESSIVE, DEFENSIVE, NORMAL
from marljax.envs.traffic.common.kinematics import LENGTH, WIDTH
from marljax.envs.traffic.common.road import Road

__all__ = ["AGENT_COLOUR", "DRIVER_COLOURS", "draw_traffic", "figure_to_rgb", "vehicle_corners"]

AGENT_COLOUR = "#2ca02c"
DRIVER_COLOURS = {NORMAL: "#1f77b4", AGGRESSIVE: "#d62728", DEFENSIVE: "#ffb000"}
CRASHED_COLOUR = "#333333"


def vehicle_corners(position: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """``[M, 4, 2]`` corners of vehicles' boxes (numpy twin of :func:`marljax.physics.boxes.box_corners`)."""
    cos, sin = np.cos(heading)[:, None], np.sin(heading)[:, None]
    local = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * [LENGTH / 2, WIDTH / 2]
    x = position[:, None, 0] + local[None, :, 0] * cos - local[None, :, 1] * sin
    y = position[:, None, 1] + local[None, :, 0] * sin + local[None, :, 1] * cos
    return np.stack([x, y], -1)


def draw_traffic(road: Road, vehicles, num_controlled: int, title: str = "", window: float = 200.0, centre=None):
    """A figure of the road and its vehicles.

    Args:
        road: the road.
        vehicles: a single-scene :class:`~marljax.envs.traffic.common.traffic.Vehicles`.
        num_controlled: the first ``num_controlled`` vehicles are agents.
        title: figure title.
        window: metres of road shown.
        centre: ``x`` at the middle of the window; default the mean ``x`` of the uncrashed agents
            (of all agents if every one has crashed).

    Returns:
        A matplotlib ``Figure`` (close it after use, or pass it to :func:`figure_to_rgb`).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    position = np.asarray(vehicles.position, np.float64)
    heading = np.asarray(vehicles.heading, np.float64)
    crashed = np.asarray(vehicles.crashed)
    driver_type = np.asarray(vehicles.driver_type)
    if centre is None:
        agents = np.arange(len(crashed)) < num_controlled
        driving = agents & ~crashed
        centre = position[driving if driving.any() else agents, 0].mean() if agents.any() else position[:, 0].mean()
    lo, hi = centre - window / 2, centre + window / 2
    w = road.lane_width
    top, bottom = -w / 2, (road.num_lanes - 0.5) * w
    height = 9.0 * (bottom - top + 2) / window + 1.0  # inches: the road at equal aspect, plus title and legend
    fig, ax = plt.subplots(figsize=(10, height))
    ax.add_patch(plt.Rectangle((lo, top), window, bottom - top, color="#8c8c8c", zorder=0))
    for k in range(road.num_lanes + 1):  # solid edges, dashed separators
        y = top + k * w
        edge = k in (0, road.num_lanes)
        ax.plot([lo, hi], [y, y], color="white", lw=1.5 if edge else 0.8, ls="-" if edge else (0, (6, 6)), zorder=1)
    corners = vehicle_corners(position, heading)
    for i in np.flatnonzero((position[:, 0] > lo - LENGTH) & (position[:, 0] < hi + LENGTH)):
        is_agent = i < num_controlled
        colour = AGENT_COLOUR if is_agent else DRIVER_COLOURS.get(int(driver_type[i]), "#1f77b4")
        face = CRASHED_COLOUR if crashed[i] else colour
        ax.add_patch(Polygon(corners[i], closed=True, fc=face, ec="black" if is_agent else colour, lw=1.2, zorder=2))
        if crashed[i]:
            ax.plot(*position[i], marker="x", color=colour, ms=7, mew=2, zorder=3)
        if is_agent:
            ax.text(*position[i], str(i), color="white", fontsize=6, ha="center", va="center", zorder=4)
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom + 1, top - 1)  # lane 0 (leftmost) on top, as highway-env draws it
    ax.set_aspect("equal")
    ax.set_yticks([])
    ax.set_xlabel("x (m)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=AGENT_COLOUR, label="agent")]
    handles += [
        plt.Rectangle((0, 0), 1, 1, color=c, label=n)
        for n, c in zip(("normal", "aggressive", "defensive"), DRIVER_COLOURS.values())
    ]
    handles += [plt.Rectangle((0, 0), 1, 1, color=CRASHED_COLOUR, label="crashed")]
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=5, fontsize=7, frameon=False)
    ax.set_title(title, fontsize=9, loc="left")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.8, bottom=0.25)
    return fig


def figure_to_rgb(fig) -> np.ndarray:
    """``[H, W, 3]`` uint8 pixels of a figure, which is then closed."""
    import matplotlib.pyplot as plt

    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return rgb

"""Matplotlib drawings shared by the swarm envs: headings as arrows, phases as colours.

Each function returns a figure (``marljax.viz.animate`` turns a sequence into a GIF). Colours
use the cyclic ``hsv`` map, so an angle and its colour wrap around together.
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_headings", "draw_phases", "draw_points"]

_MAX_ARROWS = 2000  # beyond this a frame shows a uniform sample (10,000 arrows are a grey smear)


def _figure(title: str):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    return fig, ax


def _sample(n: int) -> np.ndarray:
    return np.arange(n) if n <= _MAX_ARROWS else np.linspace(0, n - 1, _MAX_ARROWS).astype(int)


def draw_headings(pos, heading, box_size: float, title: str, arrow_length: float | None = None):
    """Agents as arrows at ``pos [N, 2]`` pointing along ``heading [N]``, coloured by heading,
    in the periodic box ``[0, L)^2``."""
    pos, heading = np.asarray(pos), np.asarray(heading)
    keep = _sample(len(heading))
    pos, heading = pos[keep], heading[keep]
    fig, ax = _figure(title)
    length = arrow_length or box_size / max(12.0, 1.5 * np.sqrt(len(heading)))
    colour = np.mod(heading, 2 * np.pi) / (2 * np.pi)
    ax.quiver(
        pos[:, 0],
        pos[:, 1],
        np.cos(heading) * length,
        np.sin(heading) * length,
        colour,
        cmap="hsv",
        clim=(0.0, 1.0),
        angles="xy",
        scale_units="xy",
        scale=1.0,
        width=0.006,
        pivot="middle",
    )
    ax.set_xlim(0, box_size)
    ax.set_ylim(0, box_size)
    return fig


def draw_phases(theta, title: str, order=None):
    """Oscillators as dots on the unit circle at their phases ``theta [N]``, coloured by phase,
    with the order parameter ``R e^{i psi}`` as an arrow from the centre."""
    import matplotlib.pyplot as plt

    theta = np.asarray(theta)[_sample(len(theta))]
    fig, ax = _figure(title)
    ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, color="0.7"))
    ax.scatter(np.cos(theta), np.sin(theta), c=np.mod(theta, 2 * np.pi) / (2 * np.pi), cmap="hsv", vmin=0, vmax=1, s=14)
    if order is not None:
        r, psi = order
        ax.annotate("", (r * np.cos(psi), r * np.sin(psi)), (0, 0), arrowprops=dict(arrowstyle="->", lw=2, color="k"))
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-1.2, 1.2)
    return fig


def draw_points(pos, box_size: float, title: str, centre=None, colour="tab:blue", lim=None, obstacles=(), target=None):
    """Agents as dots at ``pos [N, 2]``; optionally a centre (cross), obstacles (discs
    ``[(x, y, r)]``) and a target (green disc). ``lim`` overrides the ``[0, L)^2`` frame."""
    import matplotlib.pyplot as plt

    pos = np.asarray(pos)
    fig, ax = _figure(title)
    for x, y, r in obstacles:
        ax.add_patch(plt.Circle((x, y), r, color="tab:red", alpha=0.6))
    if target is not None:
        ax.add_patch(plt.Circle(target[:2], target[2], color="tab:green", alpha=0.8))
    ax.scatter(pos[:, 0], pos[:, 1], c=colour, s=14 if len(pos) > 50 else 40)
    if centre is not None:
        ax.plot(*centre, "kx", ms=10, mew=2)
    low, high = lim if lim is not None else (0.0, box_size)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    return fig

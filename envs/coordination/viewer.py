"""Drawing the coordination envs: one labelled disc per agent."""

from __future__ import annotations

import numpy as np

__all__ = ["draw_agents"]


def draw_agents(values, colors, labels, title: str, rows: int = 1):
    """A figure with one disc per agent on a ``rows x N/rows`` grid, filled with ``colors``
    and labelled with ``labels`` (the agent's bit or backlog)."""
    import matplotlib.pyplot as plt

    n = len(values)
    cols = int(np.ceil(n / rows))
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * cols, 0.6 + 0.9 * rows))
    for i in range(n):
        r, c = divmod(i, cols)
        ax.add_patch(plt.Circle((c, -r), 0.38, facecolor=colors[i], edgecolor="black"))
        dark = colors[i] == "black" or (colors[i].replace(".", "", 1).isdigit() and float(colors[i]) < 0.5)
        ax.text(c, -r, labels[i], ha="center", va="center", color="white" if dark else "black")
    ax.set_xlim(-0.6, cols - 0.4)
    ax.set_ylim(-rows + 0.4, 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    return fig

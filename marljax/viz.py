"""Plotting and animation helpers (matplotlib, headless by default)."""

from __future__ import annotations

import pathlib

import matplotlib
import matplotlib.ticker

if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
    matplotlib.use("Agg")  # no display on servers and CI

__all__ = ["save_figure", "animate", "plot_curves", "plot_exploitability", "plot_meta_strategies"]


def save_figure(fig, path) -> pathlib.Path:
    """Write ``fig`` as a PNG and close it."""
    import matplotlib.pyplot as plt

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_curves(curves: dict, path, xlabel: str, ylabel: str, title: str = "", logy: bool = False):
    """Line plot of ``{label: (x, y)}`` (``y`` may be ``[seeds, T]``: mean with a min-max band)."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (x, y) in curves.items():
        y = np.asarray(y)
        if y.ndim == 2:
            ax.plot(x, y.mean(0), label=label)
            ax.fill_between(x, y.min(0), y.max(0), alpha=0.2)
        else:
            ax.plot(x, y, label=label)
    if logy:
        ax.set_yscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.EngFormatter())  # 200k, not 200000 (labels overlap)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def animate(env, states, path, fps: int = 10) -> pathlib.Path:
    """Render each state of a rollout with ``env.render`` and write a GIF (or MP4 by suffix).

    ``states`` is a sequence of single-env states (e.g. from unstacking a scanned rollout).
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    frames = []
    for state in states:
        fig = env.render(state)
        fig.canvas.draw()
        frames.append(Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB"))
        plt.close(fig)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return path


def plot_exploitability(curves: dict, path, title: str = ""):
    """PSRO's curves ``{label: nash_conv per iteration}`` on a log scale (floored at 1e-12, so
    an exact zero still shows)."""
    import numpy as np

    floored = {k: (np.arange(len(v)), np.maximum(np.abs(np.asarray(v)), 1e-12)) for k, v in curves.items()}
    return plot_curves(floored, path, "PSRO iteration", "NashConv of the meta-strategy", title, logy=True)


def plot_meta_strategies(mixtures: list, path, title: str = "", action_names=None, ylabel: str = "action"):
    """One panel per player: a distribution (rows: actions or population slots) per PSRO
    iteration (columns); ``mixtures[i]`` is ``[iterations, A_i]``."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, len(mixtures), figsize=(4.5 * len(mixtures), 3.8), squeeze=False, layout="constrained")
    for i, (ax, mix) in enumerate(zip(axes[0], mixtures)):
        image = ax.imshow(
            np.asarray(mix).T,
            aspect="auto",
            origin="lower",
            cmap="viridis",
            vmin=0.0,
            vmax=1.0,
            interpolation="nearest",
        )
        ax.set_xlabel("PSRO iteration")
        ax.set_ylabel(ylabel)
        if action_names is not None:
            ax.set_yticks(range(len(action_names[i])), action_names[i])
        else:  # whole actions or slots; at most ~12 labels
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=12, integer=True))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_title(f"player {i + 1}")
    fig.colorbar(image, ax=axes[0].tolist(), label="probability")
    fig.suptitle(title)
    return save_figure(fig, path)

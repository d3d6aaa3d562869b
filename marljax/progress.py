"""One progress bar for all long work: training runs, PSRO loops, demos.

:class:`ProgressBar` wraps ``tqdm``. Host code calls :meth:`ProgressBar.update`; jitted code
moves it with ``jax.debug.callback(bar.advance_to, step)``, which is idempotent (under ``vmap``
every seed reports the same step, and the bar only ever moves forward). A disabled bar costs
nothing and prints nothing, so callers never branch on whether progress is shown.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ProgressBar"]


class ProgressBar:
    """A tqdm bar that host and jitted code can move (``enabled=False``: a silent no-op)."""

    def __init__(self, total: int, desc: str, unit: str = "it", enabled: bool = True):
        self.enabled = enabled
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=int(total), desc=desc, unit=unit, dynamic_ncols=True)

    @property
    def n(self) -> int:
        return self._bar.n if self._bar is not None else 0

    def update(self, steps: int = 1, **postfix) -> None:
        """Move forward by ``steps``; ``postfix`` (e.g. ``nash_conv=0.1``) is shown beside the bar."""
        if self._bar is None:
            return
        if postfix:
            self._bar.set_postfix({k: _short(v) for k, v in postfix.items()}, refresh=False)
        self._bar.update(int(steps))

    def advance_to(self, step, **postfix) -> None:
        """Move to ``step`` (the largest entry if it is an array); never moves back."""
        step = int(np.max(np.asarray(step)))
        if step > self.n:
            self.update(step - self.n, **postfix)

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        if self._bar is not None:
            self._bar.write(message)
        else:
            print(message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _short(value) -> str:
    try:
        return f"{float(np.asarray(value)):.3g}"
    except (TypeError, ValueError):
        return str(value)

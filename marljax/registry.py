"""Environment registry: ``marljax.make("family/Name-v0", **kwargs)`` and ``registered()``."""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Callable

__all__ = ["register", "make", "registered", "describe", "UnknownEnvError"]


@dataclass(frozen=True)
class _Entry:
    factory: Callable
    kwargs: dict
    description: str


_REGISTRY: dict[str, _Entry] = {}
# Modules that register envs when imported; loaded lazily so that ``import marljax`` is cheap
# and the core never imports the env packages at import time (they import the core).
_ENV_MODULES = ("marljax.envs",)


class UnknownEnvError(KeyError):
    """Raised by :func:`make` for a name that is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def register(name: str, factory: Callable, description: str, **kwargs) -> None:
    """Register ``factory(**kwargs, **overrides)`` under ``family/Name-vK``."""
    if name.count("/") != 1 or "-v" not in name:
        raise ValueError(f"env names look like 'family/Name-v0', got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"env {name!r} is already registered")
    _REGISTRY[name] = _Entry(factory, kwargs, description)


def _load() -> None:
    for module in _ENV_MODULES:
        importlib.import_module(module)


def registered() -> list[str]:
    """All registered env names, sorted."""
    _load()
    return sorted(_REGISTRY)


def describe(name: str) -> str:
    """One-line description of a registered env."""
    return _entry(name).description


def _entry(name: str) -> _Entry:
    _load()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        known = "\n  ".join(sorted(_REGISTRY))
        raise UnknownEnvError(f"unknown env {name!r}.{hint} Known envs:\n  {known}")
    return _REGISTRY[name]


def make(name: str, **kwargs):
    """Build the registered env ``name``; ``kwargs`` override its registered defaults."""
    entry = _entry(name)
    return entry.factory(**{**entry.kwargs, **kwargs})

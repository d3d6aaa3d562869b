"""Environment registry: ``marljax.make("family/Name-v0", **kwargs)`` and ``registered()``.

``make`` checks the keyword arguments against the env factory's signature before building:
an option the env does not take, or a value whose type differs from its default's (a string
for an integer count, a float for an integer, a number for a flag), raises one ``ValueError``
naming the env, the option and the options it accepts. Errors the env's constructor raises
for a value it rejects (``num_agents=0``) come back as ``ValueError`` prefixed with the env's
name.

Names ``jaxmarl/<JaxMARL env name>`` are resolved on demand by :mod:`marljax.bridges.jaxmarl`
(JaxMARL's envs with marljax's interface); :func:`registered` lists only marljax's own envs, and
``marljax envs --family jaxmarl`` the JaxMARL ones.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["register", "make", "registered", "describe", "env_options", "env_metrics", "UnknownEnvError"]


@dataclass(frozen=True)
class _Entry:
    factory: Callable
    kwargs: dict
    description: str


_REGISTRY: dict[str, _Entry] = {}
# Modules that register envs when imported; loaded lazily so that ``import marljax`` is cheap
# and the core never imports the env packages at import time (they import the core).
_ENV_MODULES = ("marljax.envs",)
_NO_DEFAULT = inspect.Parameter.empty


class UnknownEnvError(KeyError):
    """Raised by :func:`make` for a name that is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def register(name: str, factory: Callable, description: str, **kwargs) -> None:
    """Register ``factory(**kwargs, **overrides)`` under ``family/Name-vK``.

    The factory's signature is what :func:`make` checks user options against, so give it
    explicit keyword parameters with defaults (a factory taking ``**kwargs`` accepts anything).
    """
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


def env_options(name: str) -> dict:
    """The keyword options ``make(name, ...)`` accepts, each with its default
    (``inspect.Parameter.empty`` when it has none); registered defaults override the factory's."""
    entry = _entry(name)
    options = {
        p.name: p.default
        for p in _parameters(entry.factory).values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return {**options, **entry.kwargs}


def env_metrics(name: str) -> dict:
    """The env's declared metrics ``{name: "sum" | "mean" | "final"}`` (see
    :attr:`marljax.MultiAgentEnv.metrics`); read from the class when the factory is one,
    otherwise from an env built with the registered defaults."""
    factory = _entry(name).factory
    if isinstance(factory, type):
        return dict(factory.metrics)
    return dict(make(name).metrics)


def _bridged_entry(name: str) -> _Entry:
    """The entry of a name another library's env catalog resolves (``jaxmarl/<JaxMARL name>``);
    such names are built on demand and not listed by :func:`registered`."""
    import functools

    from marljax.bridges import jaxmarl

    env_name = name[len(jaxmarl.PREFIX) :]
    jaxmarl.check_name(env_name)  # unknown name -> UnknownEnvError; missing extra -> MissingExtraError
    factory = functools.partial(jaxmarl.make_jaxmarl, env_name)
    cls = jaxmarl.jaxmarl_class(env_name)
    if cls is not None:  # make() checks options against the JaxMARL class's own signature
        factory.__signature__ = inspect.signature(cls)
    return _Entry(factory, {}, jaxmarl.describe_jaxmarl(env_name))


def _entry(name: str) -> _Entry:
    if name.startswith("jaxmarl/"):
        return _bridged_entry(name)
    _load()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        known = "\n  ".join(sorted(_REGISTRY))
        raise UnknownEnvError(f"unknown env {name!r}.{hint} Known envs:\n  {known}")
    return _REGISTRY[name]


def make(name: str, **kwargs):
    """Build the registered env ``name``; ``kwargs`` override its registered defaults.

    Raises:
        UnknownEnvError: ``name`` is not registered (the message lists the known envs).
        ValueError: an option the env does not take, a value of the wrong type, or a value
            the env's constructor rejects; the message names the env and the option.
    """
    entry = _entry(name)
    _check_options(name, entry, kwargs)
    try:
        return entry.factory(**{**entry.kwargs, **kwargs})
    except ValueError as err:
        raise ValueError(f"env {name!r}: {err}") from err
    except TypeError as err:
        if not kwargs:  # nothing the user gave: a bug in the env, keep its traceback
            raise
        raise ValueError(f"env {name!r} cannot be built with {kwargs}: {err}") from err


def _parameters(factory: Callable) -> dict:
    try:
        return dict(inspect.signature(factory).parameters)
    except (TypeError, ValueError):  # no introspectable signature: accept anything
        return {"kwargs": inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)}


def _check_options(name: str, entry: _Entry, kwargs: dict) -> None:
    parameters = _parameters(entry.factory)
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    options = env_options(name)
    listing = ", ".join(f"{key}={_show(default)}" for key, default in options.items()) or "none"
    for key, value in kwargs.items():
        if key not in options:
            close = difflib.get_close_matches(key, options, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"env {name!r} takes no option {key!r}{hint}; its options: {listing}")
        expected = _expected_type(options[key])
        if expected is not None and not _fits(value, options[key]):
            raise ValueError(
                f"env {name!r}: option {key!r} must be {expected} (default {options[key]!r}); "
                f"got {value!r} ({type(value).__name__}). Its options: {listing}"
            )


def _show(default) -> str:
    return "<required>" if default is _NO_DEFAULT else repr(default)


def _expected_type(default) -> str | None:
    """What a value must be, judged by the option's default; None when the default says
    nothing (``None``, an array, no default)."""
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, numbers.Integral):
        return "an integer"
    if isinstance(default, numbers.Real):
        return "a number"
    if isinstance(default, str):
        return "a string"
    if isinstance(default, (tuple, list)):
        return "a list"
    return None


def _fits(value, default) -> bool:
    if isinstance(default, bool):
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, bool):  # True is an Integral too; never a count or a rate
        return False
    if isinstance(default, numbers.Integral):
        return isinstance(value, numbers.Integral)
    if isinstance(default, numbers.Real):
        return isinstance(value, numbers.Real)
    if isinstance(default, str):
        return isinstance(value, str)
    return isinstance(value, (tuple, list))

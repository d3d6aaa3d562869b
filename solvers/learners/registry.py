"""The learner registry: every learner that ``marljax train``, ``runs.train`` and
``runs.evaluate`` can run, registered in one place with its own config dataclass.

A learner is a module-level ``make_learner(config, env, progress=None) -> Learner`` and a
frozen config dataclass with a ``total_steps`` field and a ``num_updates`` property; every
other config field becomes a ``marljax train`` flag. The learner object has the pieces a run
folder uses (see :class:`marljax.solvers.learners.ppo.Learner`):

* ``init(key) -> runner`` with ``runner.update`` (updates done) and ``runner.params``;
* ``run(runner, num_updates) -> (runner, metrics)``, metrics a dict of ``[num_updates, ...]``
  arrays: ``episode_return [.., N]``, ``env_steps``, any scalars (losses...) and
  ``env_metrics`` (name -> scalar per update);
* ``act(params, carry, observation, reset, key, greedy) -> (carry, action)`` for ``[E, N]`` agents;
* ``initial_carry(E)``: the policy's recurrent state (a dict whose ``"actor"`` entry goes to
  ``act``, or that state itself).

``progress`` (a callable, or None) is called from inside jit with the update number.

    register_learner("ippo", PPOConfig, ippo.make_learner, "independent PPO: ...")
    spec = get_learner("ippo")
    learner = spec.make_learner(spec.config(total_steps=1e5, lr=1e-3), env)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

__all__ = ["LearnerSpec", "register_learner", "get_learner", "learner_names", "LEARNERS"]


@dataclasses.dataclass(frozen=True)
class LearnerSpec:
    """One registered learner.

    Attributes:
      name: the name users type (``marljax train NAME ENV``).
      config_class: frozen dataclass of its hyper-parameters (defaults that work).
      make_learner: ``(config, env, **kwargs) -> Learner``.
      description: one line for ``marljax train --help``.
      fixed: config fields the algorithm itself sets (MAPPO: ``centralised_critic=True``);
        they are not flags and a user value for them is an error.
      hidden: config fields that are not flags (set only from code, e.g. PSRO's ``trained_agents``).
    """

    name: str
    config_class: type
    make_learner: Callable[..., Any]
    description: str
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hidden: tuple = ()

    def flag_fields(self) -> list[dataclasses.Field]:
        """The config fields a user may set (every field but ``total_steps``, fixed and hidden ones)."""
        skip = {"total_steps", *self.fixed, *self.hidden}
        return [f for f in dataclasses.fields(self.config_class) if f.name not in skip]

    def config(self, **values):
        """The config with ``values`` over the defaults and the fixed fields applied.

        Raises ``ValueError`` for a field the config does not have or one the algorithm fixes.
        """
        known = {f.name for f in dataclasses.fields(self.config_class)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{self.name} has no option {unknown}; its options: {sorted(known - set(self.fixed))}")
        clash = sorted(k for k in values if k in self.fixed and values[k] != self.fixed[k])
        if clash:
            raise ValueError(f"{self.name} fixes {clash} to {[self.fixed[k] for k in clash]}")
        return self.config_class(**{**values, **self.fixed})


LEARNERS: dict[str, LearnerSpec] = {}


def register_learner(
    name: str,
    config_class: type,
    make_learner: Callable[..., Any],
    description: str,
    fixed: Mapping[str, Any] | None = None,
    hidden: tuple = (),
) -> LearnerSpec:
    """Register a learner under ``name`` (re-registering a name replaces it)."""
    if not dataclasses.is_dataclass(config_class):
        raise TypeError(f"config_class of learner {name!r} must be a dataclass; got {config_class!r}")
    if "total_steps" not in {f.name for f in dataclasses.fields(config_class)}:
        raise TypeError(f"config_class of learner {name!r} needs a total_steps field")
    spec = LearnerSpec(name, config_class, make_learner, description, dict(fixed or {}), tuple(hidden))
    LEARNERS[name] = spec
    return spec


def get_learner(name: str) -> LearnerSpec:
    """The registered learner ``name``; an unknown name raises ``ValueError`` listing the known ones."""
    _load_builtin()
    if name not in LEARNERS:
        raise ValueError(f"unknown learner {name!r}; registered learners: {learner_names()}")
    return LEARNERS[name]


def learner_names() -> list[str]:
    _load_builtin()
    return sorted(LEARNERS)


def _load_builtin() -> None:
    # The built-in learners register themselves when their modules are imported.
    import marljax.solvers.bnac.learner  # noqa: F401  (registers bn-mappo with register_learner)
    import marljax.solvers.learners.ippo  # noqa: F401
    import marljax.solvers.learners.mappo  # noqa: F401
    import marljax.solvers.mfc.learner  # noqa: F401  (registers mfc)

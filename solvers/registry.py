"""The solver registry: one entry per solver name, read by the ``solve`` CLI, PSRO's
meta-solvers and the README table.

An entry (:class:`SolverSpec`) holds the factory, a one-line description, the default options
and whether the solver is exact (a finite algorithm: LP, pivoting, linear algebra) or iterative
(learning dynamics, fictitious play); also what its ``success`` certifies, the game it needs,
and the array inputs it takes besides the payoffs (an initial ``profile``, strategy ``masks``).

* :func:`get_solver` -- the entry of a name (unknown names: ``ValueError`` listing the known).
* :func:`solver_names` -- every registered name, in registration order.
* :func:`solve` -- ``solve(name, payoffs, **options)``: the one call the CLI makes.
* :func:`nash_solver_for` -- the ``nash`` dispatch, decided once here: the zero-sum LP for
  two-player zero-sum games, Lemke-Howson for other two-player games.

Every factory returns a callable ``(payoffs, **inputs) -> result`` built from the solver's
public function, so each call is validated there (:func:`marljax.solvers.base.validated`) and
compiled once per game shape and options.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from types import MappingProxyType
from typing import Any, Callable, Mapping

from marljax.checks import is_concrete
from marljax.solvers import dynamics
from marljax.solvers.base import validate_game
from marljax.solvers.equilibria import correlated, rae
from marljax.solvers.equilibria.alpharank import alpharank
from marljax.solvers.equilibria.lemke_howson import lemke_howson
from marljax.solvers.equilibria.support_enumeration import support_enumeration
from marljax.solvers.equilibria.zero_sum import zero_sum
from marljax.solvers.game.properties import is_zero_sum

__all__ = ["SolverSpec", "register_solver", "get_solver", "solver_names", "solve", "nash_solver_for", "ALIASES"]


@dataclasses.dataclass(frozen=True)
class SolverSpec:
    """One registered solver.

    Attributes:
      name: the registry name (``marljax solve --solver NAME``, PSRO's ``meta_solver=NAME``).
      build: ``build(**options) -> solve(payoffs, **inputs) -> result``; takes every option in
        ``defaults``.
      description: one line, for ``--help`` and the README table.
      defaults: every option the solver takes, with its default.
      exact: a finite algorithm (True) or an iterative one run for a budget (False).
      module: the file that implements it (for the README table).
      certifies: what ``result.success`` certifies: ``"Nash"`` (NashConv within the tolerance),
        ``"CE"``/``"CCE"`` (the correlated gap), ``"RAE"`` (the RA-gap) or ``"distribution"``
        (alpha-Rank: a finite stationary distribution).
      num_players: the number of players it needs (None: any).
      zero_sum: it needs a two-player zero-sum game.
      inputs: array inputs it takes besides the payoffs (``"profile"``: the initial profile of
        an iterative solver; ``"masks"``: per-player allowed strategies).
      meta_defaults: option overrides when it serves as a PSRO meta-solver (cheaper budgets:
        it runs once per PSRO iteration).
    """

    name: str
    build: Callable[..., Callable]
    description: str
    defaults: Mapping[str, Any]
    exact: bool
    module: str = ""
    certifies: str = "Nash"
    num_players: int | None = None
    zero_sum: bool = False
    inputs: tuple[str, ...] = ()
    meta_defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def options(self, given: Mapping[str, Any], called: str | None = None) -> dict:
        """The defaults updated with ``given``; an option it does not take is a ``ValueError``
        (naming the solver as ``called``, default ``solver 'NAME'``)."""
        unknown = sorted(set(given) - set(self.defaults))
        if unknown:
            takes = ", ".join(sorted(self.defaults)) or "no options"
            called = called or f"solver {self.name!r}"
            raise ValueError(f"{called} does not take option(s) {', '.join(unknown)}; it takes: {takes}")
        return {**self.defaults, **given}

    def __call__(self, payoffs, **options):
        """Solve ``payoffs`` with these options (inputs such as ``profile`` or ``masks`` too)."""
        inputs = {k: options.pop(k) for k in list(options) if k in self.inputs}
        return self.build(**self.options(options))(payoffs, **inputs)


_REGISTRY: dict[str, SolverSpec] = {}

#: Other names PSRO and older scripts use for registered solvers.
ALIASES = MappingProxyType(
    {"prd": "projected_replicator_dynamics", "nash_zero_sum": "zero_sum", "nash_general_sum": "lemke_howson"}
)


def register_solver(spec: SolverSpec) -> SolverSpec:
    """Add a solver (its name must be new)."""
    if spec.name in _REGISTRY or spec.name in ALIASES:
        raise ValueError(f"solver {spec.name!r} is already registered")
    _REGISTRY[spec.name] = dataclasses.replace(
        spec, defaults=MappingProxyType(dict(spec.defaults)), meta_defaults=MappingProxyType(dict(spec.meta_defaults))
    )
    return _REGISTRY[spec.name]


def solver_names() -> list[str]:
    """Every registered solver name."""
    return list(_REGISTRY)


def get_solver(name: str) -> SolverSpec:
    """The entry of ``name`` (or of its alias); unknown names raise ``ValueError`` listing the known."""
    if not isinstance(name, str) or ALIASES.get(name, name) not in _REGISTRY:
        raise ValueError(f"unknown solver {name!r}; known solvers: {', '.join(solver_names())}")
    return _REGISTRY[ALIASES.get(name, name)]


def nash_solver_for(payoffs) -> SolverSpec:
    """The ``nash`` dispatch: the zero-sum LP for a two-player zero-sum game, Lemke-Howson for
    any other two-player game (also when the game is traced, so its kind is unknown:
    Lemke-Howson solves zero-sum games too)."""
    if payoffs.shape[0] != 2:
        raise ValueError(
            f"the Nash solvers are for two-player games; this game has {payoffs.shape[0]} players "
            "(use fictitious_play, regret_matching, ce or cce)"
        )
    zero = is_concrete(payoffs) and is_zero_sum(payoffs)
    return get_solver("zero_sum" if zero else "lemke_howson")


def solve(name: str, payoffs, **options):
    """Solve ``payoffs [n, A_1..A_n]`` with the registered solver ``name``.

    Args:
      name: a name of :func:`solver_names` (or an alias: ``prd``, ``nash_zero_sum``, ...).
      payoffs: the payoff tensor (integers are promoted to float).
      **options: the solver's options (see ``get_solver(name).defaults``) and array inputs
        (``get_solver(name).inputs``: the initial ``profile``, ``masks``, ``labels``).
    Returns:
      The solver's result: ``.profile``, ``.nash_conv``, ``.success`` and its own fields.
    Raises:
      ValueError: an unknown name or option, a bad option value, or a game the solver does not
        take.
    """
    return get_solver(name)(payoffs, **options)


# ------------------------------------------------------------------------------ the entries


def _signature_defaults(fn, exclude=()) -> dict:
    """The options ``fn`` takes with their defaults (its signature is where they live)."""
    parameters = inspect.signature(fn).parameters.items()
    return {k: p.default for k, p in parameters if p.default is not inspect.Parameter.empty and k not in exclude}


def _bind(fn, **options):
    """``fn(payoffs, **inputs, **options)`` as a function of the game and inputs."""
    return functools.partial(fn, **options)


def _entry(name, fn, description, *, inputs=(), hidden=(), extra=None, **fields) -> SolverSpec:
    """The entry of a public solver function: its options and defaults are its signature's,
    less its array ``inputs`` and the ``hidden`` keywords (deprecated aliases)."""
    defaults = {**_signature_defaults(fn, exclude=(*inputs, *hidden)), **(extra or {})}
    return SolverSpec(name, functools.partial(_bind, fn), description, defaults, inputs=inputs, **fields)


def _solve_dynamics(builder, fixed, num_steps, tol, **hyper):
    return _bind(builder(**hyper, **fixed).solve, num_steps=num_steps, tol=tol)


def _dynamics_entry(name, builder, description, fixed=None, **fields) -> SolverSpec:
    """The entry of a learning dynamic: the builder's hyper-parameters, then ``num_steps`` and
    ``tol`` of :func:`marljax.solvers.dynamics.solve`."""
    defaults = {
        **_signature_defaults(builder, exclude=tuple(fixed or ())),
        "num_steps": 5000,
        "tol": dynamics.DYNAMICS_TOLERANCE,
    }
    build = functools.partial(_solve_dynamics, builder, dict(fixed or {}))
    return SolverSpec(name, build, description, defaults, exact=False, module=_LEARNING, inputs=("profile",), **fields)


def _nash(payoffs, **options):
    return nash_solver_for(validate_game(payoffs))(payoffs, **options)


_EQUILIBRIA = "solvers/equilibria/"
_LEARNING = "solvers/dynamics/learning_dynamics.py"

for _spec in [
    SolverSpec(
        "nash",
        functools.partial(_bind, _nash),
        "Nash equilibrium of a two-player game: zero_sum if it is zero-sum, else lemke_howson",
        _signature_defaults(zero_sum),
        exact=True,
        module="solvers/registry.py",
        num_players=2,
    ),
    _entry(
        "zero_sum",
        zero_sum,
        "two-player zero-sum LP (value and minimax strategies)",
        exact=True,
        module=_EQUILIBRIA + "zero_sum.py",
        num_players=2,
        zero_sum=True,
    ),
    _entry(
        "lemke_howson",
        lemke_howson,
        "two-player general-sum Nash by Lemke-Howson, all starting labels, verified",
        inputs=("labels",),
        exact=True,
        module=_EQUILIBRIA + "lemke_howson.py",
        num_players=2,
    ),
    _entry(
        "support_enumeration",
        support_enumeration,
        "every Nash equilibrium of a small non-degenerate two-player game",
        exact=True,
        module=_EQUILIBRIA + "support_enumeration.py",
        num_players=2,
    ),
    _dynamics_entry("fictitious_play", dynamics.fictitious_play, "n players; average of fictitious play"),
    _dynamics_entry(
        "replicator_dynamics", dynamics.replicator_dynamics, "n players; last iterate of discrete replicator dynamics"
    ),
    _dynamics_entry(
        "projected_replicator_dynamics",
        dynamics.projected_replicator_dynamics,
        "n players; average of projected replicator dynamics (PRD, PSRO's meta-solver)",
        meta_defaults={"num_steps": 2000},
    ),
    _dynamics_entry(
        "regret_matching", dynamics.regret_matching, "n players; average of regret matching", fixed={"plus": False}
    ),
    _dynamics_entry(
        "regret_matching_plus",
        dynamics.regret_matching,
        "n players; linearly weighted average of regret matching+",
        fixed={"plus": True},
    ),
    _dynamics_entry(
        "optimistic_mwu", dynamics.optimistic_mwu, "n players; last iterate of optimistic multiplicative weights"
    ),
    _entry(
        "alpharank",
        alpharank,
        "n players; marginals of the alpha-Rank stationary distribution",
        inputs=("masks",),
        exact=True,
        module=_EQUILIBRIA + "alpharank.py",
        certifies="distribution",
    ),
    _entry(
        "ce",
        correlated.ce,
        "n players; max-welfare correlated equilibrium (LP), its marginals as the profile",
        exact=True,
        module=_EQUILIBRIA + "correlated.py",
        certifies="CE",
    ),
    _entry(
        "cce",
        correlated.cce,
        "n players; max-welfare coarse correlated equilibrium (LP), its marginals as the profile",
        exact=True,
        module=_EQUILIBRIA + "correlated.py",
        certifies="CCE",
    ),
    _entry(
        "rae",
        rae.solve,
        "n players; risk-averse equilibrium by fictitious play on mean-variance best responses",
        inputs=("profile", "masks"),
        hidden=("init_profile",),
        extra={"gamma": 0.5},  # the default risk aversion: it lives here only (rae_solver has none)
        exact=False,
        module=_EQUILIBRIA + "rae.py",
        certifies="RAE",
        meta_defaults={"num_iters": 300},
    ),
]:
    register_solver(_spec)

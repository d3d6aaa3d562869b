"""Equilibrium solvers and learners (installed as ``marljax.solvers``)."""

from marljax.solvers import nash

__all__ = ["nash"]

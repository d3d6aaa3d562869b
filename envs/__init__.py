"""Environments (installed as ``marljax.envs``). Importing this package registers them all."""

from marljax.envs import cards, coordination, matrix, mpe, soccer, swarms, traffic

__all__ = ["cards", "coordination", "matrix", "mpe", "soccer", "swarms", "traffic"]

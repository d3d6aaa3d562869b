"""Environments (installed as ``marljax.envs``). Importing this package registers them all."""

from marljax.envs import coordination, matrix, mpe, soccer, swarms, traffic

__all__ = ["coordination", "matrix", "mpe", "soccer", "swarms", "traffic"]

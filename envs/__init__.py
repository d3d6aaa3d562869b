"""Environments (installed as ``marljax.envs``). Importing this package registers them all."""

from marljax.envs import matrix, mpe

__all__ = ["matrix", "mpe"]

"""Environments (installed as ``marljax.envs``). Importing this package registers them all."""

from marljax.envs import matrix
from marljax.envs import mpe

__all__ = ["matrix", "mpe"]

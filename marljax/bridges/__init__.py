"""Bridges to other libraries' envs and tools.

- From JaxMARL: ``marljax.make("jaxmarl/<JaxMARL name>", **kwargs)`` wraps any JaxMARL env as a
  marljax env (:class:`JaxMARLEnv`; ``jaxmarl`` is an optional extra).
- To PettingZoo: :func:`to_pettingzoo` turns any marljax env into a PettingZoo ``ParallelEnv``
  (or, with ``num_envs > 1``, a batched one) that steps the jitted env.
"""

from marljax.bridges.jaxmarl import JaxMARLEnv, MissingExtraError, jaxmarl_env_names, make_jaxmarl

__all__ = [
    "JaxMARLEnv",
    "MissingExtraError",
    "jaxmarl_env_names",
    "make_jaxmarl",
    "to_pettingzoo",
    "PettingZooParallelEnv",
    "PettingZooVectorEnv",
]


def __getattr__(name):  # the PettingZoo bridge imports pettingzoo, so it loads only when asked for
    if name in ("to_pettingzoo", "PettingZooParallelEnv", "PettingZooVectorEnv"):
        from marljax.bridges import pettingzoo

        return getattr(pettingzoo, name)
    raise AttributeError(f"module 'marljax.bridges' has no attribute {name!r}")

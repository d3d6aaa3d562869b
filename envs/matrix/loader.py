"""One loader for every way a user names a normal-form game (the CLI and scripts share it).

``load_game(spec)`` accepts:

* a catalog name: ``stag_hunt``, ``biased_rps``, ... (:data:`marljax.envs.matrix.CATALOG`);
* a generator with a size: ``random_symmetric_zero_sum:100``, ``disc_game:30``,
  ``transitive:20`` (the ``_game`` suffix may be dropped), drawn with ``seed``;
* a registered matrix env: ``matrix/StagHunt-v0`` (its payoff tensor);
* a payoff file: ``.npy`` holding ``[n, A_1..A_n]``, or ``.json`` holding that array as nested
  lists (or ``{"payoffs": [...]}``).

Unknown specs raise ``ValueError`` naming every accepted form.
"""

from __future__ import annotations

import json
import pathlib

import jax
import numpy as np

from marljax.envs.matrix import games

__all__ = ["load_game", "GENERATORS"]

#: Generators that take ``(key, size)``; also reachable without their ``_game`` suffix.
GENERATORS = {
    name: getattr(games, name)
    for name in ("random_symmetric_zero_sum", "transitive_game", "cyclic_game", "disc_game", "spinning_top_game")
}
GENERATORS.update({name.removesuffix("_game"): fn for name, fn in list(GENERATORS.items())})


def load_game(spec: str, seed: int = 0) -> np.ndarray:
    """The payoff tensor ``[n, A_1..A_n]`` that ``spec`` names (see the module docstring)."""
    if spec in games.CATALOG:
        return np.asarray(games.CATALOG[spec]())
    if "/" in spec and not spec.endswith((".npy", ".json")):
        import marljax

        env = marljax.make(spec)
        if not hasattr(env, "payoffs"):
            raise ValueError(f"env {spec!r} is not a matrix game, so it has no payoff tensor")
        return np.asarray(env.payoffs)
    path = pathlib.Path(spec)
    if path.suffix in (".npy", ".json"):
        return _load_file(path)
    name, _, size = spec.partition(":")
    if name in GENERATORS and size.isdigit() and int(size) > 0:
        return np.asarray(GENERATORS[name](jax.random.PRNGKey(seed), int(size)))
    raise ValueError(
        f"unknown game {spec!r}; give a catalog game ({', '.join(sorted(games.CATALOG))}), "
        f"a generator as NAME:SIZE ({', '.join(sorted(GENERATORS))}), a matrix env such as "
        f"matrix/StagHunt-v0, or a .npy/.json payoff file"
    )


def _load_file(path: pathlib.Path) -> np.ndarray:
    if not path.exists():
        raise ValueError(f"payoff file {path} does not exist")
    if path.suffix == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except ValueError as err:
            raise ValueError(f"{path} is not a numeric .npy array: {err}") from None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    data = data["payoffs"] if isinstance(data, dict) and "payoffs" in data else data
    try:
        return np.asarray(data, dtype=np.float64).astype(np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path} does not hold a rectangular numeric payoff tensor: {err}") from None

"""Import jumanji without its notebook hook.

Inside a Jupyter kernel, ``jumanji.environments`` (jumanji 1.1) switches matplotlib to the
``ipympl`` backend on import and raises when ipympl is not installed, which would make
``import marljax`` fail in every notebook. Hiding IPython's marker for the length of that one
import keeps matplotlib's inline backend. ``marljax/__init__.py`` imports this module first.
"""

import builtins

_flag = builtins.__dict__.pop("__IPYTHON__", None)
try:
    import jumanji  # noqa: F401
finally:
    if _flag is not None:
        builtins.__IPYTHON__ = _flag

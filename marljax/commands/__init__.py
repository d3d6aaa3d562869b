"""Subcommands of the ``marljax`` CLI, one module each (see :mod:`marljax.cli`)."""

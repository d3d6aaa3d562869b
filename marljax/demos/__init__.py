"""Sections of ``marljax demo``: each module has ``run(out_dir, key) -> dict``."""

"""Package discovery for the user's layout (everything else is in pyproject.toml).

``envs/`` and ``solvers/`` install as ``marljax.envs`` and ``marljax.solvers``. pyproject.toml
alone can map those folders but cannot *discover* packages under a mapped folder, so every
subpackage would have to be listed by hand (and one forgotten would be silently missing from a
wheel). Here every folder with an ``__init__.py`` under the three roots is found and named.
"""

from setuptools import find_packages, setup

ROOTS = {"marljax": "marljax", "marljax.envs": "envs", "marljax.solvers": "solvers"}


def discovered() -> list[str]:
    packages = []
    for name, folder in ROOTS.items():
        packages.append(name)
        found = find_packages(where=folder)
        # marljax/'s own find would re-list envs and solvers if they were inside it; they are not.
        packages += [f"{name}.{sub}" for sub in found]
    return sorted(set(packages))


setup(packages=discovered(), package_dir=ROOTS)

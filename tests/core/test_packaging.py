"""A plain (non-editable) install ships every package of the source tree."""

import pathlib
import shutil
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROOTS = {"marljax": "marljax", "marljax.envs": "envs", "marljax.solvers": "solvers"}


def source_packages() -> set[str]:
    """Every folder with an ``__init__.py`` under the three roots, by its installed name."""
    names = set()
    for name, folder in ROOTS.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(base).parts
            names.add(".".join((name, *rel)))
    return names


def test_wheel_holds_every_source_package(tmp_path):
    # Build from a clean copy: an in-tree build/ folder would carry packages of earlier builds.
    source = tmp_path / "src"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "results", "runs")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("marljax-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            str(pathlib.PurePosixPath(n).parent).replace("/", ".")
            for n in archive.namelist()
            if n.endswith("/__init__.py")
        }
    expected = source_packages()
    assert {"marljax.envs.mpe", "marljax.solvers.psro.oracles", "marljax.physics"} <= expected
    missing = expected - shipped
    assert not missing, f"a plain install lacks {sorted(missing)}: setup.py's discovery missed them"

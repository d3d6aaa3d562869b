"""Every notebook in notebooks/ runs top to bottom in a fresh Jupyter kernel (the cells carry their
own asserts of known values), and is stored with its outputs stripped.

Each notebook runs in its own kernel ("python3", started by nbclient) whose working directory is a
temporary folder, so nothing it writes lands in the repository; the executed copy (outputs and
figures included) is written next to it, in pytest's temporary directory. A failure names the
notebook and the cell, with the cell's source and the kernel's traceback.

The kernels run XLA with ``--xla_backend_optimization_level=0``: the notebooks' tiny budgets are
dominated by compiling, which this halves, and it changes no result the cells check (the same
IPPO run gives the same returns at both levels). A user's kernel compiles at the default level.
"""

import os
import pathlib
import re

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = pathlib.Path(__file__).parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 600  # a hung cell fails instead of stalling the suite
ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    """Outputs and execution counts stay out of git: diffs stay readable and the repository small."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; store the notebook with outputs stripped"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_a_fresh_kernel(path, tmp_path, monkeypatch):
    flags = os.environ.get("XLA_FLAGS", "")
    monkeypatch.setenv("XLA_FLAGS", f"{flags} --xla_backend_optimization_level=0".strip())
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # tempfile.mkdtemp() in the notebooks lands here
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    failure = None
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        failure = f"{path.name}: cell {_failed_cell(notebook)} failed\n{ANSI_CODES.sub('', str(err))}"
    finally:
        nbformat.write(notebook, tmp_path / path.name)  # the executed copy, for a look at its figures
    if failure:
        pytest.fail(failure, pytrace=False)
    figures = sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert figures >= 1, f"{path.name} drew no figure"


def _failed_cell(notebook) -> int:
    """Index of the first code cell whose outputs hold an error (nbclient stops there)."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index
    return -1

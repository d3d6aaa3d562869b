"""Every notebook in notebooks/ runs top to bottom (code cells executed in one namespace;
the cells carry their own asserts)."""

import pathlib

import nbformat
import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    notebook = nbformat.read(path, as_version=4)
    namespace = {"__name__": "__notebook__"}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            try:
                exec(compile(cell.source, f"{path.name}[cell {index}]", "exec"), namespace)
            except Exception as err:  # name the cell that broke
                raise AssertionError(f"{path.name} cell {index} failed: {err!r}") from err

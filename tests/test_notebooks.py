"""Every notebook in notebooks/ is committed clean and runs top to bottom in a fresh kernel, within a minute."""

import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
BUDGET_SECONDS = 60
# The kernel reports the interpreter it runs on, so a kernelspec that points outside the venv fails the test.
WHICH_PYTHON = "import sys; print(sys.executable)"


def test_the_issue_notebooks_are_there():
    names = {p.name for p in PATHS}
    assert {"inspect_network.ipynb", "query.ipynb", "sensitivity.ipynb", "export.ipynb"} <= names


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs"
            assert cell.execution_count is None, f"cell {i} has an execution count"
        # The notebooks use the repository's copies of shared documents, never the shared folder itself.
        assert "../shared" not in cell.source and "/shared/" not in cell.source, f"cell {i} reads ../shared"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_in_a_fresh_kernel(path, tmp_path, monkeypatch):
    # Prefer the venv's kernelspec over any user-level one, so "python3" is this interpreter.
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")
    # Files a notebook exports to a temporary directory land under pytest's tmp_path and are cleaned with it.
    workdir, scratch = tmp_path / "cwd", tmp_path / "tmp"
    workdir.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WHICH_PYTHON))
    client = NotebookClient(
        nb,
        timeout=BUDGET_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.monotonic()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    elapsed = time.monotonic() - start
    reported = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert Path(reported).resolve() == Path(sys.executable).resolve()
    assert elapsed < BUDGET_SECONDS, f"{path.name} took {elapsed:.0f} s"
    assert list(workdir.iterdir()) == [], "a notebook wrote into its working directory"

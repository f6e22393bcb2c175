"""The notebooks under ``notebooks/``: stored clean, and they run top to bottom.

Each notebook's first code cell is tagged ``parameters`` and sets its trial counts. CI runs
the notebook with that cell's values replaced by the small ones below (the papermill
convention: an injected cell right after it), in a kernel pinned to this interpreter, from
the notebooks/ directory, and checks that every cell ran without error and that figures
display.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

#: CI sizes. Every parameter a notebook defines must be listed, so a new heavy parameter
#: cannot run at full size in CI unnoticed.
SMALL = {"TRIALS": 300, "GRID_TRIALS": 100, "CURVE_TRIALS": 150, "SEED": 221951,
         "TUNE_CANDIDATES": 12, "TUNE_MIN_TRIALS": 100, "TUNE_MAX_TRIALS": 400}
CELL_TIMEOUT = 300  # seconds; the whole small run takes far less


def parameters_cell(nb: object) -> tuple[int, object]:
    for index, cell in enumerate(nb.cells):  # type: ignore[attr-defined]
        if cell.cell_type == "code":
            return index, cell
    raise AssertionError("no code cell")


def parameter_names(source: str) -> list[str]:
    return [target.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)]


def test_there_are_notebooks() -> None:
    names = [p.name for p in PATHS]
    assert "01-reproduce-error-53.ipynb" in names
    assert "03-rasdial-workaround-vs-retry-fix.ipynb" in names


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has outputs; clear them"
            assert cell.execution_count is None, f"{path.name}: clear execution counts"
    _, params = parameters_cell(nb)
    assert "parameters" in params.metadata.get("tags", []), (
        f"{path.name}: the first code cell must be tagged 'parameters'")
    names = parameter_names(params.source)
    assert names and set(names) <= set(SMALL), f"{path.name}: give {names} CI sizes in SMALL"
    assert nb.cells[0].cell_type == "markdown"  # it opens with its explanation


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 'python3' kernelspec that runs this interpreter, first on JUPYTER_PATH.

    A fresh venv has ipykernel but maybe no registered spec, and a user-level 'python3' spec
    may point at another Python; pinning it here makes the notebooks run against the rassim
    under test, with nothing installed outside the temporary directory.
    """
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (rassim tests)", "language": "python",
    }))
    return root


# Not marked slow: each notebook runs in well under a minute at CI sizes on two cores.
@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_runs_top_to_bottom(path: Path, kernel_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    nb = nbformat.read(path, as_version=4)
    index, params = parameters_cell(nb)
    small = {name: SMALL[name] for name in parameter_names(params.source)}
    injected = nbformat.v4.new_code_cell(
        "# CI sizes (tests/test_notebooks.py)\n"
        + "\n".join(f"{name} = {value!r}" for name, value in small.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, injected)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert errors == []
    pictures = sum("image/png" in out.get("data", {}) for cell in nb.cells
                   if cell.cell_type == "code" for out in cell.outputs)
    assert pictures >= 3, f"{path.name}: figures should display inline"

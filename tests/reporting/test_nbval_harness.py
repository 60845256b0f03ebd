"""The nbval harness: a changed headline number fails; volatile text (times, paths) does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
SANITIZE = ROOT / "notebooks" / "nbval_sanitize.cfg"

CODE = """import datetime, os
headline = round(1234.5678 * factor, 1)
print(f"Revenue at risk: {headline}")
print(f"Run at {datetime.datetime.now().isoformat()} from {os.getcwd()}/notebooks/x.ipynb")"""


def _executed(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("factor: float = 1.0  # scale")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(CODE)]
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    path = folder / "headline.ipynb"
    nbformat.write(nb, str(path))
    return path


def _nbval(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:python",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(SANITIZE),
            str(path),
            "-q",
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=300,
    )


@pytest.mark.slow
def test_nbval_passes_on_rerun_and_fails_on_a_changed_headline(tmp_path):
    path = _executed(tmp_path)
    rerun = _nbval(path)
    assert rerun.returncode == 0, rerun.stdout  # timestamps and paths differ, sanitised
    nb = nbformat.read(str(path), as_version=4)
    out = nb.cells[1].outputs[0]
    assert "Revenue at risk: 1234.6" in out["text"]
    out["text"] = out["text"].replace("1234.6", "1234.7")
    nbformat.write(nb, str(path))
    changed = _nbval(path)
    assert changed.returncode == 1 and "1234.7" in changed.stdout

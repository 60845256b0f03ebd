"""``marksell init DIR``: a starter folder for users who installed marksell from a wheel.

It holds a copy of the notebooks (to open in JupyterLab and adapt), a batch file running every notebook
on the sample company with the input parameters listed where the user's files go, a ``data/`` folder for
those files and a README saying what to do next. Nothing existing is overwritten.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from marksell.errors import ParameterError
from marksell.paths import NOTEBOOKS_DIR
from marksell.reporting import parameters
from marksell.reporting.runner import catalogue

README = """# marksell analyses

Made by `marksell init`. Run everything from this folder: it uses the built-in sample company until
you point it at your own files.

- `notebooks/`: the analysis notebooks. `jupyter lab notebooks/` opens them (install `marksell[lab]`);
  set the `*_path` parameters in the first code cell to your files.
- `data/`: put your CSV, Parquet or Excel files here.
- `batch.yaml`: one run per notebook of `notebooks/` (your edited copies). Fill in the `*_path`
  entries (relative to this folder) and a `columns` mapping if your column names differ, then run
  `marksell report --config batch.yaml`.
- `reports/`: where runs are filed (`reports/YYYY-MM-DD/<notebook>/` and `reports/index.html`).

`marksell list` shows every parameter with its type and help; `marksell run NOTEBOOK -p NAME VALUE`
runs one notebook.
"""


def batch_config(notebooks: dict[str, Path]) -> dict:
    """A batch running every copied notebook with its defaults, listing the input paths to fill in."""
    runs = []
    for name, path in notebooks.items():
        inputs = {p.name: "" for p in parameters.read_parameters(path) if p.name.endswith("_path")}
        runs.append({"notebook": f"notebooks/{path.name}", "parameters": inputs})
    return {"cell_timeout": 600, "runs": runs}


def write_starter(folder: str | Path) -> list[Path]:
    """Write the starter folder and return the files written; refuses a folder that is not empty."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise ParameterError(f"{folder} exists and is not empty; choose a new folder (nothing is overwritten)")
    notebooks = catalogue(NOTEBOOKS_DIR)
    if not notebooks:
        raise ParameterError(f"no notebooks found in {NOTEBOOKS_DIR}: the marksell installation is incomplete")
    (folder / "notebooks").mkdir(parents=True)
    (folder / "data").mkdir()
    written = []
    for path in notebooks.values():
        written.append(Path(shutil.copy2(path, folder / "notebooks" / path.name)))
    header = (
        "# marksell batch: empty *_path = the sample company. Paths are relative to the folder you run in.\n"
        "# Run with: marksell report --config batch.yaml\n"
    )
    batch = folder / "batch.yaml"
    batch.write_text(header + yaml.safe_dump(batch_config(notebooks), sort_keys=False), encoding="utf-8")
    readme = folder / "README.md"
    readme.write_text(README, encoding="utf-8")
    return written + [batch, readme]

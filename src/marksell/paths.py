"""Every path marksell needs: notebooks and the sample company from the package, reports in the working folder.

A wheel ships the notebooks and the sample company as package data (``marksell/notebooks``,
``marksell/sample_data``; see setup.py); a clone or an editable install uses ``notebooks/`` and
``data/sample/`` of the clone. Reports go to ``./reports`` under the folder you run in, or to
``MARKSELL_REPORTS_DIR`` (the CLI's ``--reports-dir`` overrides both).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PACKAGE_DIR = Path(str(resources.files("marksell")))
#: Root of the clone when marksell runs from one (src/marksell -> the clone); not meaningful in a wheel.
PROJ_ROOT = PACKAGE_DIR.parents[1]


def _shipped(packaged: str, in_clone: str) -> Path:
    """The package-data folder when the wheel has it, else the clone's folder."""
    inside = PACKAGE_DIR / packaged
    return inside if inside.is_dir() else PROJ_ROOT / in_clone


NOTEBOOKS_DIR = _shipped("notebooks", "notebooks")
SAMPLE_DIR = _shipped("sample_data", "data/sample")


def reports_dir() -> Path:
    """Where runs are filed: ``MARKSELL_REPORTS_DIR``, else ``./reports`` under the working folder."""
    return Path(os.environ.get("MARKSELL_REPORTS_DIR") or Path.cwd() / "reports").expanduser()


def in_clone() -> bool:
    """Whether marksell runs from a git clone (an editable install), not from an installed wheel."""
    return (PROJ_ROOT / ".git").exists() and not (PACKAGE_DIR / "notebooks").is_dir()


#: File name of each input kind inside the sample company folder.
SAMPLE_FILES = {
    "transactions": "transactions.csv",
    "customers": "customers.csv",
    "price_panel": "price_panel.csv",
    "sales_history": "sales_history.csv",
    "sales_plan": "sales_plan.csv",
    "opportunities": "opportunities.csv",
    "marketing_funnel": "marketing_funnel.csv",
    "market_size": "market_size.csv",
    "experiment": "experiments.csv",
    "mmm": "mmm.csv",
    "ground_truth": "ground_truth.json",
}


def sample_dir() -> Path:
    """Folder of the embedded sample company (``MARKSELL_SAMPLE_DIR`` overrides it)."""
    return Path(os.environ.get("MARKSELL_SAMPLE_DIR") or SAMPLE_DIR)


def sample_path(kind: str) -> Path:
    """Path of one sample-company file, e.g. ``sample_path("transactions")``."""
    try:
        return sample_dir() / SAMPLE_FILES[kind]
    except KeyError:
        raise KeyError(f"unknown sample file kind {kind!r}; known: {sorted(SAMPLE_FILES)}") from None


def resolve_input(path: str | os.PathLike | None, kind: str) -> Path:
    """The user's path, or the sample company's file for ``kind`` when the path is empty."""
    if path is None or str(path).strip() == "":
        return sample_path(kind)
    return Path(path).expanduser()

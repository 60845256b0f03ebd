"""Every path marksell needs, derived from the package location (never the working folder)."""

from __future__ import annotations

import os
from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
REPORTS_DIR = PROJ_ROOT / "reports"

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
    return Path(os.environ.get("MARKSELL_SAMPLE_DIR") or PROJ_ROOT / "data" / "sample")


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

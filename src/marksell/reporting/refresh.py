"""Re-execute the committed notebooks in place on the sample data (``make refresh-notebooks``).

The stored outputs are the golden outputs nbval compares against, so after a deliberate change to an
analysis they are refreshed in one step. Volatile cell metadata (execution timestamps) is dropped so that
the notebook diff shows only what changed in the outputs: review it before committing.

    python -m marksell.reporting.refresh [NOTEBOOK ...]     (default: every notebooks/NN_*.ipynb)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from marksell.paths import NOTEBOOKS_DIR
from marksell.reporting.runner import kernel_config


def refresh(path: Path, timeout: int = 900) -> float:
    """Execute ``path`` in place (working folder: the notebook's folder) and return the seconds taken."""
    nb = nbformat.read(str(path), as_version=4)
    t0 = time.perf_counter()
    with kernel_config() as (cfg, _log):
        client = NotebookClient(
            nb, kernel_name="python3", timeout=timeout, config=cfg, resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, str(path))
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m marksell.reporting.refresh",
        description="Re-execute notebooks in place on the sample data (the golden outputs nbval compares against).",
    )
    ap.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks to refresh (default: every numbered notebook in notebooks/)"
    )
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        ap.error(f"no such notebook: {', '.join(missing)}")
    paths = args.notebooks or sorted(NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
    for p in paths:
        print(f"refreshing {p.name} ...", end=" ", flush=True)
        print(f"{refresh(p):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build ``reports/index.html`` (and ``index.json``): every run by date, with status and links.

The index is rebuilt from the run folders on disk, under a lock, and replaced atomically, so
concurrent batches never leave a torn index. A corrupt or foreign file is reported and skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from pathlib import Path

from marksell.paths import REPORTS_DIR
from marksell.reporting import index_page

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@contextlib.contextmanager
def reports_lock(reports: Path):
    """Exclusive lock on the reports folder (``.lock``), across processes."""
    reports.mkdir(parents=True, exist_ok=True)
    with open(reports / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def collect_runs(reports: Path) -> tuple[list[dict], list[str]]:
    """Every readable run.json under ``reports/<day>/<run>/``, and the problems met on the way."""
    runs, skipped = [], []
    for day in sorted(p for p in reports.iterdir() if p.is_dir() and _DAY.match(p.name)):
        for folder in sorted(p for p in day.iterdir() if p.is_dir()):
            f = folder / "run.json"
            if not f.exists():
                skipped.append(f"{folder.relative_to(reports)}: no run.json (not a marksell run)")
                continue
            try:
                rec = json.loads(f.read_text(encoding="utf-8"))
                if not isinstance(rec, dict) or "status" not in rec or "notebook" not in rec:
                    raise ValueError("missing status or notebook")
            except (ValueError, UnicodeDecodeError) as exc:
                skipped.append(f"{f.relative_to(reports)}: unreadable ({exc.__class__.__name__}); skipped")
                continue
            rec["_folder"] = str(folder.relative_to(reports))
            rec["_day"] = day.name
            runs.append(rec)
    runs.sort(key=lambda r: (r["_day"], str(r.get("started", "")), r["_folder"]), reverse=True)
    return runs, skipped


def build_index(reports: str | Path | None = None) -> tuple[Path, list[str]]:
    """Rebuild the index; returns its path and the list of skipped entries."""
    reports = Path(reports) if reports else REPORTS_DIR
    with reports_lock(reports):
        runs, skipped = collect_runs(reports)
        for run in runs:
            run["_headline"] = index_page.headline(str(run.get("notebook")), reports / run["_folder"])
        records = [{k: v for k, v in r.items() if not k.startswith("_")}
                   | {"folder": r["_folder"], "headline": r["_headline"]} for r in runs]
        _atomic_write(reports / "index.json", json.dumps(records, indent=2, sort_keys=True, default=str) + "\n")
        _atomic_write(reports / "index.html", index_page.page(runs, skipped))
    return reports / "index.html", skipped


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

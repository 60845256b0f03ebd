"""Build ``reports/index.html`` (and ``index.json``): every run by date, with status and links.

The index is rebuilt from the run folders on disk, under a lock, and replaced atomically, so
concurrent batches never leave a torn index. A corrupt or foreign file is reported and skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

from filelock import FileLock

from marksell.paths import reports_dir
from marksell.reporting import index_page, staging
from marksell.reporting.run_record import RunRecordError, read_run_record

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@contextlib.contextmanager
def reports_lock(reports: Path):
    """Exclusive lock on the reports folder (``.lock``), across processes and operating systems (``filelock``).

    A ``.lock`` that is a symlink, FIFO or device is refused (it would be followed, block or misbehave)."""
    reports.mkdir(parents=True, exist_ok=True)
    lock = reports / ".lock"
    staging.check_lock_file(lock)
    with FileLock(lock, mode=0o644):
        yield


def collect_runs(reports: Path) -> tuple[list[dict], list[str]]:
    """Every valid run record under ``reports/<day>/<run>/``, and the entries skipped with the reason.

    Links are never followed (a day or run folder that is a symlink may point out of ``reports/``) and only
    regular files are read (a FIFO named ``run.json`` is skipped, not waited on); each record is checked
    against :data:`marksell.reporting.run_record.SCHEMA`.
    """
    runs, skipped = [], []
    for day in _real_folders(reports, reports, skipped, _DAY.match):
        for folder in _real_folders(day, reports, skipped, lambda name: True):
            rel = folder.relative_to(reports)
            f = folder / "run.json"
            if not os.path.lexists(f):
                skipped.append(f"{rel}: no run.json (not a marksell run)")
                continue
            try:
                rec = read_run_record(f, reports)
            except RunRecordError as exc:
                skipped.append(f"{rel}/run.json: {exc}; skipped")
                continue
            rec["_folder"] = str(rel)
            rec["_day"] = day.name
            runs.append(rec)
    runs.sort(key=lambda r: (r["_day"], str(r.get("started", "")), r["_folder"]), reverse=True)
    return runs, skipped


def _real_folders(parent: Path, reports: Path, skipped: list[str], wanted) -> list[Path]:
    """Sub-folders of ``parent`` whose names pass ``wanted``; symlinks are listed as skipped, not followed."""
    out = []
    for p in sorted(parent.iterdir()):
        if not wanted(p.name):
            continue
        if p.is_symlink():
            skipped.append(f"{p.relative_to(reports)}: a symlink; not followed")
            continue
        if p.is_dir():
            out.append(p)
    return out


def build_index(reports: str | Path | None = None) -> tuple[Path, list[str]]:
    """Rebuild the index; returns its path and the list of skipped entries."""
    reports = Path(reports) if reports else reports_dir()
    with reports_lock(reports):
        runs, skipped = collect_runs(reports)
        for run in runs:  # runs recorded without headline figures (older versions): read from their summary.json
            stored = run.get("headline")
            run["_headline"] = (
                stored
                if isinstance(stored, dict) and stored
                else index_page.headline(str(run.get("notebook")), reports / run["_folder"])
            )
        records = [
            {k: v for k, v in r.items() if not k.startswith("_")} | {"folder": r["_folder"], "headline": r["_headline"]}
            for r in runs
        ]
        _atomic_write(reports / "index.json", json.dumps(records, indent=2, sort_keys=True, default=str) + "\n")
        _atomic_write(reports / "index.html", index_page.page(runs, skipped))
    return reports / "index.html", skipped


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

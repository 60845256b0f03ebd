"""Build ``reports/index.html`` (and ``index.json``): every run by date, with status and links.

The index is rebuilt from the run folders on disk, under a lock, and replaced atomically, so
concurrent batches never leave a torn index. A corrupt or foreign file is reported and skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import json
import os
import re
from pathlib import Path

from marksell.paths import REPORTS_DIR

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
        _atomic_write(reports / "index.json", json.dumps(
            [{k: v for k, v in r.items() if not k.startswith("_")} | {"folder": r["_folder"]} for r in runs],
            indent=2, sort_keys=True, default=str) + "\n")
        _atomic_write(reports / "index.html", _html(runs, skipped))
    return reports / "index.html", skipped


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _html(runs: list[dict], skipped: list[str]) -> str:
    e = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    rows = []
    for r in runs:
        folder = r["_folder"]
        params = ", ".join(f"{k}={v}" for k, v in sorted((r.get("overrides", r.get("parameters")) or {}).items())) or "defaults"
        status = r.get("status", "?")
        links = f"<a href='{e(folder)}/report.html'>report</a> · <a href='{e(folder)}/run.json'>run.json</a>"
        err = f"<br><small>{e(r['error'])}</small>" if r.get("error") else ""
        rows.append(
            f"<tr><td>{e(r['_day'])}</td><td>{e(r.get('notebook'))}</td><td>{e(r.get('label') or '')}</td>"
            f"<td class='{e(status)}'>{e(status)}{err}</td><td>{float(r.get('duration_s') or 0):.1f} s</td>"
            f"<td><code>{e(params)}</code></td><td>{links}</td></tr>")
    skipped_html = "".join(f"<li>{e(s)}</li>" for s in skipped)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>marksell reports</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
        ".ok{color:#1a7f37}.failed{color:#cf222e;font-weight:bold}</style></head><body>"
        f"<h1>marksell reports</h1><p>{len(runs)} run(s).</p>"
        "<table><tr><th>date</th><th>notebook</th><th>label</th><th>status</th><th>duration</th>"
        f"<th>parameters</th><th>links</th></tr>{''.join(rows)}</table>"
        + (f"<h2>Skipped entries</h2><ul>{skipped_html}</ul>" if skipped else "")
        + "</body></html>\n")

"""Measure one benchmark case in a fresh child process: wall time, CPU time, peak memory.

Each case runs in its own forked process so that peak RSS (``ru_maxrss``) belongs to that
case alone and earlier cases do not inflate it. Results are appended as JSON lines to
``benchmarks/results/<suite>.jsonl`` so runs can be compared over time.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _child(conn, func, args, kwargs):
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        extra = func(*args, **kwargs)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        # children CPU (e.g. worker processes) counted too
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += ch.ru_utime + ch.ru_stime
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send({"ok": True, "wall_s": wall, "cpu_s": cpu, "peak_mb": peak_mb, "extra": extra or {}})
    except BaseException as exc:  # report, never hang the parent
        conn.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def measure(func, *args, **kwargs) -> dict:
    """Run ``func(*args, **kwargs)`` in a forked process and return its figures.

    ``func`` may return a dict of extra figures (e.g. accuracy) that is passed through.
    Peak memory includes the child's baseline (interpreter and imported libraries).
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, func, args, kwargs))
    proc.start()
    child.close()
    result = parent.recv() if parent.poll(None) else {"ok": False, "error": "no result"}
    proc.join()
    return result


def record(suite: str, rows: list[dict]) -> Path:
    """Append ``rows`` with a timestamp and machine description to the suite's JSONL file."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{suite}.jsonl"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}
    with path.open("a", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({"time": stamp, "suite": suite, **machine, **row}) + "\n")
    return path


def print_table(rows: list[dict]) -> None:
    """Print rows as an aligned table: analysis, size, impl, wall, cpu, peak, ratio."""
    cols = ["analysis", "size", "impl", "wall_s", "cpu_s", "peak_mb", "ratio_vs_ref"]
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in cols))


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def cli(main, suite: str, doc: str | None = None) -> None:
    """Command line of one suite: ``--scale``, then the table, extra figures, and the JSONL record."""
    import argparse

    ap = argparse.ArgumentParser(description=(doc or suite).splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = the size stated in the issue")
    rows = main(ap.parse_args().scale)
    print_table(rows)
    for r in rows:
        if r.get("extra"):
            print(f"  {r.get('analysis')} / {r.get('impl')}: {r['extra']}")
    print(f"results appended to {record(suite, rows)}")

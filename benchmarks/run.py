"""Run every benchmark suite and print one table (``make bench``).

Each ``benchmarks/bench_<topic>.py`` exposes ``main(scale: float) -> list[dict]`` with rows
``{analysis, size, impl, wall_s, cpu_s, peak_mb, ratio_vs_ref}``; it generates its data on the fly and
measures marksell beside a reference implementation in the same run. ``--growth`` also runs every
suite at a tenth of the scale and prints how the cost grows (10x the data: ~10x the time is linear).
Results are appended to ``benchmarks/results/*.jsonl`` and the table to ``benchmarks/results/latest.md``.

    python benchmarks/run.py [--scale 1.0] [--only segmentation,forecasting] [--growth]
"""

from __future__ import annotations

import argparse
import importlib
import io
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import RESULTS_DIR, print_table, record  # noqa: E402


def suites(only: list[str] | None) -> list[str]:
    names = sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    return [n for n in names if not only or n in only]


def run_suite(name: str, scale: float) -> list[dict]:
    module = importlib.import_module(f"bench_{name}")
    t0 = time.perf_counter()
    try:
        rows = module.main(scale=scale) or []
    except Exception as exc:  # one broken suite must not hide the others
        rows = [{"analysis": name, "size": f"scale {scale}", "impl": f"ERROR {type(exc).__name__}: {exc}"}]
    for r in rows:
        r.setdefault("suite", name)
        r.setdefault("scale", scale)
    print(f"  {name}: {len(rows)} row(s) in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = the sizes stated in the issues")
    ap.add_argument("--only", default="", help="comma-separated suite names, e.g. segmentation,forecasting")
    ap.add_argument("--growth", action="store_true", help="also run at scale/10 and report the growth")
    args = ap.parse_args(argv)
    names = suites([s for s in args.only.split(",") if s])
    all_rows = []
    for name in names:
        print(f"benchmark suite {name} at scale {args.scale}", file=sys.stderr, flush=True)
        quiet = io.StringIO()
        with redirect_stdout(quiet):
            rows = run_suite(name, args.scale)
            small = run_suite(name, args.scale / 10) if args.growth else []
        for r in rows:
            twin = next((s for s in small if s.get("analysis") == r.get("analysis") and s.get("impl") == r.get("impl")),
                        None)
            if twin and twin.get("wall_s") and r.get("wall_s"):
                r["growth_10x"] = r["wall_s"] / twin["wall_s"]
        record(name, rows + small)
        all_rows += rows + small
    print_table(all_rows)
    if args.growth:
        print("\ncost growth for 10x the data (1.0 = constant, 10 = linear):")
        for r in all_rows:
            if "growth_10x" in r:
                print(f"  {r['analysis']:<40} {r['impl']:<30} x{r['growth_10x']:.1f}")
    RESULTS_DIR.mkdir(exist_ok=True)
    buf = io.StringIO()
    with redirect_stdout(buf):
        print_table(all_rows)
    (RESULTS_DIR / "latest.md").write_text("```\n" + buf.getvalue() + "```\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

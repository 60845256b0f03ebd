"""Run every benchmark suite and print one table (``make bench``).

Each ``benchmarks/bench_<topic>.py`` exposes ``main(scale: float) -> list[dict]`` with rows
``{analysis, size, impl, wall_s, cpu_s, peak_mb, ratio_vs_ref}``; it generates its data on the fly and
measures marksell beside a reference implementation in the same run. ``--growth`` also runs every
suite at a tenth of the scale and prints each step's growth exponent k (time ~ size^k, from wall and CPU
time); a step with k above linear is named with its cause (a suite's ``GROWTH_CAUSES``, else "profile it").
Results are appended to ``benchmarks/results/*.jsonl`` and the table to ``benchmarks/results/latest.md``.

    python benchmarks/run.py [--scale 1.0] [--only segmentation,forecasting] [--growth]
"""

from __future__ import annotations

import argparse
import importlib
import io
import math
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

from harness import RESULTS_DIR, print_table, record

HERE = Path(__file__).resolve().parent


def suites(only: list[str] | None) -> list[str]:
    names = sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))
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


SUPERLINEAR = 1.15  # growth exponents above this (time ~ size^k) are named with their cause


def _same_step(a: dict, b: dict) -> bool:
    """The same step at another size: same analysis, implementation and unit of size (e.g. 'rows csv')."""
    unit = lambda r: " ".join(w for w in str(r.get("size", "")).split() if not w.replace(",", "").isdigit())  # noqa: E731
    return a.get("analysis") == b.get("analysis") and a.get("impl") == b.get("impl") and unit(a) == unit(b)


def add_growth(row: dict, twin: dict | None, causes: dict) -> None:
    """Growth exponent k (time ~ size^k) between the row and its run on a tenth of the data: from wall time
    and from CPU time (steadier on a shared machine), and the cause when k is above linear."""
    if not twin:
        return
    for key, src in (("growth_exponent", "wall_s"), ("growth_exponent_cpu", "cpu_s")):
        big, small = row.get(src), twin.get(src)
        if big and small and big > 0 and small > 0:
            row[key] = math.log10(big / small)
    k = row.get("growth_exponent_cpu", row.get("growth_exponent"))
    if k is not None and k > SUPERLINEAR:
        row["growth_cause"] = causes.get(row.get("analysis"), "not identified yet: profile this step")


def print_growth(rows: list[dict]) -> None:
    print(
        "\ngrowth over 10x the data: exponent k with time ~ size^k (0 = fixed cost, 1 = linear);"
        f" above {SUPERLINEAR} the cause is named"
    )
    print(f"  {'analysis':<40} {'impl':<30} {'k wall':>7} {'k cpu':>7}  verdict")
    for r in rows:
        if "growth_exponent" not in r and "growth_exponent_cpu" not in r:
            continue
        kw, kc = r.get("growth_exponent"), r.get("growth_exponent_cpu")
        k = kc if kc is not None else kw
        verdict = "linear or better" if k <= SUPERLINEAR else f"FASTER THAN LINEAR: {r['growth_cause']}"
        fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
        print(f"  {r['analysis']:<40} {str(r['impl'])[:30]:<30} {fmt(kw):>7} {fmt(kc):>7}  {verdict}")


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
            twin = next((s for s in small if _same_step(s, r)), None)
            add_growth(r, twin, getattr(sys.modules.get(f"bench_{name}"), "GROWTH_CAUSES", {}))
        record(name, rows + small)
        all_rows += rows + small
    print_table(all_rows)
    for r in all_rows:
        if r.get("extra"):
            print(f"  {r.get('analysis')} / {r.get('impl')} / {r.get('size')}: {r['extra']}")
    if args.growth:
        print_growth(all_rows)
    RESULTS_DIR.mkdir(exist_ok=True)
    buf = io.StringIO()
    with redirect_stdout(buf):
        print_table(all_rows)
    (RESULTS_DIR / "latest.md").write_text("```\n" + buf.getvalue() + "```\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

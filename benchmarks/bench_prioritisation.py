"""Benchmark: Monte Carlo weight sensitivity of an opportunity ranking.

Scale 1.0 = 10,000 options x 12 criteria x 10,000 Dirichlet weight draws; every draw re-ranks all
options (p_first, p_top_k, rank ranges). marksell scores a chunk of draws with one matrix
product (weighted sum) or two (TOPSIS) and ranks them with one argsort.

References, on the same data and the same draws:
* ``naive numpy loop``: one weighted-sum / TOPSIS evaluation and one argsort per draw;
* ``pymcdm loop`` (if pymcdm is installed): pymcdm's TOPSIS (vector normalisation) per draw.
The loops are slow, so they run on the first 200 draws only (pymcdm: 20 draws beyond 2,000
options) and their time is extrapolated linearly to all draws (the work per draw is constant);
the table says so. ``wall_s`` is the computation alone (data generation excluded) for every
row; ``cpu_s``/``peak_mb`` are the harness figures of the whole child process.

Run: ``python benchmarks/bench_prioritisation.py --scale 0.1``
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import pandas as pd
from harness import cli, measure

from marksell.prioritisation import scoring as pr
from marksell.prioritisation import sensitivity as ps

N_CRITERIA = 12


def make_data(n_options: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    v = rng.lognormal(mean=1.0, sigma=0.5, size=(n_options, N_CRITERIA))
    crits = [f"c{j + 1:02d}" for j in range(N_CRITERIA)]
    x = pd.DataFrame(v, columns=crits, index=pd.Index([f"O{i:05d}" for i in range(n_options)]))
    w = rng.uniform(0.5, 1.5, N_CRITERIA)
    spec = pr.criteria_spec({c: (wi, "cost" if j % 3 == 2 else "benefit") for j, (c, wi) in enumerate(zip(crits, w))})
    return x, spec


def run_marksell(n_options: int, n_draws: int, method: str) -> dict:
    x, spec = make_data(n_options)
    t0 = time.perf_counter()
    mc = ps.monte_carlo_ranks(x, spec, method=method, n_draws=n_draws, top_k=10, seed=1)
    return {
        "compute_s": time.perf_counter() - t0,
        "most_often_first": str(mc.table["p_first"].idxmax()),
        "p_first_max": float(mc.table["p_first"].max()),
    }


def run_naive(n_options: int, n_draws: int, ref_draws: int, method: str) -> dict:
    """Per-draw loop in plain numpy on the first ``ref_draws`` draws; time extrapolated."""
    x, spec = make_data(n_options)
    draws = ps.draw_weights(spec["weight"].to_numpy(), ref_draws, 50.0, np.random.default_rng(1))
    v = x.to_numpy()
    benefit = (spec["direction"] == "benefit").to_numpy()
    n = len(v)
    first = np.zeros(n)
    rmin, rmax = np.full(n, n), np.zeros(n)
    t0 = time.perf_counter()
    for w in draws:
        if method == "wsum":
            lo, hi = v.min(axis=0), v.max(axis=0)
            r = (v - lo) / (hi - lo)
            r[:, ~benefit] = 1 - r[:, ~benefit]
            s = r @ w
        else:
            nv = v / np.sqrt((v**2).sum(axis=0)) * w
            ideal = np.where(benefit, nv.max(axis=0), nv.min(axis=0))
            anti = np.where(benefit, nv.min(axis=0), nv.max(axis=0))
            dp = np.sqrt(((nv - ideal) ** 2).sum(axis=1))
            dn = np.sqrt(((nv - anti) ** 2).sum(axis=1))
            s = dn / (dp + dn)
        ranks = np.empty(n, dtype=int)
        ranks[np.argsort(-s)] = np.arange(1, n + 1)
        first[ranks == 1] += 1
        rmin, rmax = np.minimum(rmin, ranks), np.maximum(rmax, ranks)
    elapsed = time.perf_counter() - t0
    return {"measured_draws": ref_draws, "measured_s": elapsed, "extrapolated_s": elapsed * n_draws / ref_draws}


def run_pymcdm(n_options: int, n_draws: int, ref_draws: int) -> dict:
    """pymcdm TOPSIS (vector normalisation) per draw on the first ``ref_draws`` draws."""
    from pymcdm import methods, normalizations

    x, spec = make_data(n_options)
    draws = ps.draw_weights(spec["weight"].to_numpy(), ref_draws, 50.0, np.random.default_rng(1))
    types = np.where(spec["direction"] == "benefit", 1, -1)
    topsis = methods.TOPSIS(normalization_function=normalizations.vector_normalization)
    v = x.to_numpy()
    t0 = time.perf_counter()
    for w in draws:
        pref = topsis(v, w, types)
        np.argsort(-pref)
    elapsed = time.perf_counter() - t0
    # agreement with marksell on the same draws (first 20)
    ours = ps.BatchScorer(x, spec, "topsis")(draws[:20]).argmax(axis=1)
    theirs = np.array([topsis(v, w, types).argmax() for w in draws[:20]])
    same_top = float(np.mean(ours == theirs))
    return {
        "measured_draws": ref_draws,
        "measured_s": elapsed,
        "extrapolated_s": elapsed * n_draws / ref_draws,
        "same_top_first_20_draws": same_top,
    }


def main(scale: float = 1.0) -> list[dict]:
    n_options = max(100, int(10_000 * scale))
    n_draws = max(100, int(10_000 * scale))
    ref_draws = min(n_draws, 200)
    pymcdm_draws = min(n_draws, 200 if n_options <= 2000 else 20)
    size = f"{n_options} options x {N_CRITERIA} criteria x {n_draws} draws"
    rows = []
    for method in ("wsum", "topsis"):
        ours = measure(run_marksell, n_options, n_draws, method)
        ref = measure(run_naive, n_options, n_draws, ref_draws, method)
        ref_wall = ref["extra"]["extrapolated_s"] if ref.get("ok") else None
        wall = ours["extra"]["compute_s"] if ours.get("ok") else None
        rows.append(
            {
                "analysis": f"monte_carlo_{method}",
                "size": size,
                "impl": "marksell (vectorised)",
                "wall_s": wall,
                "cpu_s": ours.get("cpu_s"),
                "peak_mb": ours.get("peak_mb"),
                "ratio_vs_ref": (wall / ref_wall) if (wall and ref_wall) else None,
                "extra": ours.get("extra") or ours.get("error"),
            }
        )
        rows.append(
            {
                "analysis": f"monte_carlo_{method}",
                "size": size,
                "impl": f"naive numpy loop ({ref_draws} draws measured, extrapolated)",
                "wall_s": ref_wall,
                "cpu_s": None,
                "peak_mb": ref.get("peak_mb"),
                "ratio_vs_ref": 1.0,
                "extra": ref.get("extra") or ref.get("error"),
            }
        )
    if importlib.util.find_spec("pymcdm") is not None:
        ref = measure(run_pymcdm, n_options, n_draws, pymcdm_draws)
        ours_topsis = next(r for r in rows if r["analysis"] == "monte_carlo_topsis" and r["impl"].startswith("marksell"))
        if ref.get("ok"):
            ref_wall = ref["extra"]["extrapolated_s"]
            ours_topsis["extra"] = {**ours_topsis["extra"], "ratio_vs_pymcdm": ours_topsis["wall_s"] / ref_wall}
            rows.append(
                {
                    "analysis": "monte_carlo_topsis",
                    "size": size,
                    "impl": f"pymcdm TOPSIS loop ({pymcdm_draws} draws measured, extrapolated)",
                    "wall_s": ref_wall,
                    "cpu_s": None,
                    "peak_mb": ref.get("peak_mb"),
                    "ratio_vs_ref": 1.0,
                    "extra": ref["extra"],
                }
            )
        else:
            print("pymcdm reference failed:", ref.get("error"))
    return rows


if __name__ == "__main__":
    cli(main, "prioritisation", __doc__)

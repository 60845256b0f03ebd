"""Benchmark: marketing mix fit plus 200 moving-block bootstrap refits (3 years weekly, 6 channels).

Data: the sample generator's weekly series with a sixth channel (``tv``), seed 0. Scale 1.0 = 156 weeks,
6 channels, 200 bootstrap refits (the issue's target: within a minute on this machine class).

* ``marksell``: :func:`marksell.mmm.fit_mix` — holdout fit, full fit (Sobol starts), 200 warm-started refits
  (variable projection: NNLS effects, Kaufman Jacobian for the carry-over and saturation parameters).
* ``joint least_squares`` (reference): what one would write first — one scipy ``least_squares`` over every
  parameter at once (carry-over, saturation, effects >= 0, baseline), finite-difference Jacobian, each fit
  cold-started from the same neutral point, same scaling and bounds. It is timed on the full fit plus
  ``REF_REFITS`` refits (seconds per fit x 201 gives its time for the same work; the row says so).

``extra`` holds each fit's ROAS error against the planted truth (mean absolute, %) so speed is not bought
with accuracy.

Run: ``python benchmarks/bench_mmm.py --scale 1``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy import optimize
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import cli, measure  # noqa: E402

from marksell import mmm  # noqa: E402
from marksell.mmm import transforms as tf  # noqa: E402
from marksell.mmm.bootstrap import resampled_residuals  # noqa: E402
from marksell.sample import marketing_mix  # noqa: E402
from marksell.sample.constants import CHANNELS  # noqa: E402

REF_REFITS = 10
CONTROLS = ["price_index", "promo"]


def make_data(n_weeks: int = 156, seed: int = 0):
    tables, truth = marketing_mix.generate(np.random.default_rng(seed), channels=[*CHANNELS, "tv"], n_weeks=n_weeks)
    return tables["mmm"], truth


def _roas_error(roas: np.ndarray, truth: dict) -> dict:
    """ROAS error against the planted truth, % by channel."""
    return {c: round(float(r / t["roas"] - 1) * 100, 1) for r, (c, t) in zip(roas, truth["channels"].items())}


def run_marksell(n_weeks: int, n_boot: int) -> dict:
    table, truth = make_data(n_weeks)
    series = mmm.prepare_series(table, controls=CONTROLS)
    t0 = time.perf_counter()
    fit = mmm.fit_mix(series, n_bootstrap=n_boot, seed=7)
    wall = time.perf_counter() - t0
    roas = fit.model.contributions(fit.spend).sum(axis=0) / fit.spend.sum(axis=0)
    return {"compute_s": wall, "fits": n_boot + 2, "roas_err_pct": _roas_error(roas, truth)}


class JointFit:
    """Reference: every parameter in one bounded least squares, finite-difference Jacobian, cold start."""

    def __init__(self, spend, controls, max_lag=8, season=52.18, harmonics=3):
        n, self.c = spend.shape
        self.scale = spend.mean(axis=0)
        self.lagged = tf.lag_matrix(spend / self.scale, max_lag)
        self.max_lag = max_lag
        t = np.arange(n, dtype=float)
        cols = [np.ones(n), t / n]
        for h in range(1, harmonics + 1):
            cols += [np.sin(2 * np.pi * h * t / season), np.cos(2 * np.pi * h * t / season)]
        z = (controls - controls.mean(axis=0)) / controls.std(axis=0)
        self.base = np.column_stack(cols + list(z.T))

    def _split(self, p):
        c = self.c
        return p[: 3 * c].reshape(c, 3), p[3 * c : 4 * c], p[4 * c :]

    def residual(self, p, y):
        theta, beta, gamma = self._split(p)
        x = tf.adstock(self.lagged, tf.adstock_weights("geometric", theta[:, :1], self.max_lag))
        f = tf.saturate("hill", x, np.column_stack([np.exp(theta[:, 1]), theta[:, 2]]))
        return y - self.base @ gamma - f @ beta

    def fit(self, y):
        c, k = self.c, self.base.shape[1]
        p0 = np.concatenate([np.tile([0.3, 0.0, 1.0], c), np.full(c, 0.1), np.zeros(k)])
        p0[4 * c] = 1.0
        lo = np.concatenate([np.tile([0.0, np.log(0.05), 0.5], c), np.zeros(c), np.full(k, -np.inf)])
        hi = np.concatenate([np.tile([0.9, np.log(10.0), 3.0], c), np.full(c, np.inf), np.full(k, np.inf)])
        return optimize.least_squares(self.residual, p0, bounds=(lo, hi), args=(y,), method="trf")

    def roas(self, p, spend):
        theta, beta, _ = self._split(p)
        x = tf.adstock(self.lagged, tf.adstock_weights("geometric", theta[:, :1], self.max_lag))
        f = tf.saturate("hill", x, np.column_stack([np.exp(theta[:, 1]), theta[:, 2]]))
        return (f * beta).sum(axis=0) / spend.sum(axis=0)


def run_reference(n_weeks: int, n_boot: int) -> dict:
    table, truth = make_data(n_weeks)
    spend = table[[c for c in table.columns if c.startswith("spend_")]].to_numpy(float)
    y_scale = table["sales"].abs().mean()
    y = table["sales"].to_numpy(float) / y_scale
    ref = JointFit(spend, table[CONTROLS].to_numpy(float))
    with threadpool_limits(1):
        t0 = time.perf_counter()
        sol = ref.fit(y)
        fitted = y - sol.fun
        errors = resampled_residuals(sol.fun, REF_REFITS, seed=7)
        for e in errors:
            ref.fit(fitted + e)
        wall = time.perf_counter() - t0
    per_fit = wall / (REF_REFITS + 1)
    return {
        "compute_s": per_fit * (n_boot + 1),
        "measured_s": wall,
        "fits_measured": REF_REFITS + 1,
        "roas_err_pct": _roas_error(ref.roas(sol.x, spend) * y_scale, truth),
    }


def main(scale: float = 1.0) -> list[dict]:
    n_boot = max(10, int(round(200 * scale)))
    n_weeks = 156
    results = {"marksell": measure(run_marksell, n_weeks, n_boot), "joint least_squares": measure(run_reference, n_weeks, n_boot)}
    ref_wall = results["joint least_squares"].get("extra", {}).get("compute_s")
    rows = []
    for impl, res in results.items():
        size = f"{n_weeks} weeks x 6 channels, fit + {n_boot} refits"
        if not res.get("ok"):
            rows.append({"analysis": "mmm", "size": size, "impl": impl, "error": res.get("error")})
            continue
        extra = res["extra"]
        wall = extra["compute_s"]
        rows.append(
            {
                "analysis": "mmm",
                "size": size,
                "impl": impl,
                "wall_s": wall,
                "cpu_s": res["cpu_s"],
                "peak_mb": res["peak_mb"],
                "ratio_vs_ref": wall / ref_wall if ref_wall else None,
                "extra": {k: (round(v, 2) if isinstance(v, float) else v) for k, v in extra.items() if k != "compute_s"},
            }
        )
    return rows


if __name__ == "__main__":
    cli(main, "mmm", __doc__)

"""Benchmark: an A/B test of 10 million units x 3 variants x 5 metrics (CUPED on two of them).

Scale 1.0 = 10,000,000 units (the issue's size). Metrics: two 0/1 conversions, two skewed revenue
metrics each with a pre-period covariate (CUPED), and revenue per order (a ratio metric).

* ``marksell core``: sufficient statistics + every lift, interval and corrected p-value
  (:func:`unit_moments`, :func:`lift_table`, :func:`adjust`).
* ``marksell run``: the whole :func:`run_experiment` (validation of every column and of the units
  in several variants, health checks, Bayesian chance to beat control, planner, decision).
* ``scipy/statsmodels`` (reference): what an analyst would write: a groupby per variant, then per
  metric and treatment ``scipy.stats.ttest_ind`` (Welch), ``proportions_ztest`` +
  ``confint_proportions_2indep`` (Newcombe) for conversions, statsmodels OLS of the metric on
  treatment and covariate (CUPED as ANCOVA) and a numpy delta method for the ratio.
  ``extra.max_lift_diff`` and ``extra.max_p_diff`` compare its lifts and p-values with marksell's.

``wall_s`` is the computation alone (data generation excluded).

Run: ``python benchmarks/bench_experiments.py --scale 0.1``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import cli, measure  # noqa: E402

VARIANTS = ["control", "b", "c"]
METRICS = {"converted": "binary", "subscribed": "binary", "revenue": "mean", "margin": "mean", "revenue/orders": "ratio"}
COVARIATES = {"revenue": "pre_revenue", "margin": "pre_margin"}


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    v = rng.integers(0, 3, n)
    pre_rev = rng.gamma(1.5, 40.0, n)
    pre_margin = 0.3 * pre_rev + rng.gamma(2.0, 3.0, n)
    orders = rng.poisson(1.2, n) + 1.0
    return pd.DataFrame(
        {
            "unit_id": np.arange(n),
            "variant": pd.Categorical.from_codes(v, VARIANTS),
            "converted": (rng.random(n) < 0.10 + 0.005 * (v == 1)).astype(np.float64),
            "subscribed": (rng.random(n) < 0.03).astype(np.float64),
            "revenue": 0.8 * pre_rev + rng.gamma(2.0, 20.0, n) + 0.5 * (v == 2),
            "margin": 0.5 * pre_margin + rng.gamma(2.0, 5.0, n),
            "orders": orders,
            "pre_revenue": pre_rev,
            "pre_margin": pre_margin,
        }
    )


def _marksell_core(df: pd.DataFrame) -> pd.DataFrame:
    from marksell.experiments import adjust, lift_table, unit_moments
    from marksell.experiments.validate import parse_metrics

    metrics = parse_metrics(df, METRICS, COVARIATES, set())
    return adjust(lift_table(unit_moments(df, metrics, variants=VARIANTS), "control"), "converted")


def run_core(n: int) -> dict:
    import statsmodels.stats.multitest  # noqa: F401

    import marksell.experiments  # noqa: F401  (imports are not part of the timing)

    df = make_data(n)
    t0 = time.perf_counter()
    res = _marksell_core(df)
    return {"compute_s": time.perf_counter() - t0, "rows": len(res)}


def run_full(n: int) -> dict:
    import statsmodels.stats.multitest  # noqa: F401

    from marksell.experiments import run_experiment

    df = make_data(n)
    t0 = time.perf_counter()
    run = run_experiment(
        df, "control", metrics=METRICS, primary_metric="converted", covariates=COVARIATES, guardrails={"revenue": 0.02}, seed=1
    )
    return {"compute_s": time.perf_counter() - t0, "rows": len(run.results)}


def reference(df: pd.DataFrame) -> pd.DataFrame:
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    groups = {v: g for v, g in df.groupby("variant", observed=True)}
    c = groups["control"]
    rows = []
    for v in VARIANTS[1:]:
        t = groups[v]
        for m, kind in METRICS.items():
            if kind == "binary":
                x = [t[m].sum(), c[m].sum()]
                _, p = proportions_ztest(x, [len(t), len(c)])
                lo, hi = confint_proportions_2indep(x[0], len(t), x[1], len(c), method="newcomb")
                lift = t[m].mean() - c[m].mean()
            elif m in COVARIATES:
                both = pd.concat([c, t])
                design = np.column_stack(
                    [np.ones(len(both)), (both["variant"] == v).to_numpy(float), both[COVARIATES[m]].to_numpy()]
                )
                fit = sm.OLS(both[m].to_numpy(), design).fit()
                lift, p = fit.params[1], fit.pvalues[1]
            elif kind == "ratio":
                num, den = m.split("/")

                def ratio(g):
                    y, x = g[num].to_numpy(), g[den].to_numpy()
                    grad = np.array([1 / x.mean(), -y.mean() / x.mean() ** 2])
                    return y.sum() / x.sum(), grad @ np.cov(np.vstack([y, x])) @ grad / len(y)

                (rt, vt), (rc, vc) = ratio(t), ratio(c)
                lift, p = rt - rc, 2 * stats.norm.sf(abs(rt - rc) / np.sqrt(vt + vc))
            else:
                res = stats.ttest_ind(t[m], c[m], equal_var=False)
                lift, p = t[m].mean() - c[m].mean(), res.pvalue
            rows.append({"metric": m, "variant": v, "abs_lift": lift, "p_value": p})
    return pd.DataFrame(rows)


def run_reference(n: int) -> dict:
    import statsmodels.api  # noqa: F401
    import statsmodels.stats.proportion  # noqa: F401

    df = make_data(n)
    t0 = time.perf_counter()
    ref = reference(df)
    wall = time.perf_counter() - t0
    ours = _marksell_core(df).set_index(["metric", "variant"])
    ref = ref.set_index(["metric", "variant"])
    ours = ours.loc[ref.index]
    return {
        "compute_s": wall,
        "max_lift_diff": float(np.max(np.abs(ours["abs_lift"].to_numpy() - ref["abs_lift"].to_numpy()))),
        "max_p_diff": float(np.max(np.abs(ours["p_value"].to_numpy() - ref["p_value"].to_numpy()))),
    }


def main(scale: float = 1.0) -> list[dict]:
    n = max(10_000, int(round(10_000_000 * scale)))
    results = {
        "marksell core": measure(run_core, n),
        "marksell run": measure(run_full, n),
        "scipy/statsmodels": measure(run_reference, n),
    }
    ref_wall = results["scipy/statsmodels"].get("extra", {}).get("compute_s")
    rows = []
    for impl, res in results.items():
        if not res.get("ok"):
            rows.append({"analysis": "experiment", "size": f"{n} units", "impl": impl, "error": res.get("error")})
            continue
        extra = res["extra"]
        wall = extra["compute_s"]
        rows.append(
            {
                "analysis": "experiment",
                "size": f"{n:,} units x 3 variants x 5 metrics",
                "impl": impl,
                "wall_s": wall,
                "cpu_s": res["cpu_s"],
                "peak_mb": res["peak_mb"],
                "ratio_vs_ref": wall / ref_wall if ref_wall else None,
                "extra": {k: v for k, v in extra.items() if k != "compute_s"},
            }
        )
    return rows


if __name__ == "__main__":
    cli(main, "experiments", __doc__)

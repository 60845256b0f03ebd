"""Benchmark: own-price elasticities with store and week fixed effects on a large panel.

Scale 1.0 = 500 stores x 40 products x 52 weeks = 1,040,000 rows. marksell estimates, per product,
``log units ~ log price + promo + store FE + week FE`` by OLS and by 2SLS (log unit cost as the
instrument), plus a pooled regression per category, absorbing the fixed effects by within-demeaning
(no dummy matrix). References on the same data, the same per-product regressions:

* ``statsmodels OLS + dummies``: the textbook way, one dense design with 500 store and 51 week dummies
  per product. It runs on the first 2 products only and its time is extrapolated linearly to all
  40 (each product's regression is the same size); the table says so.
* ``linearmodels AbsorbingLS`` (if installed): absorbs the store and week effects, all products.

``wall_s`` is the computation alone (data generation excluded); ``cpu_s``/``peak_mb`` are the
harness figures of the whole child process (peak includes the generated data, ~100 MB at scale 1).
``extra`` reports the largest coefficient difference against the reference (they must agree).

Run: ``python benchmarks/bench_elasticity.py --scale 0.1``
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import pandas as pd
from harness import cli, measure

from marksell import pricing as el

N_PRODUCTS, N_WEEKS = 40, 52


def make_panel(n_stores: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic store x product x week panel with store/week effects and endogenous prices."""
    rng = np.random.default_rng(seed)
    s, p, t = (a.ravel() for a in np.meshgrid(np.arange(n_stores), np.arange(N_PRODUCTS), np.arange(N_WEEKS), indexing="ij"))
    e = rng.uniform(-3.0, -1.2, N_PRODUCTS)
    store_fx, week_fx = rng.normal(0, 0.3, n_stores), rng.normal(0, 0.2, N_WEEKS)
    log_cost = np.log(2 + p % 7) + rng.normal(0, 0.1, len(s))
    v = rng.normal(0, 0.1, len(s))
    promo = (rng.random(len(s)) < 0.1).astype(np.int8)
    lp = 0.6 + 0.8 * log_cost + 0.02 * (s % 5) + 0.3 * v - 0.2 * promo + rng.normal(0, 0.03, len(s))
    lq = 4 + store_fx[s] + week_fx[t] + e[p] * (lp - np.log(2 + p % 7)) + 0.3 * promo + v
    df = pd.DataFrame(
        {
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(7 * t, unit="D"),
            "store_id": pd.array([f"S{i:04d}" for i in range(n_stores)], dtype="string")[s],
            "product_id": pd.array([f"P{i:02d}" for i in range(N_PRODUCTS)], dtype="string")[p],
            "category": pd.array([f"C{i}" for i in range(4)], dtype="string")[p % 4],
            "price": np.round(np.exp(lp), 2),
            "units": np.round(np.exp(lq)),
            "promo": promo,
            "unit_cost": np.round(np.exp(log_cost), 3),
        }
    )
    df = df[df["units"] > 0].reset_index(drop=True)
    return df, e


def run_marksell(n_stores: int) -> dict:
    df, e = make_panel(n_stores)
    t0 = time.perf_counter()
    fits = el.fit_elasticities(df, methods=["ols", "iv"], fixed_effects="both", instruments=["log(unit_cost)"])
    wall = time.perf_counter() - t0
    iv = fits[(fits["method"] == "iv") & (fits["level"] == "product")]
    ols = fits[(fits["method"] == "ols") & (fits["level"] == "product")]
    return {
        "compute_s": wall,
        "rows": len(df),
        "regressions": len(fits),
        "iv_mean_abs_error_vs_truth": float(np.abs(iv["elasticity"].to_numpy() - e).mean()),
        "ols_mean_abs_error_vs_truth": float(np.abs(ols["elasticity"].to_numpy() - e).mean()),
        "ols": ols["elasticity"].round(10).tolist(),
    }


def run_statsmodels(n_stores: int, ref_products: int) -> dict:
    """OLS with dense store and week dummies, per product, on the first ``ref_products`` products."""
    import statsmodels.api as sm

    df, _ = make_panel(n_stores)
    products = sorted(df["product_id"].unique())
    t0 = time.perf_counter()
    coefs = []
    for prod in products[:ref_products]:
        d = df[df["product_id"] == prod]
        x = pd.concat(
            [
                pd.DataFrame({"lp": np.log(d["price"]), "promo": d["promo"].astype(float)}),
                pd.get_dummies(d["store_id"], dtype=float),
                pd.get_dummies(d["date"], drop_first=True, dtype=float),
            ],
            axis=1,
        )
        res = sm.OLS(np.log(d["units"]), x).fit(cov_type="HC1")
        coefs.append(float(res.params["lp"]))
    elapsed = time.perf_counter() - t0
    return {
        "measured_products": ref_products,
        "measured_s": elapsed,
        "extrapolated_s": elapsed * len(products) / ref_products,
        "ols": coefs,
    }


def run_linearmodels(n_stores: int) -> dict:
    from linearmodels.iv.absorbing import AbsorbingLS

    df, _ = make_panel(n_stores)
    t0 = time.perf_counter()
    coefs = []
    for _prod, d in df.groupby("product_id", sort=True):
        absorb = pd.DataFrame({"store": pd.Categorical(d["store_id"]), "week": pd.Categorical(d["date"])}, index=d.index)
        exog = pd.DataFrame({"lp": np.log(d["price"]), "promo": d["promo"].astype(float)})
        res = AbsorbingLS(np.log(d["units"]), exog, absorb=absorb).fit(cov_type="robust")
        coefs.append(float(res.params["lp"]))
    return {"compute_s": time.perf_counter() - t0, "ols": coefs}


def main(scale: float = 1.0) -> list[dict]:
    n_stores = max(20, int(500 * scale))
    size = f"{n_stores} stores x {N_PRODUCTS} products x {N_WEEKS} weeks = {n_stores * N_PRODUCTS * N_WEEKS:,} rows"
    ours = measure(run_marksell, n_stores)
    ref_products = 2
    sm_ref = measure(run_statsmodels, n_stores, ref_products)
    wall = ours["extra"]["compute_s"] if ours.get("ok") else None
    ours_coefs = np.array(ours["extra"].pop("ols")) if ours.get("ok") else None
    sm_wall = sm_ref["extra"]["extrapolated_s"] if sm_ref.get("ok") else None
    extra_sm = dict(sm_ref.get("extra") or {"error": sm_ref.get("error")})
    if ours_coefs is not None and sm_ref.get("ok"):
        extra_sm["max_abs_diff_vs_marksell"] = float(np.abs(np.array(extra_sm.pop("ols")) - ours_coefs[:ref_products]).max())
    rows = [
        {
            "analysis": "elasticity_fe_both",
            "size": size,
            "impl": "marksell (within-demeaning; OLS + 2SLS + pooled)",
            "wall_s": wall,
            "cpu_s": ours.get("cpu_s"),
            "peak_mb": ours.get("peak_mb"),
            "ratio_vs_ref": (wall / sm_wall) if (wall and sm_wall) else None,
            "extra": ours.get("extra") or ours.get("error"),
        },
        {
            "analysis": "elasticity_fe_both",
            "size": size,
            "impl": f"statsmodels OLS + dummies ({ref_products} products measured, extrapolated)",
            "wall_s": sm_wall,
            "cpu_s": None,
            "peak_mb": sm_ref.get("peak_mb"),
            "ratio_vs_ref": 1.0,
            "extra": extra_sm,
        },
    ]
    if importlib.util.find_spec("linearmodels") is None:
        return rows
    lm = measure(run_linearmodels, n_stores)
    if lm.get("ok"):
        diff = float(np.abs(np.array(lm["extra"].pop("ols")) - ours_coefs).max()) if ours_coefs is not None else None
        rows.append(
            {
                "analysis": "elasticity_fe_both",
                "size": size,
                "impl": "linearmodels AbsorbingLS (OLS only)",
                "wall_s": lm["extra"]["compute_s"],
                "cpu_s": lm.get("cpu_s"),
                "peak_mb": lm.get("peak_mb"),
                "ratio_vs_ref": (lm["extra"]["compute_s"] / sm_wall) if sm_wall else None,
                "extra": {"max_abs_diff_vs_marksell": diff},
            }
        )
    else:
        print("linearmodels reference failed:", lm.get("error"))
    return rows


if __name__ == "__main__":
    cli(main, "elasticity", __doc__)

"""Benchmark: the KPI scorecard (every measure, every month, overall and by channel and region).

Scale 1.0 = a sample-like company of 30,000 customers (about 150,000 transactions) over 36 months;
scale 0.1 is the size of the embedded sample. Data are generated on the fly with the sample company
generators (customers, then funnel and market size).

* ``marksell``: :func:`marksell.kpi.kpi_report` with historical CLV (the whole report: monthly panels
  for 3 dimensions, payback curves, scorecard with driver sentences, cohorts).
* ``pandas loop`` (reference): what an analyst would write by hand for the core monthly channel
  measures only (new customers, CAC, historical CLV, ROAS, conversion), one boolean filter per month.
  ``extra.max_cac_diff`` checks both give the same CAC.

``wall_s`` is the computation alone (data generation excluded); ``cpu_s``/``peak_mb`` are the
harness figures of the whole child process.

Run: ``python benchmarks/bench_kpi.py --scale 0.1``
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from harness import cli, measure

from marksell import kpi
from marksell.sample import customers as customers_gen
from marksell.sample import funnel as funnel_gen


def make_data(n_customers: int, seed: int = 0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables, _ = customers_gen.generate(np.random.default_rng(seed), n_customers=n_customers)
        out, _ = funnel_gen.generate(np.random.default_rng(seed + 1), tables["customers"], tables["transactions"])
    return tables["transactions"], out["marketing_funnel"], out["market_size"]


def reference(tx: pd.DataFrame, funnel: pd.DataFrame, gross_margin: float = 0.4) -> pd.DataFrame:
    """Plain pandas: monthly channel CAC, historical CLV, ROAS (12-month attribution) and conversion."""
    tx = tx.copy()
    tx["month"] = tx["order_date"].dt.to_period("M")
    first = tx.groupby("customer_id")["month"].min().rename("acq")
    tx = tx.join(first, on="customer_id")
    tx["age"] = (tx["month"] - tx["acq"]).apply(lambda d: d.n)
    f = funnel.assign(month=pd.to_datetime(funnel["month"]).dt.to_period("M"))
    rows = []
    for m in sorted(f["month"].unique()):
        upto = tx[tx["month"] <= m]
        now = tx[tx["month"] == m]
        new = now[now["acq"] == m].groupby("channel")["customer_id"].nunique()
        clv = upto.groupby("channel")["revenue"].sum() * gross_margin / upto.groupby("channel")["customer_id"].nunique()
        attr = now[now["age"] < 12].groupby("channel")["revenue"].sum()
        fm = f[f["month"] == m].set_index("channel")
        for ch, r in fm.iterrows():
            n = new.get(ch, 0)
            rows.append(
                {
                    "month": str(m),
                    "channel": ch,
                    "cac": r["spend"] / n if n else np.nan,
                    "clv": clv.get(ch, np.nan),
                    "roas": attr.get(ch, 0.0) / r["spend"],
                    "conversion": r["conversions"] / r["leads"] if r["leads"] else np.nan,
                }
            )
    return pd.DataFrame(rows)


def run_marksell(n_customers: int) -> dict:
    tx, f, m = make_data(n_customers)
    t0 = time.perf_counter()
    rep = kpi.kpi_report(tx, f, m, clv_method="historical")
    wall = time.perf_counter() - t0
    return {"compute_s": wall, "rows": int(len(rep.kpis)), "n_tx": int(len(tx))}


def run_reference(n_customers: int) -> dict:
    tx, f, m = make_data(n_customers)
    t0 = time.perf_counter()
    ref = reference(tx, f)
    wall = time.perf_counter() - t0
    rep = kpi.kpi_report(tx, f, None, clv_method="historical", dimensions=["channel"])
    k = rep.kpis[(rep.kpis["dimension"] == "channel") & (rep.kpis["metric"] == "cac")]
    got = k.set_index(["period", "dimension_value"])["value"]
    want = ref.set_index(["month", "channel"])["cac"]
    diff = float(np.nanmax(np.abs(got.reindex(want.index).to_numpy() - want.to_numpy())))
    return {"compute_s": wall, "max_cac_diff": diff, "n_tx": int(len(tx))}


def main(scale: float = 1.0) -> list[dict]:
    n = max(300, int(round(30_000 * scale)))
    rows = []
    results = {"marksell": measure(run_marksell, n), "pandas loop": measure(run_reference, n)}
    ref_wall = results["pandas loop"].get("extra", {}).get("compute_s")
    for impl, res in results.items():
        if not res.get("ok"):
            rows.append({"analysis": "kpi_report", "size": f"{n} customers", "impl": impl, "error": res.get("error")})
            continue
        extra = res["extra"]
        wall = extra["compute_s"]
        rows.append(
            {
                "analysis": "kpi_report",
                "size": f"{n} customers / {extra['n_tx']} tx",
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
    cli(main, "kpi", __doc__)

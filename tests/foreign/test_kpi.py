"""The KPI scorecard on a stranger's files: other column, channel and region names, transactions
without channel or region, only some of the inputs.

Files are generated here (seeded, small) and run through the ``marksell`` command with only the paths and
the column mapping. Each run must end ok, write the documented artifacts, say in one line what it could
not compute, and say nothing about the sample company or its channels.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_ok_run, run_notebook, sample_words_in

pytestmark = pytest.mark.slow

KPI_COLUMNS = ["period", "dimension", "dimension_value", "metric", "value", "target", "status", "note"]
COHORT_COLUMNS = ["cohort", "months_since_acquisition", "customers", "active_customers", "retention"]
#: The sample company's channels, which its findings text used to name.
SAMPLE_CHANNELS = {"display", "search", "email", "social", "affiliate"}
CHANNELS = ["Referral", "Radio", "Newsletter"]
REGIONS = ["Upland", "Coast"]


def shop_orders(n_customers: int = 500, seed: int = 99) -> pd.DataFrame:
    """Orders of customers won from 2023-01 to 2025-06, each with a channel and a region of their own."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 911, n_customers), unit="D")
    rows = []
    for i, day in enumerate(first):
        channel, region = CHANNELS[i % 3], REGIONS[(i // 3) % 2]
        n = 1 + rng.geometric(0.35)
        days = np.sort(rng.integers(0, 540, n))
        days[0] = 0
        for d in days:
            when = day + pd.Timedelta(days=int(d))
            if when <= pd.Timestamp("2025-06-30"):
                rows.append(
                    {
                        "Client": f"K-{i:05d}",
                        "Day": when.strftime("%Y-%m-%d"),
                        "Amount": round(float(rng.gamma(3, 20)), 2),
                        "Source": channel,
                        "Area": region,
                    }
                )
    return pd.DataFrame(rows)


def funnel(orders: pd.DataFrame) -> pd.DataFrame:
    """Monthly spend, leads and conversions per channel, in the user's column names."""
    rng = np.random.default_rng(5)
    months = pd.date_range("2023-01-01", "2025-06-01", freq="MS")
    won = (
        orders.sort_values("Day")
        .drop_duplicates("Client")
        .assign(m=lambda d: pd.to_datetime(d["Day"]).dt.to_period("M").dt.to_timestamp())
        .groupby(["m", "Source"])
        .size()
    )
    rows = []
    for m in months:
        for c, cost in zip(CHANNELS, (40.0, 150.0, 15.0)):
            conv = int(won.get((m, c), 0))
            rows.append(
                {
                    "Month": m.strftime("%Y-%m-%d"),
                    "Medium": c,
                    "Budget": round(cost * (conv + 1) * float(rng.uniform(0.8, 1.2)), 2),
                    "Leads": conv * 5 + 3,
                    "Sales won": conv,
                }
            )
    return pd.DataFrame(rows)


def _kpi_artifacts(out) -> tuple[str, pd.DataFrame, dict]:
    html = (out / "report.html").read_text(encoding="utf-8")
    kpis = pd.read_csv(out / "kpis.csv")
    assert list(kpis.columns) == KPI_COLUMNS
    cohorts = pd.read_csv(out / "cohorts.csv")
    assert list(cohorts.columns) == COHORT_COLUMNS
    return html, kpis, json.loads((out / "summary.json").read_text())


def test_transactions_without_channel_or_region_and_a_funnel_of_other_channels(tmp_path, sample_words):
    """No channel, no region, no market file: blended measures only, and one line says what was skipped."""
    orders = shop_orders()
    tx = tmp_path / "orders.csv"
    orders.drop(columns=["Source", "Area"]).to_csv(tx, index=False)
    fn = tmp_path / "funnel.csv"
    funnel(orders).to_csv(fn, index=False)
    proc, out = run_notebook(
        "kpi_scorecard",
        {
            "transactions_path": str(tx),
            "funnel_path": str(fn),
            "columns": {
                "transactions": {"Client": "customer_id", "Day": "order_date", "Amount": "revenue"},
                "marketing_funnel": {
                    "Month": "month",
                    "Medium": "channel",
                    "Budget": "spend",
                    "Leads": "leads",
                    "Sales won": "conversions",
                },
            },
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)
    html, kpis, summary = _kpi_artifacts(out)
    assert set(kpis["dimension"]) == {"overall"}
    overall = kpis[(kpis["period"] == summary["period"]) & (kpis["dimension"] == "overall")].set_index("metric")
    assert np.isfinite(overall.loc["cac", "value"]) and np.isfinite(overall.loc["revenue", "value"])
    assert (
        "market_share" not in set(overall.index) or overall.loc["market_share", "value"] != overall.loc["market_share", "value"]
    )
    notes = " ".join(summary["notes"] + summary["data_notes"])
    assert "channel" in notes and "region" in notes and "market" in notes
    assert not sample_words_in(html, sample_words | SAMPLE_CHANNELS)


def test_channels_regions_and_market_with_names_of_their_own(tmp_path, sample_words):
    """Every input the user's own, with channels and regions the sample does not have."""
    orders = shop_orders(seed=100)
    tx = tmp_path / "orders.parquet"
    orders.to_parquet(tx, index=False)
    fn = tmp_path / "funnel.csv"
    funnel(orders).to_csv(fn, index=False)
    mk = tmp_path / "market.csv"
    months = pd.date_range("2023-01-01", "2025-06-01", freq="MS")
    pd.DataFrame(
        [
            {"Month": m.strftime("%Y-%m-%d"), "Area": r, "Market value": 40000.0 + 1000 * i}
            for i, m in enumerate(months)
            for r in REGIONS
        ]
    ).to_csv(mk, index=False)
    proc, out = run_notebook(
        "kpi_scorecard",
        {
            "transactions_path": str(tx),
            "funnel_path": str(fn),
            "market_path": str(mk),
            "columns": {
                "transactions": {
                    "Client": "customer_id",
                    "Day": "order_date",
                    "Amount": "revenue",
                    "Source": "channel",
                    "Area": "region",
                },
                "marketing_funnel": {
                    "Month": "month",
                    "Medium": "channel",
                    "Budget": "spend",
                    "Leads": "leads",
                    "Sales won": "conversions",
                },
                "market_size": {"Month": "month", "Area": "region", "Market value": "market_size"},
            },
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)
    html, kpis, summary = _kpi_artifacts(out)
    period = kpis[kpis["period"] == summary["period"]]
    assert set(period.loc[period["dimension"] == "channel", "dimension_value"]) == set(CHANNELS)
    assert set(period.loc[period["dimension"] == "region", "dimension_value"]) == set(REGIONS)
    share = period[(period["dimension"] == "region") & (period["metric"] == "market_share")]["value"]
    assert share.notna().all() and (share > 0).all()
    for name in CHANNELS + REGIONS:
        assert name in html
    assert not sample_words_in(html, sample_words | SAMPLE_CHANNELS)

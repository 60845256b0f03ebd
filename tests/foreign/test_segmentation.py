"""Customer segmentation on a stranger's orders: other column names and ids, no channel, no region.

One run through the ``marksell`` command with only the path and the column mapping; the report must end
ok, write the documented artifacts and say nothing about the sample company.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import assert_ok_run, run_notebook, sample_words_in

pytestmark = pytest.mark.slow

#: customers.csv and segment_summary.csv columns as documented (segmentation summary helpers).
CUSTOMER_COLUMNS = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "cluster",
    "cluster_name",
    "p_alive",
    "expected_purchases",
    "clv",
]
SEGMENT_COLUMNS = ["kind", "group", "customers", "share_customers", "share_revenue"]


def foreign_orders(path, seed: int = 20260, n_customers: int = 300) -> pd.DataFrame:
    """Orders of a web shop: ``Client``/``Booked on``/``Net amount`` with ids like ``acct-0042``;
    light, medium and heavy buyers over about two years; a few returns; no channel or region."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_customers):
        first = pd.Timestamp("2023-02-01") + pd.Timedelta(days=int(rng.integers(0, 360)))
        rate = rng.choice([0.15, 1.5, 5.0], p=[0.5, 0.35, 0.15])  # repeat orders a year
        n = 1 + rng.poisson(rate * 1.5)
        days = np.sort(np.r_[0, rng.integers(1, 540, n - 1)])
        spend = rng.gamma(3.0, [15.0, 25.0, 40.0][int(rng.integers(0, 3))])
        for d in days:
            amount = round(float(spend * rng.lognormal(0, 0.3)), 2)
            rows.append(
                {
                    "Client": f"acct-{i:04d}",
                    "Booked on": (first + pd.Timedelta(days=int(d))).date(),
                    "Net amount": -amount if rng.random() < 0.02 else amount,
                }
            )
    frame = pd.DataFrame(rows)
    frame = frame[pd.to_datetime(frame["Booked on"]) < pd.Timestamp("2025-01-01")]
    frame.to_csv(path, index=False)
    return frame


def test_segmentation_runs_on_orders_without_channel_or_region(tmp_path, sample_words):
    orders = foreign_orders(tmp_path / "orders.csv")
    proc, out = run_notebook(
        "customer_segmentation",
        {
            "transactions_path": str(tmp_path / "orders.csv"),
            "columns": {"Client": "customer_id", "Booked on": "order_date", "Net amount": "revenue"},
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)

    customers = pd.read_csv(out / "customers.csv", dtype={"customer_id": str})
    assert customers.columns.tolist() == CUSTOMER_COLUMNS
    buyers = orders.groupby("Client")["Net amount"].max() > 0  # customers with only returns are left out
    assert sorted(customers["customer_id"]) == sorted(buyers.index[buyers])
    assert customers["clv"].notna().all() and (customers["p_alive"].between(0, 1)).all()
    segments = pd.read_csv(out / "segment_summary.csv")
    assert set(SEGMENT_COLUMNS) <= set(segments.columns)
    assert not [c for c in segments.columns if c.startswith(("channel:", "region:"))]
    for kind in ("rfm_segment", "cluster"):
        part = segments[segments["kind"] == kind]
        assert part["customers"].sum() == len(customers)
        assert part["share_revenue"].sum() == pytest.approx(1.0, abs=1e-6)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["customers"] == len(customers)

    html = (out / "report.html").read_text()
    assert sample_words_in(html, sample_words) == []
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert (~buyers).any() and f"{int((~buyers).sum())} customer(s) with returns but no purchase" in text
    # the findings are written from this run's results: the revenue concentration quoted in the report
    top20 = summary["concentration"]["top_20pct_revenue_share"]
    assert f"{top20:.0%}" in text

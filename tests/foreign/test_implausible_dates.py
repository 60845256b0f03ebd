"""Orders from 1900 beside 2023-2025 (issue 19): the segmentation run finishes with status ``warning`` (exit 0),
its report opens with why, and the data note names the column and the oldest dates (the loader's warning also
names the file: tests/data/test_plausible.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_notebook

pytestmark = pytest.mark.slow


def test_a_segmentation_on_placeholder_dates_is_a_warning(tmp_path):
    rng = np.random.default_rng(1900)
    rows = []
    for i in range(150):
        first = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 400)))
        for d in np.sort(rng.integers(0, 500, 1 + rng.poisson(2))):
            rows.append(
                {
                    "Client": f"k{i:03d}",
                    "Booked": (first + pd.Timedelta(days=int(d))).date(),
                    "Amount": round(float(rng.gamma(2.0, 20.0)), 2),
                }
            )
    orders = pd.DataFrame(rows)
    orders = orders[pd.to_datetime(orders["Booked"]) < pd.Timestamp("2025-06-01")]
    placeholders = pd.DataFrame(
        {"Client": ["k000", "k001", "k002"], "Booked": ["1900-01-01", "1900-01-01", "1901-06-30"], "Amount": 10.0}
    )
    pd.concat([orders, placeholders]).to_csv(tmp_path / "orders.csv", index=False)
    proc, out = run_notebook(
        "customer_segmentation",
        {
            "transactions_path": str(tmp_path / "orders.csv"),
            "columns": {"Client": "customer_id", "Booked": "order_date", "Amount": "revenue"},
        },
        tmp_path / "run",
    )
    record = json.loads((out / "run.json").read_text())
    assert proc.returncode == 0 and record["status"] == "warning", proc.stdout + proc.stderr
    assert record["warnings"][0].startswith(
        "Implausible dates: 3 customer(s) have purchases dated 1900-01-01 to 1901-06-30, 122 years before all other purchases"
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<strong>Read with care:</strong> Implausible dates: 3 customer(s)" in html
    assert "Data note: 3 row(s) of 'order_date' dated 1900-01-01 to 1901-06-30, 122 years before the other" in html
    assert json.loads((out / "summary.json").read_text())["warnings"] == record["warnings"]

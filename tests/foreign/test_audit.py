"""The data audit on a stranger's files: only the inputs named are audited, under the user's names.

Files are generated here (seeded, small) and run through the ``marksell`` command with only the paths, the
column mapping and the series keys. The run must end ok, list exactly the inputs given and say nothing
about the sample company.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_ok_run, run_notebook, sample_words_in

pytestmark = pytest.mark.slow

OVERVIEW_COLUMNS = ["kind", "file", "status", "rows", "columns", "first_date", "last_date", "n_problems", "n_findings"]
ISSUE_COLUMNS = ["kind", "column", "check", "count", "detail"]


def test_audits_only_the_inputs_it_is_given(tmp_path, sample_words):
    """Transactions without channel or region, and a weekly sales history keyed by `outlet`: the audit
    covers these two files and no file of the sample company."""
    rng = np.random.default_rng(404)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 500, 1500), unit="D")
    tx = tmp_path / "ledger.csv"
    pd.DataFrame(
        {
            "Buyer": [f"B{n:04d}" for n in rng.integers(0, 300, 1500)],
            "Booked on": days.strftime("%Y-%m-%d"),
            "Value": rng.gamma(2.0, 30.0, 1500).round(2),
        }
    ).to_csv(tx, index=False, sep=";")
    weeks = pd.date_range("2024-01-07", periods=80, freq="W-SUN")
    sales = tmp_path / "outlets.xlsx"
    pd.concat(
        [
            pd.DataFrame({"wk": weeks, "outlet": o, "turnover": rng.gamma(9, 100, len(weeks)).round(1)})
            for o in ("Quay", "Market Hall")
        ]
    ).to_excel(sales, index=False)
    proc, out = run_notebook(
        "data_audit",
        {
            "transactions_path": str(tx),
            "sales_path": str(sales),
            "sales_keys": ["outlet"],
            "columns": {
                "transactions": {"Buyer": "customer_id", "Booked on": "order_date", "Value": "revenue"},
                "sales_history": {"wk": "date", "turnover": "sales"},
            },
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)
    overview = pd.read_csv(out / "audit_overview.csv")
    assert list(overview.columns) == OVERVIEW_COLUMNS
    assert overview["kind"].tolist() == ["transactions", "sales_history"]
    assert set(overview["status"]) <= {"ok", "warnings"}
    assert overview["file"].str.contains("ledger.csv").any() and overview["file"].str.contains("outlets").any()
    issues = pd.read_csv(out / "audit_issues.csv")
    assert list(issues.columns) == ISSUE_COLUMNS
    assert set(issues["kind"]) <= {"transactions", "sales_history"}
    summary = json.loads((out / "summary.json").read_text())
    assert "sample" not in json.dumps(summary).lower()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not sample_words_in(html, sample_words)
    for other in ("marketing_funnel", "market_size", "price_panel", "opportunities", "customers"):
        assert other not in overview["kind"].tolist()

"""Dates long before all the others (1900 beside 2025) are found and named; long or gapped-but-dense histories
are not flagged."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from marksell.data import DataQualityWarning, load_transactions
from marksell.data.plausible import isolated_old_dates


def test_placeholder_dates_beside_recent_ones_are_found():
    dates = pd.Series(pd.date_range("2023-01-01", "2025-05-31", freq="D"))
    dates = pd.concat([dates, pd.Series(pd.to_datetime(["1900-01-01", "1900-01-01", "1901-06-30", None]))])
    old = isolated_old_dates(dates)
    assert (old.rows, old.rest_rows) == (3, 882)
    assert (old.oldest, old.newest_old, old.rest_from) == (
        pd.Timestamp("1900-01-01"),
        pd.Timestamp("1901-06-30"),
        pd.Timestamp("2023-01-01"),
    )
    assert old.describe("order_date") == (
        "3 row(s) of 'order_date' dated 1900-01-01 to 1901-06-30, 122 years before the other 882 rows (from 2023-01-01)"
    )
    assert isolated_old_dates(["1900-01-01", "2025-01-02", "2025-01-03", "not a date"]).rows == 1


@pytest.mark.parametrize(
    "dates",
    [
        pd.date_range("1995-01-01", "2024-12-31", freq="D"),  # thirty years, no gap
        pd.date_range("2024-01-01", periods=3, freq="D"),  # a few days
        pd.to_datetime(["1900-01-01", None, None]),  # too few dates to judge
    ],
)
def test_long_or_short_histories_without_a_gap_are_plausible(dates):
    assert isolated_old_dates(pd.Series(dates)) is None


def test_the_loader_names_the_file_the_column_and_the_oldest_dates(tmp_path):
    rng = np.random.default_rng(5)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 500, 200), unit="D")
    rows = pd.DataFrame({"Client": [f"k{i % 40}" for i in range(200)], "Day": days.strftime("%Y-%m-%d"), "Amount": 10.0})
    rows.loc[[0, 1], "Day"] = "1900-01-01"
    rows.to_csv(tmp_path / "orders.csv", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_transactions(tmp_path / "orders.csv", columns={"Client": "customer_id", "Day": "order_date", "Amount": "revenue"})
    notes = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert (
        len(notes) == 1
        and "orders.csv: 2 row(s) of 'order_date' dated 1900-01-01, 124 years before the other 198 rows" in notes[0]
        and "correct or remove them" in notes[0]
    )

"""Sales forecasting on a stranger's sales history: other column names, other keys, weekly, monthly and
quarterly files, one series, series ending on different dates, drivers that are not the sample's.

Each file is generated here (seeded, small) and run through the ``marksell`` command with only the path,
the column mapping and what only the user knows (the series keys, a sales plan). The run must end ok,
write the documented artifacts and say nothing about the sample company.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_ok_run, run_notebook, sample_words_in

pytestmark = pytest.mark.slow

FORECAST_COLUMNS = ["series_id", "level", "date", "model", "spec", "forecast", "lo_80", "hi_80", "lo_95", "hi_95", "chosen"]
METRIC_COLUMNS = ["series_id", "level", "model", "mase", "rmsse", "smape", "bias", "coverage_80", "coverage_95", "chosen"]


def _seasonal(
    rng, n: int, m: int, level: float, growth: float = 0.004, amp: float = 0.25, noise: float = 0.04, phase: int = 0
) -> np.ndarray:
    """A positive series: trend x seasonal pattern x noise."""
    t = np.arange(n)
    season = 1 + amp * np.sin(2 * np.pi * (t + phase) / m)
    return level * (1 + growth) ** t * season * np.exp(rng.normal(0, noise, n))


def _report(out) -> tuple[str, pd.DataFrame, pd.DataFrame, dict]:
    html = (out / "report.html").read_text(encoding="utf-8")
    forecast = pd.read_csv(out / "forecast.csv", parse_dates=["date"])
    metrics = pd.read_csv(out / "backtest_metrics.csv")
    summary = json.loads((out / "summary.json").read_text())
    return html, forecast, metrics, summary


def _check_artifacts(forecast: pd.DataFrame, metrics: pd.DataFrame) -> None:
    assert list(forecast.columns) == FORECAST_COLUMNS
    assert list(metrics.columns) == METRIC_COLUMNS
    assert forecast["forecast"].notna().all()
    chosen = forecast[forecast["chosen"]]
    assert chosen.groupby("series_id").size().nunique() == 1  # every series: one chosen model, full horizon


def monthly_markets(path) -> None:
    """Four monthly series keyed by Market x Line with month-end dates and the user's own names; one
    series starts later and ends two months early (its last report is missing)."""
    rng = np.random.default_rng(131)
    rows = []
    for i, (market, line) in enumerate([("Alpha", "basic"), ("Alpha", "premium"), ("Beta", "basic"), ("Beta", "premium")]):
        start, end = ("2022-01", "2025-04") if (market, line) == ("Beta", "premium") else ("2021-07", "2025-06")
        months = pd.period_range(start, end, freq="M")
        y = _seasonal(rng, len(months), 12, 800 * (i + 1), phase=i)
        rows.append(
            pd.DataFrame(
                {
                    "Period": months.to_timestamp(how="end").strftime("%Y-%m-%d"),
                    "Market": market,
                    "Line": line,
                    "Net revenue": y.round(2),
                }
            )
        )
    pd.concat(rows).to_csv(path, index=False)


def test_monthly_series_with_other_keys_and_different_end_dates(tmp_path, sample_words):
    """Keys and columns of the user's own; no promo/easter columns; one series ends early: every series is
    forecast from its own end, the hierarchy covers only the series that share an end, and a note says so."""
    src = tmp_path / "revenue.csv"
    monthly_markets(src)
    proc, out = run_notebook(
        "sales_forecasting",
        {"sales_path": str(src), "columns": {"Period": "date", "Net revenue": "sales"}, "keys": ["Market", "Line"]},
        tmp_path / "run",
    )
    assert_ok_run(proc, out)
    html, forecast, metrics, summary = _report(out)
    _check_artifacts(forecast, metrics)
    first = forecast[forecast["chosen"]].groupby("series_id")["date"].min()
    assert first["Beta / premium"] == pd.Timestamp("2025-05-01")  # from its own end (2025-04)
    assert first["Alpha / basic"] == pd.Timestamp("2025-07-01")
    assert first["total"] == pd.Timestamp("2025-07-01")
    # the hierarchy: total, Market, Market x Line derived from the keys; total = the three that end together
    assert set(forecast["level"]) == {"total", "Market", "Market x Line"}
    assert summary["frequency"] == "M" and summary["season_length"] == 12 and summary["horizon"] == 3
    assert any("Beta / premium" in n and "2025-04" in n for n in summary["notes"]), summary["notes"]
    assert "Beta / premium" in html and "drivers" in html.lower()
    assert not (out / "driver_effects.csv").exists()
    assert not sample_words_in(html, sample_words)
    assert "region x category" not in html and "fully on promotion" not in html


def quarterly_one_series(path) -> None:
    """One quarterly series (no key column) with the user's own column names."""
    rng = np.random.default_rng(7331)
    quarters = pd.period_range("2014Q1", "2025Q2", freq="Q")
    y = _seasonal(rng, len(quarters), 4, 5000, growth=0.01, amp=0.2)
    pd.DataFrame({"quarter_start": quarters.to_timestamp().strftime("%Y-%m-%d"), "units_shipped": y.round(1)}).to_csv(
        path, index=False
    )


def test_quarterly_file_that_is_one_series(tmp_path, sample_words):
    """One series, `keys []`: frequency, season length and horizon come from the dates; nothing to
    reconcile, no drivers."""
    src = tmp_path / "shipments.csv"
    quarterly_one_series(src)
    proc, out = run_notebook(
        "sales_forecasting",
        {"sales_path": str(src), "columns": {"quarter_start": "date", "units_shipped": "sales"}, "keys": []},
        tmp_path / "run",
    )
    assert_ok_run(proc, out)
    html, forecast, metrics, summary = _report(out)
    _check_artifacts(forecast, metrics)
    assert summary["frequency"] == "Q" and summary["season_length"] == 4
    assert set(forecast["series_id"]) == {"total"}
    chosen = forecast[forecast["chosen"]]
    assert chosen["date"].min() == pd.Timestamp("2025-07-01")
    assert len(chosen) == summary["horizon"] == 4  # a year of quarters
    assert not sample_words_in(html, sample_words)


def weekly_shops_with_discount(history, plan, horizon: int = 13) -> None:
    """Two shops' weekly units (weeks starting on Sunday) with a discount driver of +30 % per unit, and
    the discount plan for the next ``horizon`` weeks."""
    rng = np.random.default_rng(2718)
    weeks = pd.date_range("2023-01-01", periods=130, freq="W-SUN")
    future = pd.date_range(weeks[-1], periods=horizon + 1, freq="W-SUN")[1:]
    hist, fut = [], []
    for i, shop in enumerate(["Harbour St", "Mill Lane"]):
        disc = (rng.random(len(weeks)) < 0.2).astype(float)
        y = _seasonal(rng, len(weeks), 52, 300 + 100 * i, growth=0.001, amp=0.15) * np.exp(np.log(1.3) * disc)
        hist.append(pd.DataFrame({"week": weeks.strftime("%Y-%m-%d"), "shop": shop, "qty": y.round(1), "discount": disc}))
        fut.append(
            pd.DataFrame(
                {"week": future.strftime("%Y-%m-%d"), "shop": shop, "discount": (np.arange(horizon) % 4 == 0).astype(float)}
            )
        )
    pd.concat(hist).to_csv(history, index=False)
    pd.concat(fut).to_csv(plan, index=False)


def test_weekly_file_with_a_driver_of_its_own(tmp_path, sample_words):
    """A weekly history with the user's driver (`discount`) and its plan: the regression runs on it, the
    driver table and plan contribution name it, and the sample's drivers are nowhere."""
    src, plan = tmp_path / "weekly.csv", tmp_path / "plan.csv"
    weekly_shops_with_discount(src, plan)
    proc, out = run_notebook(
        "sales_forecasting",
        {
            "sales_path": str(src),
            "future_path": str(plan),
            "columns": {"week": "date", "qty": "sales"},
            "keys": ["shop"],
            "exog_cols": ["discount"],
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)
    html, forecast, metrics, summary = _report(out)
    _check_artifacts(forecast, metrics)
    assert summary["frequency"] == "W" and summary["horizon"] == 13
    effects = pd.read_csv(out / "driver_effects.csv")
    assert set(effects["term"]) == {"discount"}
    pooled = summary["driver_effects"]["discount"]["effect_pct"]
    assert 15 < pooled < 45  # planted +30 % per discounted week
    contribution = pd.read_csv(out / "plan_contribution.csv")
    assert {"series_id", "date", "forecast", "contribution"} <= set(contribution.columns)
    assert not sample_words_in(html, sample_words)
    assert "easter" not in html.lower()

"""Forecasting on a user's data without a kernel: defaults that name the sample's columns fall back to what
the data has, mixed frequencies are refused, series ending on other dates stay out of the totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marksell import forecasting as fc
from marksell.errors import AnalysisError
from marksell.forecasting.series import build_hierarchy, end_notes, prepare_history
from marksell.reporting.parameters import read_parameters
from marksell.reporting.runner import resolve_notebook


def test_notebook_defaults_are_the_ones_the_fallbacks_know():
    """The fallbacks apply to the notebook's declared defaults: they must stay in step."""
    declared = {p.name: p.default for p in read_parameters(resolve_notebook("sales_forecasting"))}
    assert declared["keys"] == list(fc.SAMPLE_KEYS)
    assert declared["exog_cols"] == list(fc.SAMPLE_DRIVERS)
    assert declared["levels"] == [] and declared["show_series"] == [] and declared["horizon"] == 0


def test_default_keys_apply_only_where_the_file_has_them():
    assert fc.fit_keys(["region", "category"], ["date", "region", "category", "sales"]) == (["region", "category"], None)
    keys, why = fc.fit_keys(["region", "category"], ["date", "Market", "sales"])
    assert keys is None and "`region`" in why and "`category`" in why
    # a value the user gave is used as given (a wrong one fails in the loader with its message)
    assert fc.fit_keys(["shop"], ["date", "sales"]) == (["shop"], None)
    assert fc.fit_keys([], ["date", "region", "sales"]) == ([], None)


def test_keys_derived_from_the_text_columns(tmp_path):
    path = tmp_path / "h.csv"
    pd.DataFrame(
        {
            "Month": pd.date_range("2022-01-01", periods=30, freq="MS").strftime("%Y-%m-%d").tolist() * 2,
            "Market": ["A"] * 30 + ["B"] * 30,
            "Revenue": np.arange(60.0),
            "discount": 0.0,
        }
    ).to_csv(path, index=False)
    inputs = fc.load_inputs(str(path), "", {"Month": "date", "Revenue": "sales"})
    assert inputs.keys == ["Market"] and inputs.exog_cols == [] and inputs.plan is None
    assert inputs.levels == ["total", "Market"]
    assert any(n.startswith("keys: no `region`, `category` column") and "`Market`" in n for n in inputs.notes)
    assert any(n.startswith("no drivers:") for n in inputs.notes)
    one = fc.load_inputs(str(path), "", {"Month": "date", "Revenue": "sales"}, keys=[])
    assert one.keys == [] and one.levels == ["total"]


def test_default_drivers_only_with_the_columns_and_a_plan():
    hist = pd.DataFrame({"date": [], "sales": [], "promo": []})
    assert fc.fit_drivers(["promo", "easter"], hist, "", "") == (["promo", "easter"], None)  # the sample
    used, note = fc.fit_drivers(["promo", "easter"], hist, "mine.csv", "plan.csv")
    assert used == ["promo"] and "`easter` not in the history" in note
    used, note = fc.fit_drivers(["promo", "easter"], hist, "mine.csv", "")
    assert used == [] and "no sales plan" in note
    used, note = fc.fit_drivers(["promo", "easter"], hist.drop(columns="promo"), "mine.csv", "plan.csv")
    assert used == [] and "no `promo` or `easter` column" in note
    assert fc.fit_drivers(["price"], hist, "mine.csv", "") == (["price"], None)  # the user's: as given


def test_default_levels_follow_the_keys():
    assert fc.default_levels([]) == ["total"]
    assert fc.default_levels(["Market", "Line"]) == ["total", "Market", "Market x Line"]


def _months(sku: str, start: str, n: int, level: float) -> pd.DataFrame:
    dates = pd.date_range(start, periods=n, freq="MS")
    t = np.arange(n)
    return pd.DataFrame({"date": dates, "sku": sku, "sales": level + t + 5 * np.sin(2 * np.pi * t / 12)})


def test_mixed_frequencies_are_refused_naming_the_series_of_each():
    """A file holding monthly and quarterly series cannot be forecast on one grid: the message names the
    series of each frequency instead of advising to fill gaps."""
    quarters = pd.DataFrame({"date": pd.date_range("2022-01-01", periods=12, freq="QS"), "sku": "B-9", "sales": 3.0})
    df = pd.concat([_months("A-1", "2022-01-01", 36, 10), _months("A-2", "2022-01-01", 36, 20), quarters])
    with pytest.raises(AnalysisError) as err:
        prepare_history(df, keys=["sku"], value_col="sales")
    msg = str(err.value)
    assert "monthly: A-1, A-2 (2 series)" in msg and "quarterly: B-9 (1 series)" in msg
    assert "fill_gaps" not in msg


def test_series_ending_early_are_left_out_of_the_totals():
    df = pd.concat(
        [_months("a", "2021-01-01", 40, 10), _months("b", "2021-01-01", 40, 20), _months("c", "2021-06-01", 30, 30)]
    )  # c ends 2023-11, a and b 2024-04
    bottom, freq, _ = prepare_history(df, keys=["sku"])
    ss = build_hierarchy(bottom, ["sku"], ["total"], freq)
    assert ss.outside == ["c"]
    total = ss.values[ss.ids.index("total")]
    np.testing.assert_allclose(total, ss.values[ss.ids.index("a")] + ss.values[ss.ids.index("b")])
    hs = ss.hierarchy()
    assert hs.ids == ["total", "a", "b"] and hs.S.shape == (3, 2)
    assert "c (last period 2023-11-01)" in end_notes(ss)[0] and "2024-04-01" in end_notes(ss)[0]
    run = fc.run_forecast(df, keys=["sku"], levels=["total"], models=["ets"], n_origins=1, horizon=2)
    first = run.forecast[run.forecast["chosen"]].groupby("series_id")["date"].min()
    assert first["c"] == pd.Timestamp("2023-12-01") and first["total"] == pd.Timestamp("2024-05-01")
    rec = run.forecast[run.forecast["model"] == "bottom_up"]
    assert set(rec["series_id"]) == {"total", "a", "b"}
    assert run.summary["coherence_max_abs_error"]["bottom_up"] < 1e-6


def test_no_two_series_ending_together_means_no_totals():
    df = pd.concat([_months("a", "2021-01-01", 40, 10), _months("b", "2021-01-01", 38, 20)])
    bottom, freq, _ = prepare_history(df, keys=["sku"])
    ss = build_hierarchy(bottom, ["sku"], ["total"], freq)
    assert ss.ids == ["a", "b"] and ss.in_hierarchy == []
    assert "no two end together" in end_notes(ss)[0]


def test_no_drivers_pool_to_an_empty_table():
    """`exog_cols []`: no coefficients, an empty pooled table with its columns (was a TypeError)."""
    empty = pd.DataFrame(columns=["series_id", "level", "term", "scale", "estimate", "std_error", "effect_pct"])
    pooled = fc.pool_coefficients(empty)
    assert len(pooled) == 0 and "effect_pct" in pooled.columns


def test_series_to_chart_named_else_largest():
    df = pd.concat([_months(s, "2021-01-01", 36, lv) for s, lv in (("a", 10), ("b", 500), ("c", 100), ("d", 50))])
    run = fc.run_forecast(df, keys=["sku"], levels=["total"], models=["ets"], n_origins=1, horizon=2)
    assert fc.series_to_chart(run, ["c", "nope"]) == ["total", "c"]
    assert fc.series_to_chart(run, [], n=2) == ["total", "b", "c"]
    assert fc.upper_series(run) == ["total"]
    table = fc.forecast_table(run, "mint_shrink", 80, [])
    assert list(table.index) == ["total", "a", "b", "c", "d"]
    in_euros = fc.forecast_table(run, "mint_shrink", 80, [], currency="€")
    assert in_euros.iloc[0, 0] == "€" + table.iloc[0, 0] and in_euros.iloc[0, 0].count("€") == 1
    assert fc.display_kinds(run.leaderboard) == {"smape": "percent", "skill_vs_snaive": "share", "bias": "number"}

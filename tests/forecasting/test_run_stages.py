"""The stages of :func:`marksell.forecasting.run_forecast`, each on its own (small hierarchy, baseline models)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marksell.errors import AnalysisError, ParameterError
from marksell.forecasting import run_forecast
from marksell.forecasting.run import (
    backtest_table,
    check_options,
    fit_series,
    forecast_table,
    prepare,
    reconcile_stage,
    run_summary,
    select_models,
)
from marksell.forecasting.series import HORIZON_BY_FREQ

MONTHS = 36


def _regions(months: int = MONTHS) -> pd.DataFrame:
    """Two regions of monthly sales: a trend and a yearly season, no noise."""
    t = np.arange(months)
    dates = pd.date_range("2021-01-01", periods=months, freq="MS")
    frames = [
        pd.DataFrame({"date": dates, "region": r, "sales": base + t + 10 * np.sin(2 * np.pi * t / 12)})
        for r, base in (("North", 100.0), ("South", 50.0))
    ]
    return pd.concat(frames, ignore_index=True)


def _options(horizon=3, n_origins=3, models=("naive",), intervals=(80,)):
    return check_options(horizon, n_origins, "per_series", intervals, list(models), (), 3, ["region"])


@pytest.fixture(scope="module")
def staged():
    df = _regions()
    opts = _options()
    prep = prepare(df, opts, levels=("total",))
    fit = fit_series(prep, opts)
    return df, opts, prep, fit


def test_check_options_adds_baselines_and_regression_in_model_order():
    opts = check_options(3, 2, "per_series", (80, 95.0), ["theta"], "promo", 3, ["region"])
    assert opts.models == ["naive", "snaive", "theta", "regression"] and opts.named
    assert opts.exog_cols == ["promo"] and opts.intervals == [80, 95] and opts.keys == ["region"]
    assert not check_options(3, 2, "global", (80,), None, (), 3, ()).named
    with pytest.raises(ParameterError, match="are the date, value or key columns"):
        check_options(3, 2, "per_series", (80,), None, ["region"], 3, ["region"])
    with pytest.raises(ParameterError, match="combo_size=0"):
        check_options(3, 2, "per_series", (80,), None, (), 0, ())
    with pytest.raises(ParameterError, match="needs exogenous columns"):
        check_options(3, 2, "per_series", (80,), ["regression"], (), 3, ())


def test_prepare_plans_the_backtest_origins(staged):
    _, _, prep, _ = staged
    assert prep.ss.ids[0] == "total" and len(prep.ss.ids) == 3 and len(prep.ss.bottom) == 2
    assert prep.season == 12 and prep.step == 3 and prep.freq == "M"
    assert [task[2] for task in prep.tasks] == [[27, 30, 33]] * 3  # train lengths at the 3 origins
    one_apart = prepare(_regions(), _options(), levels=("total",), step=1)
    assert one_apart.tasks[0][2] == [31, 32, 33]


def test_prepare_refuses_short_series_and_leaves_ragged_ends_out_of_the_totals():
    with pytest.raises(AnalysisError, match="too short for a horizon of 12 and 3 backtest origin"):
        prepare(_regions(), _options(horizon=12), levels=("total",))
    df = _regions()
    ragged = prepare(df[~((df["region"] == "South") & (df["date"] == df["date"].max()))], _options(), levels=("total",))
    # two series that end apart: each is forecast from its own end, and there is no total to reconcile
    assert sorted(ragged.ss.outside) == ["North", "South"] and any("there are no totals" in n for n in ragged.notes)
    assert prepare(df, _options(horizon=0), levels=("total",)).horizon == HORIZON_BY_FREQ["M"]


def test_backtest_rows_are_the_history_after_each_origin(staged):
    _, opts, prep, fit = staged
    bt = backtest_table(prep, fit, opts)
    assert len(bt) == 3 * 2 * 3 * 3  # series x models x origins x steps
    y = prep.ss.values[1]
    rows = bt[(bt["series_id"] == prep.ss.ids[1]) & (bt["origin"] == prep.ss.dates[1][26])]
    naive = rows[rows["model"] == "naive"]
    np.testing.assert_allclose(naive["actual"], y[27:30])
    np.testing.assert_allclose(naive["forecast"], y[26])  # the last training value, repeated
    snaive = rows[rows["model"] == "snaive"]
    np.testing.assert_allclose(snaive["forecast"], y[27 - 12 : 30 - 12])  # the same months a year before
    assert (bt["lo_80"] <= bt["forecast"]).all() and (bt["forecast"] <= bt["hi_80"]).all()


def test_select_models_per_series_and_global_ties_go_to_the_earlier_model(staged):
    _, _, prep, _ = staged
    ids = prep.ss.ids
    metrics = pd.DataFrame(
        {
            "series_id": [ids[0], ids[0], ids[1], ids[1], ids[2], ids[2]],
            "model": ["naive", "snaive"] * 3,
            "mase": [1.0, 0.5, 0.7, 0.7, 0.9, 0.4],
        }
    )
    chosen, marked = select_models(metrics.copy(), prep.ss, ["naive", "snaive"], "per_series")
    assert chosen == {ids[0]: "snaive", ids[1]: "naive", ids[2]: "snaive"}
    assert marked.groupby("series_id")["chosen"].sum().eq(1).all()
    chosen, _ = select_models(metrics.copy(), prep.ss, ["naive", "snaive"], "global")
    assert set(chosen.values()) == {"snaive"}  # mean MASE 0.53 against 0.87


def test_reconciled_forecasts_add_up_and_the_forecast_table_marks_one_chosen(staged):
    _, opts, prep, fit = staged
    chosen = {sid: "snaive" for sid in prep.ss.ids}
    reconciliation, final = reconcile_stage(prep, fit, chosen, ("bottom_up", "ols"), opts)
    assert set(reconciliation["method"]) == {"base", "bottom_up", "ols"}
    total, bottoms = prep.ss.ids.index("total"), prep.ss.bottom
    for rec in final.values():
        np.testing.assert_allclose(rec[total], rec[bottoms].sum(axis=0))
    fc = forecast_table(prep, fit, chosen, final, opts)
    assert fc["date"].min() == pd.Timestamp("2024-01-01") and fc["date"].max() == pd.Timestamp("2024-03-01")
    assert fc.groupby(["series_id", "date"])["chosen"].sum().eq(1).all()
    assert set(fc.loc[fc["model"] == "bottom_up", "spec"]) == {"bottom_up of chosen"}
    no_hierarchy, none = reconcile_stage(prep, fit, chosen, (), opts)
    assert no_hierarchy.empty and none == {}


def test_the_stages_compose_into_run_forecast(staged):
    df, opts, prep, fit = staged
    run = run_forecast(
        df, keys=["region"], horizon=3, n_origins=3, models=["naive"], interval_levels=(80,), reconciliations=("bottom_up",)
    )
    bt = backtest_table(prep, fit, opts)
    pd.testing.assert_frame_equal(run.backtest.drop(columns="abs_scaled_error"), bt)
    lb = run.leaderboard.set_index("model")
    assert run.summary["mase_chosen"] == pytest.approx(lb.loc["chosen", "mase"])
    summary = run_summary(prep, fit, opts, run.leaderboard, run.reconciliation, run.chosen, {}, run.coefficients)
    assert summary["n_series"] == 3 and summary["n_bottom"] == 2 and summary["models"] == ["naive", "snaive"]
    assert summary["coherence_max_abs_error"] is None and "driver_effects" not in summary


def test_summary_is_what_summary_json_and_the_brief_read(staged):
    """``forecasting.summary(run)`` is the dict the notebook writes to summary.json: JSON-ready, a copy (writing it
    cannot change the run), and enough for the executive summary."""
    import json

    from marksell.forecasting import brief, summary

    df = staged[0]
    run = run_forecast(df, keys=["region"], horizon=3, n_origins=3, models=["naive"], interval_levels=(80,))
    out = summary(run)
    assert json.loads(json.dumps(out)) == out
    assert out["n_series"] == 3 and out["horizon"] == 3
    out["n_series"] = 0
    assert run.summary["n_series"] == 3
    assert brief.brief(summary(run)).answer[0] == "3 series forecast 3 month(s) ahead."


def test_a_season_longer_than_the_history_is_refused_before_the_fit():
    """The issue's opaque `KeyError: ['mint_shrink']` came from season lengths the data cannot hold."""
    with pytest.raises(ParameterError) as err:
        prepare(_regions(), _options(), season_length=40, levels=("total",))
    assert str(err.value) == (
        "season_length=40: the longest series has 36 monthly periods, fewer than one season "
        "plus one (41), so no seasonal pattern can be seen in it. Use 0 (from the frequency: "
        "12 for monthly data), 1 for no seasonality, or at most 35."
    )
    assert prepare(_regions(), _options(), season_length=35, levels=("total",)).season == 35


def test_non_seasonal_theta_keeps_its_residuals_so_mint_shrink_reconciles():
    """A season length longer than half the history leaves Theta non-seasonal; its one-step errors are all there
    (they were blanked for a whole season, which left MinT-shrink with no common residuals and skipped it)."""
    from marksell.forecasting.models import ThetaForecaster

    y = 100 + np.arange(30.0) + np.sin(np.arange(30.0))
    resid = ThetaForecaster(20, False, True).fit(y).resid
    assert np.isnan(resid[0]) and np.isfinite(resid[1:]).all()
    run = run_forecast(
        _regions(), keys=["region"], season_length=30, levels=["total"], models=["theta"], selection="global", n_origins=2
    )
    assert set(run.reconciliation["method"]) == {"base", "bottom_up", "ols", "mint_shrink"}
    assert not [n for n in run.notes if "MinT-shrink skipped" in n]


def test_the_reconciliation_table_shows_the_methods_that_ran():
    """MinT-shrink skipped on some data (fewer than three common residuals) leaves no row: the notebook's table
    must not fail with `KeyError: ['mint_shrink']` as it did."""
    from types import SimpleNamespace

    from marksell.forecasting import reconciliation_mase

    rows = [(m, lv, k + j / 10) for k, m in enumerate(["ols", "base", "bottom_up"]) for j, lv in enumerate(["total", "region"])]
    run = SimpleNamespace(reconciliation=pd.DataFrame(rows, columns=["method", "level", "mase"]))
    table = reconciliation_mase(run)
    assert list(table.index) == ["base", "bottom_up", "ols"] and list(table.columns) == ["region", "total"]
    assert table.loc["ols", "region"] == pytest.approx(0.1)

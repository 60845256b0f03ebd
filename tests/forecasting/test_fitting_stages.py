"""The steps of fitting one series: what the series allows, which forecaster, the fallback, the combination."""

from __future__ import annotations

import numpy as np
import pytest

from marksell.errors import ParameterError
from marksell.forecasting.fitting import add_combination, fit_fallback, make_model, series_traits
from marksell.forecasting.models import NaiveForecaster

OPTS = {"ets_maxiter": 50, "arima_maxiter": 20, "sim_reps": 50, "exog_names": [], "combo_size": 2}


def test_series_traits_say_what_a_short_or_non_positive_series_cannot_have():
    y = 100 + np.arange(40.0)
    long = series_traits(y, 12, 30, ["ets"])
    assert long.seasonal and long.snaive_m == 12 and long.simple_ok and long.positive and long.notes == []
    mid = series_traits(y, 12, 15, ["ets"])
    assert not mid.seasonal and mid.snaive_m == 12 and mid.strength == 0.0
    assert mid.notes == ["shorter than two seasons (15 < 24 periods at the first origin): non-seasonal ETS/ARIMA/Theta used"]
    short = series_traits(y - 120, 12, 8, ["theta"])
    assert short.snaive_m == 1 and not short.simple_ok and not short.positive
    assert [n.split(":")[0].split(" (")[0] for n in short.notes] == [
        "shorter than two seasons",
        "shorter than one season + 1",
        "has values <= 0",
        "only 8 periods at the first origin",
    ]


def test_make_model_replaces_models_a_short_series_cannot_carry():
    y = 100 + np.arange(40.0)
    short = series_traits(y, 12, 8, ["ets"])
    ets = make_model("ets", 12, short, OPTS, seed=0)
    assert isinstance(ets, NaiveForecaster) and ets.m == 1
    assert make_model("snaive", 12, series_traits(y, 12, 30, []), OPTS, seed=0).m == 12
    with pytest.raises(ParameterError):
        make_model("prophet", 12, short, OPTS, seed=0)


def test_fallback_is_seasonal_naive_everywhere_and_says_so():
    y = 100 + 10 * np.sin(2 * np.pi * np.arange(36) / 12)
    out = {"origins": [{}, {}], "final": {}, "spec": {}}
    fit_fallback("ets", y, 3, [30, 33], [80], 12, out)
    assert out["spec"]["ets"] == "seasonal naive[12] (fallback)"
    np.testing.assert_allclose(out["origins"][0]["ets"][0], y[18:21])  # a year before the 3 months after 30
    np.testing.assert_allclose(out["final"]["ets"][0], y[24:27])


def test_combination_is_the_mean_of_the_best_members():
    y = 100 + 10 * np.sin(2 * np.pi * np.arange(36) / 12)
    out = {"origins": [{}, {}], "final": {}, "spec": {}}
    for mdl, m in (("ets", 12), ("theta", 1)):  # stand-ins: seasonal naive fits this series far better
        fit_fallback(mdl, y, 3, [30, 33], [80], m, out)
    add_combination(out, y, 12, 3, [30, 33], [80], size=2)
    np.testing.assert_allclose(out["final"]["combo"][0], (out["final"]["ets"][0] + out["final"]["theta"][0]) / 2)
    assert out["spec"]["combo"] == "mean of ets, theta"
    add_combination(out, y, 12, 3, [30, 33], [80], size=1)
    assert out["spec"]["combo"] == "mean of ets (best 1 of 2 by backtest MASE)"
    with pytest.raises(ParameterError, match="'combo' needs at least one of"):
        add_combination({"origins": [], "final": {}, "spec": {}}, y, 12, 3, [], [80], size=2)

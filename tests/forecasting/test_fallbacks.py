"""A model fit that fails on a series falls back to seasonal naive, counted and named; an error that
means a programming or library-version mismatch stops the run instead of hiding behind a fallback."""

import numpy as np
import pandas as pd
import pytest

from marksell.forecasting import fitting
from marksell.forecasting.run import run_forecast


def _history(n_series=3, periods=48):
    rng = np.random.default_rng(3)
    dates = pd.date_range("2021-01-01", periods=periods, freq="MS")
    rows = [
        {"date": d, "region": f"R{k}", "sales": 100 + 10 * np.sin(i / 1.9) + i + rng.normal(0, 2)}
        for k in range(n_series)
        for i, d in enumerate(dates)
    ]
    return pd.DataFrame(rows)


class _Refusing:
    """Stands in for ETS: every fit raises ``error``."""

    error = ValueError("this series does not suit the model")

    def __init__(self, *args, **kwargs):
        pass

    def fit(self, y):
        raise self.error


def test_failed_fits_are_counted_named_and_noted(monkeypatch):
    monkeypatch.setattr(fitting, "EtsForecaster", _Refusing)
    run = run_forecast(
        _history(), keys=["region"], value_col="sales", horizon=3, levels=["total"], n_origins=2, models=["ets", "theta"]
    )
    fb = run.summary["fallbacks"]
    # 3 regions + the total, each fits ets and theta; every ets fit fails
    assert (fb["count"], fb["fits"], fb["by_model"]) == (4, 8, {"ets": 4})
    assert sorted(fb["items"]) == sorted(
        f"{s}: ets (ValueError: this series does not suit the model)" for s in ["total", "R0", "R1", "R2"]
    )
    assert run.notes[0].startswith("4 of 8 model fits failed and were replaced by seasonal naive (ets 4)")
    ets = run.forecast[run.forecast["model"] == "ets"]
    assert ets["spec"].str.endswith("(fallback)").all()


def test_no_fallbacks_on_a_clean_run():
    run = run_forecast(_history(1), keys=["region"], value_col="sales", horizon=3, levels=["total"], n_origins=2, models=["ets"])
    # one series is its own total: one ETS fit, which succeeds
    assert run.summary["fallbacks"] == {"count": 0, "fits": 1, "by_model": {}, "items": []}
    assert not any("failed" in note for note in run.notes)


@pytest.mark.parametrize(
    "error",
    [
        TypeError("get_prediction() got an unexpected keyword argument 'rng'"),
        AttributeError("'ThetaModel' object has no attribute '_use_test'"),
    ],
)
def test_library_mismatch_errors_are_not_turned_into_fallbacks(monkeypatch, error):
    monkeypatch.setattr(_Refusing, "error", error)
    monkeypatch.setattr(fitting, "EtsForecaster", _Refusing)
    with pytest.raises(type(error)) as raised:
        run_forecast(_history(1), keys=["region"], value_col="sales", horizon=3, levels=["total"], n_origins=2, models=["ets"])
    assert raised.value is error

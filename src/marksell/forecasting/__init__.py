"""Sales forecasting: automatic statistical models, rolling-origin backtest, coherent hierarchies.

Input contract (long form, one row per series and period):

- ``date_col`` (datetime-like): the period; weekly, monthly or quarterly. Dates inside a period are
  mapped to its first day (week start on the data's weekday, month start, quarter start).
- ``keys`` (strings): zero or more key columns (e.g. ``region``, ``category``); no keys = one series.
- ``value_col`` (float): the quantity to forecast (e.g. ``sales``).
- ``exog_cols`` (float, optional): exogenous columns, also in a *future* table with the same date
  and key columns covering the horizon (see :mod:`marksell.forecasting.exog`).

What :func:`run_forecast` does, and why:

1. **Validate** the frequency (given or inferred), gaps and duplicate periods (explicit policies,
   never silent), and that there is enough history for the horizon and the backtest.
2. **Hierarchy**: aggregates the bottom series (all keys) to the requested levels (e.g. ``total``,
   ``region``) so every level gets a forecast.
3. **Models** per series (statsmodels): ``naive``, ``snaive`` (baselines), ``ets`` (automatic
   ETSModel, stepwise AICc search over the admissible error/trend/damping/season set;
   multiplicative forms only for strictly positive data), ``arima`` (SARIMA with a small AICc
   search on conditional sums of squares after unit-root and seasonal-strength tests), ``theta``
   (ThetaModel), ``regression`` (regression with ARIMA errors on exogenous columns such as price,
   promotion or calendar flags, when their future values are given; log scale for positive data)
   and ``combo`` (mean of the ``combo_size`` best of ets, arima, theta and regression by backtest
   MASE; all three of ets, arima and theta by default). Every model gives prediction intervals at
   each requested level.
4. **Rolling-origin backtest** with ``n_origins`` origins and the forecast horizon: MASE, RMSSE,
   sMAPE, scaled bias and empirical interval coverage per series and model. To keep the cost down the
   model *structure* (ETS form, ARIMA order) is chosen once per series on the first origin's training
   data; later origins re-run the filter with those parameters on the longer history (no future
   information is used) and the final forecast re-estimates the parameters on all the data.
5. **Selection** per series (lowest backtest MASE) or one global model.
6. **Reconciliation** with numpy: bottom-up, OLS and MinT-shrink (Wickramasuriya, Athanasopoulos &
   Hyndman 2019, Schäfer-Strimmer shrinkage of the one-step residual covariance). Reconciled forecasts
   add up exactly; their interval widths are those of the base forecasts, moved with the mean.

Fits run in parallel across series (joblib loky processes, one BLAS thread per worker); results are
identical for any ``n_jobs`` because every series uses its own seed and one BLAS thread.
"""

from __future__ import annotations

from marksell.forecasting.drivers import (
    compare_effects,
    contribution_by_period,
    driver_adjusted_history,
    effects_table,
    plan_contribution,
    pool_coefficients,
)
from marksell.forecasting.exog import load_plan
from marksell.forecasting.fitting import ALL_MODELS, BASELINES, COMBO_MEMBERS, DEFAULT_MODELS, FAST_ABOVE, FAST_MODELS
from marksell.forecasting.inputs import (
    SAMPLE_DRIVERS,
    SAMPLE_KEYS,
    ForecastInputs,
    check_run_parameters,
    default_levels,
    fit_drivers,
    fit_keys,
    load_inputs,
)
from marksell.forecasting.reconcile import RECONCILIATIONS, reconciliation_matrix, shrink_covariance
from marksell.forecasting.run import ForecastRun, run_forecast
from marksell.forecasting.series import (
    DUPLICATES,
    FILL_GAPS,
    SEASON_BY_FREQ,
    SeriesSet,
    build_hierarchy,
    infer_freq,
    level_name,
    normalise_freq,
    parse_levels,
    prepare_history,
)
from marksell.forecasting.summary import (
    chosen_table,
    compare_seasonality,
    display_kinds,
    forecast_table,
    headline,
    reconciliation_mase,
    seasonal_indices,
    series_to_chart,
    summary,
    upper_series,
)

__all__ = [
    "SAMPLE_DRIVERS",
    "SAMPLE_KEYS",
    "ForecastInputs",
    "check_run_parameters",
    "default_levels",
    "fit_drivers",
    "fit_keys",
    "load_inputs",
    "series_to_chart",
    "summary",
    "upper_series",
    "ALL_MODELS",
    "BASELINES",
    "COMBO_MEMBERS",
    "DEFAULT_MODELS",
    "DUPLICATES",
    "FAST_ABOVE",
    "FAST_MODELS",
    "FILL_GAPS",
    "RECONCILIATIONS",
    "SEASON_BY_FREQ",
    "ForecastRun",
    "SeriesSet",
    "build_hierarchy",
    "chosen_table",
    "compare_effects",
    "compare_seasonality",
    "contribution_by_period",
    "display_kinds",
    "driver_adjusted_history",
    "effects_table",
    "forecast_table",
    "headline",
    "infer_freq",
    "level_name",
    "load_plan",
    "normalise_freq",
    "parse_levels",
    "plan_contribution",
    "pool_coefficients",
    "prepare_history",
    "reconciliation_mase",
    "reconciliation_matrix",
    "run_forecast",
    "seasonal_indices",
    "shrink_covariance",
]

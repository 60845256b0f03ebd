"""The whole forecasting run behind the notebook: :func:`run_forecast`, one function per stage.

:func:`check_options` -> :func:`prepare` (series and backtest plan) -> :func:`fit_series` ->
:func:`backtest_table` -> :func:`select_models` -> :func:`reconcile_stage` -> :func:`forecast_table` ->
:func:`assemble_run` (history, leaderboard, chosen models, :func:`run_summary`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marksell.errors import AnalysisError, ParameterError
from marksell.forecasting.drivers import pool_coefficients
from marksell.forecasting.evaluation import accuracy_metrics, error_scales, leaderboard_table, series_sort_key, stack_columns
from marksell.forecasting.exog import exog_matrices
from marksell.forecasting.fitting import ALL_MODELS, BASELINES, DEFAULT_MODELS, FAST_ABOVE, FAST_MODELS, run_tasks
from marksell.forecasting.reconcile import RECONCILIATIONS, reconcile_forecasts, residuals_for
from marksell.forecasting.series import (
    HORIZON_BY_FREQ,
    SEASON_BY_FREQ,
    SeriesSet,
    build_hierarchy,
    end_notes,
    prepare_history,
)


@dataclass
class ForecastRun:
    """Everything a forecasting run produces (see :func:`run_forecast`).

    Output columns:

    - ``forecast``: series_id, level, date, model, spec, forecast, lo_<L>, hi_<L> per interval
      level, chosen (bool: the selected model of that series); reconciled rows have model
      ``bottom_up`` / ``ols`` / ``mint_shrink`` (reconciling the chosen forecasts).
    - ``backtest``: one row per series, model, origin and step with actual, forecast, bounds.
    - ``metrics``: series_id, level, model, mase, rmsse, smape, bias, coverage_<L>, chosen.
    - ``leaderboard``: model, mean metrics over all series, skill_vs_snaive (1 - MASE/MASE_snaive).
    - ``reconciliation``: method (base/bottom_up/ols/mint_shrink), level, mase, rmsse, smape, bias.
    - ``coefficients`` (regression only): series_id, level, term, scale (``log``: the estimate is a
      log effect, ``effect_pct`` = 100 (exp(estimate) - 1); ``level``: sales per unit), estimate,
      std_error.
    """

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    metrics: pd.DataFrame
    leaderboard: pd.DataFrame
    by_horizon: pd.DataFrame
    reconciliation: pd.DataFrame
    history: pd.DataFrame
    chosen: pd.DataFrame
    summary: dict
    notes: list[str] = field(default_factory=list)
    cpu_by_model: dict = field(default_factory=dict)
    coefficients: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["series_id", "level", "term", "scale", "estimate", "std_error", "effect_pct"]
        )
    )


def run_forecast(
    df: pd.DataFrame,
    keys=(),
    value_col: str = "sales",
    date_col: str = "date",
    freq: str | None = None,
    horizon: int = 3,
    season_length: int = 0,
    levels=("total",),
    interval_levels=(80, 95),
    models=None,
    n_origins: int = 3,
    step: int = 0,
    selection: str = "per_series",
    n_jobs: int = 1,
    fill_gaps: str = "refuse",
    duplicates: str = "refuse",
    reconciliations=RECONCILIATIONS,
    seed: int = 0,
    ets_maxiter: int = 100,
    arima_maxiter: int = 50,
    sim_reps: int = 500,
    exog_cols=(),
    future: pd.DataFrame | None = None,
    exog_sum=(),
    combo_size: int = 3,
) -> ForecastRun:
    """Forecast every series of a (hierarchical) sales history and say how far to trust it.

    Parameters mirror the notebook: ``horizon`` periods ahead; ``season_length`` 0 = from the
    frequency (W 52, M 12, Q 4; 1 = no seasonality); ``levels`` the hierarchy levels (bottom level
    always added); ``models`` a subset of :data:`ALL_MODELS` (baselines always added);
    ``n_origins`` backtest origins ``step`` periods apart (0 = ``horizon``); ``selection``
    ``per_series`` or ``global``; ``n_jobs`` worker processes. ``exog_cols`` names numeric
    columns of ``df`` (price, promotion, calendar flags) for the ``regression`` model (regression
    with ARIMA errors; added to the candidates when columns are given); ``future`` holds their
    values for the ``horizon`` periods after the history (same date and key columns); aggregated
    series take the mean of their members' values, or the sum for columns in ``exog_sum``.
    ``combo`` averages the ``combo_size`` candidates with the lowest backtest MASE per series. With ``models`` empty and more than
    :data:`FAST_ABOVE` series, the fast default :data:`FAST_MODELS` (no ARIMA) is used, and a note
    says so. ``ets_maxiter`` bounds the ETS optimiser, ``arima_maxiter`` the CSS least squares
    (iterations per parameter), ``sim_reps`` the simulated paths for multiplicative ETS intervals.
    """
    t_start = time.perf_counter()
    opts = check_options(horizon, n_origins, selection, interval_levels, models, exog_cols, combo_size, keys, date_col, value_col)
    prep = prepare(
        df,
        opts,
        date_col=date_col,
        value_col=value_col,
        freq=freq,
        season_length=season_length,
        step=step,
        levels=levels,
        fill_gaps=fill_gaps,
        duplicates=duplicates,
        seed=seed,
        future=future,
        exog_sum=exog_sum,
    )
    fit = fit_series(prep, opts, n_jobs=n_jobs, ets_maxiter=ets_maxiter, arima_maxiter=arima_maxiter, sim_reps=sim_reps)
    backtest = backtest_table(prep, fit, opts)
    metrics = accuracy_metrics(backtest, ["series_id", "level", "model"], opts.intervals)
    chosen, metrics = select_models(metrics, prep.ss, fit.models, opts.selection)
    reconciliation, final_rec = reconcile_stage(prep, fit, chosen, reconciliations, opts)
    forecast = forecast_table(prep, fit, chosen, final_rec, opts)
    return assemble_run(prep, fit, opts, forecast, backtest, metrics, chosen, reconciliation, final_rec, t_start)


def assemble_run(
    prep: Prepared,
    fit: Fits,
    opts: Options,
    forecast: pd.DataFrame,
    backtest: pd.DataFrame,
    metrics: pd.DataFrame,
    chosen: dict,
    reconciliation: pd.DataFrame,
    final_rec: dict,
    t_start: float,
) -> ForecastRun:
    """The run's result: the stages' tables, plus the history, leaderboard, error by horizon, chosen models,
    regression coefficients, the summary and the CPU time per model (``_wall_s``: wall time since ``t_start``)."""
    history = history_table(prep.ss)
    leaderboard = leaderboard_table(metrics, chosen, opts.intervals, fit.models)
    by_horizon = error_by_horizon(backtest)
    chosen_df = chosen_table(prep.ss, fit, chosen)
    coefficients = _coefficients(fit.results, prep.ss)
    summary = run_summary(prep, fit, opts, leaderboard, reconciliation, chosen_df, final_rec, coefficients)
    cpu_by_model = {**fit.cpu_by_model, "_wall_s": time.perf_counter() - t_start}
    return ForecastRun(
        forecast,
        backtest,
        metrics,
        leaderboard,
        by_horizon,
        reconciliation,
        history,
        chosen_df,
        summary,
        prep.notes,
        cpu_by_model,
        coefficients,
    )


def history_table(ss: SeriesSet) -> pd.DataFrame:
    """Every series' history: series_id, level, date, value."""
    return stack_columns(
        [{"series_id": sid, "level": ss.level[i], "date": ss.dates[i], "value": ss.values[i]} for i, sid in enumerate(ss.ids)]
    )


def chosen_table(ss: SeriesSet, fit: Fits, chosen: dict) -> pd.DataFrame:
    """The chosen model per series: series_id, level, model, spec."""
    return pd.DataFrame(
        {
            "series_id": ss.ids,
            "level": ss.level,
            "model": [chosen[s] for s in ss.ids],
            "spec": [fit.results[i]["spec"][chosen[s]] for i, s in enumerate(ss.ids)],
        }
    )


@dataclass
class Options:
    """The checked run options that every stage reads (see :func:`check_options`)."""

    horizon: int
    n_origins: int
    selection: str
    intervals: list
    models: list
    named: bool
    exog_cols: list
    combo_size: int
    keys: list


@dataclass
class Prepared:
    """The series to forecast and the backtest plan (see :func:`prepare`)."""

    ss: SeriesSet
    freq: str
    horizon: int
    season: int
    step: int
    models: list
    tasks: list
    notes: list


@dataclass
class Fits:
    """Every series' backtest and final forecasts per model (see :func:`fit_series`)."""

    results: list
    models: list
    conv: int
    cpu_by_model: dict
    fallbacks: dict


def check_options(
    horizon, n_origins, selection, interval_levels, models, exog_cols, combo_size, keys, date_col="date", value_col="sales"
) -> Options:
    """Check the run's options before any data is read; raise :class:`ParameterError` saying the fix.

    Baselines are always added, ``regression`` when ``exog_cols`` are given; models keep the order
    of :data:`ALL_MODELS`.
    """
    if not isinstance(horizon, (int, np.integer)) or horizon < 0:
        raise ParameterError(
            f"horizon={horizon!r}: the forecast horizon must be a whole number of "
            "periods >= 1 (e.g. 3 for the next quarter of monthly data), or 0 for "
            "the default of the frequency."
        )
    if n_origins < 1:
        raise ParameterError(f"n_origins={n_origins!r}: use at least 1 backtest origin.")
    if selection not in ("per_series", "global"):
        raise ParameterError(f"selection={selection!r}: use 'per_series' or 'global'.")
    levels_q = [float(x) for x in interval_levels]
    if not levels_q or any(not 0 < x < 100 for x in levels_q):
        raise ParameterError(f"interval_levels={list(interval_levels)}: use percentages in (0, 100), e.g. [80, 95].")
    levels_q = [int(x) if float(x).is_integer() else x for x in levels_q]
    named = bool(models)
    models = list(models) if models else list(DEFAULT_MODELS)
    unknown = [x for x in models if x not in ALL_MODELS]
    if unknown:
        raise ParameterError(f"Unknown model(s) {unknown}: choose from {list(ALL_MODELS)}.")
    exog_cols = [exog_cols] if isinstance(exog_cols, str) else list(exog_cols or [])
    if "regression" in models and not exog_cols:
        raise ParameterError(
            "models: 'regression' needs exogenous columns: name them in "
            "exog_cols (e.g. ['price', 'promo']) and give their future values."
        )
    if exog_cols and "regression" not in models:
        models.append("regression")
    if not isinstance(combo_size, (int, np.integer)) or combo_size < 1:
        raise ParameterError(
            f"combo_size={combo_size!r}: use a whole number >= 1 (how many of the "
            "best models per series the combination averages)."
        )
    models = [x for x in ALL_MODELS if x in set(models) | set(BASELINES)]
    keys = list(keys or [])
    clash = [c for c in exog_cols if c in (date_col, value_col, *keys)]
    if clash:
        raise ParameterError(
            f"exog_cols {clash} are the date, value or key columns; name other columns (price, promotion, calendar flags)."
        )
    return Options(horizon, n_origins, selection, levels_q, models, named, exog_cols, int(combo_size), keys)


def prepare(
    df: pd.DataFrame,
    opts: Options,
    *,
    date_col="date",
    value_col="sales",
    freq=None,
    season_length=0,
    step=0,
    levels=("total",),
    fill_gaps="refuse",
    duplicates="refuse",
    seed=0,
    future=None,
    exog_sum=(),
) -> Prepared:
    """The hierarchy of series and one fitting task per series: its training lengths at each backtest origin.

    ``opts.horizon`` 0 becomes the frequency's default. Series that end on another date than the others are
    forecast from their own end and left out of the totals (a note says so). Raises :class:`AnalysisError`
    when a series is too short for the horizon and origins.
    """
    n_origins = opts.n_origins
    bottom, freq, notes = prepare_history(df, date_col, opts.keys, value_col, freq, fill_gaps, duplicates)
    horizon = int(opts.horizon) or HORIZON_BY_FREQ[freq]
    m = int(season_length) if season_length else SEASON_BY_FREQ[freq]
    if m < 1:
        raise ParameterError(
            f"season_length={season_length!r}: use 0 (from frequency), 1 (none) or the number of periods in a season."
        )
    step = int(step) if step else horizon
    ss = build_hierarchy(bottom, opts.keys, levels, freq)
    check_season_fits(season_length, m, ss, freq)
    n_all = len(ss.ids)
    models = opts.models
    if not opts.named and n_all > FAST_ABOVE:
        models = [x for x in models if x in FAST_MODELS]
        notes.append(
            f"{n_all} series: ARIMA was left out to keep the run time down (the fast default "
            f"above {FAST_ABOVE} series when no models are named); pass models to include "
            "it."
        )
    notes.extend(end_notes(ss))
    tasks = []
    for i, y in enumerate(ss.values):
        n = len(y)
        tl = [n - horizon - (n_origins - 1 - k) * step for k in range(n_origins)]
        if tl[0] < 3:
            raise AnalysisError(
                f"Series '{ss.ids[i]}' has {n} periods: too short for a horizon of {horizon} and "
                f"{n_origins} backtest origin(s) {step} apart (needs at least "
                f"{horizon + (n_origins - 1) * step + 3}). Lower horizon or n_origins."
            )
        tasks.append((i, y, tl, seed + i, None))
    if opts.exog_cols:
        mats, exog_notes = exog_matrices(df, future, ss, opts.keys, opts.exog_cols, horizon, freq, date_col, exog_sum)
        notes.extend(exog_notes)
        tasks = [(i, y, tl, sd, mats[i]) for i, y, tl, sd, _ in tasks]
    return Prepared(ss, freq, horizon, m, step, models, tasks, notes)


def check_season_fits(season_length, m: int, ss, freq: str) -> None:
    """A season length the user gave must fit in the history: a season plus one period in the longest series,
    else no seasonal pattern can be seen or repeated (every model would silently drop it)."""
    longest = max(len(ss.values[j]) for j in ss.bottom)
    if season_length and m > 1 and m >= longest:
        unit = {"W": "weekly", "M": "monthly", "Q": "quarterly"}.get(freq, "")
        raise ParameterError(
            f"season_length={m}: the longest series has {longest} {unit} periods, fewer than one season plus one "
            f"({m + 1}), so no seasonal pattern can be seen in it. Use 0 (from the frequency: "
            f"{SEASON_BY_FREQ[freq]} for {unit} data), 1 for no seasonality, or at most {longest - 1}."
        )


def fit_series(prep: Prepared, opts: Options, *, n_jobs=1, ets_maxiter=100, arima_maxiter=50, sim_reps=500) -> Fits:
    """Fit every model on every series at each backtest origin and on the full history (``n_jobs`` processes).

    Per-series notes and the count of suppressed convergence warnings go into ``prep.notes``; the fits that
    failed and fell back to seasonal naive are counted first (:func:`fallback_summary`).
    """
    fit_opts = {
        "ets_maxiter": ets_maxiter,
        "arima_maxiter": arima_maxiter,
        "sim_reps": sim_reps,
        "exog_names": opts.exog_cols,
        "combo_size": opts.combo_size,
    }
    models = prep.models
    results = run_tasks(prep.tasks, prep.season, prep.horizon, models, opts.intervals, fit_opts, n_jobs)
    conv = sum(r["conv"] for r in results)
    cpu_by_model = {mdl: sum(r["cpu"].get(mdl, 0.0) for r in results) for mdl in models}
    fallbacks = fallback_summary(results, prep.ss.ids)
    if fallbacks["count"]:
        by_model = ", ".join(f"{k} {v}" for k, v in fallbacks["by_model"].items())
        prep.notes.insert(
            0,
            f"{fallbacks['count']} of {fallbacks['fits']} model fits failed and were replaced by "
            f"seasonal naive ({by_model}); the failures are listed below and in summary.json.",
        )
    for i, r in enumerate(results):
        for note in r["notes"]:
            prep.notes.append(f"{prep.ss.ids[i]}: {note}")
    if conv:
        prep.notes.append(
            f"{conv} optimiser convergence warning(s) from statsmodels were suppressed "
            "(fits kept; they affect accuracy only through the backtest scores)."
        )
    return Fits(results, models, conv, cpu_by_model, fallbacks)


def fallback_summary(results, ids) -> dict:
    """Model fits replaced by seasonal naive: ``count`` of ``fits`` attempted (baselines excluded),
    ``by_model`` counts and ``items`` ("series: model (error)"), as ``run.json`` reports them."""
    items = [f"{ids[i]}: {mdl} ({reason})" for i, r in enumerate(results) for mdl, reason in r["fallbacks"].items()]
    by_model: dict[str, int] = {}
    for r in results:
        for mdl in r["fallbacks"]:
            by_model[mdl] = by_model.get(mdl, 0) + 1
    return {"count": len(items), "fits": int(sum(r["fits"] for r in results)), "by_model": by_model, "items": items}


def backtest_table(prep: Prepared, fit: Fits, opts: Options) -> pd.DataFrame:
    """One row per series, model, origin and step: actual, forecast, bounds and the series' error scales."""
    ss, m, horizon = prep.ss, prep.season, prep.horizon
    bt_rows = []
    for i, r in enumerate(fit.results):
        y, dts = ss.values[i], ss.dates[i]
        for k, n in enumerate(prep.tasks[i][2]):
            mae, mse = error_scales(y[:n], m)
            actual = y[n : n + horizon]
            for mdl in fit.models:
                mean, bands, _ = r["origins"][k][mdl]
                row = {
                    "series_id": ss.ids[i],
                    "level": ss.level[i],
                    "model": mdl,
                    "origin": dts[n - 1],
                    "step": np.arange(1, horizon + 1),
                    "date": dts[n : n + horizon],
                    "actual": actual,
                    "forecast": mean,
                    "scale_mae": mae,
                    "scale_mse": mse,
                }
                for lv in opts.intervals:
                    row[f"lo_{lv}"], row[f"hi_{lv}"] = bands[lv]
                bt_rows.append(row)
    return stack_columns(bt_rows)


def select_models(metrics: pd.DataFrame, ss: SeriesSet, models: list, selection: str) -> tuple[dict, pd.DataFrame]:
    """The chosen model per series (lowest backtest MASE; ties go to the earlier model) and ``metrics`` with ``chosen``.

    ``selection="global"`` chooses the model with the lowest mean MASE over all series for every series.
    """
    order = {mdl: j for j, mdl in enumerate(models)}
    if selection == "global":
        overall = metrics.groupby("model")["mase"].mean()
        best = min(overall.index, key=lambda x: (overall[x], order[x]))
        chosen = {sid: best for sid in ss.ids}
    else:
        ranked = (
            metrics.assign(_o=metrics["model"].map(order))
            .sort_values(["mase", "_o"], na_position="last", kind="stable")
            .drop_duplicates("series_id")
        )
        chosen = dict(zip(ranked["series_id"], ranked["model"]))
    metrics["chosen"] = [chosen[s] == mdl for s, mdl in zip(metrics["series_id"], metrics["model"])]
    metrics = metrics.sort_values(["series_id", "model"], key=series_sort_key(ss, order)).reset_index(drop=True)
    return chosen, metrics


def reconcile_stage(prep: Prepared, fit: Fits, chosen: dict, reconciliations, opts: Options) -> tuple[pd.DataFrame, dict]:
    """Reconcile the chosen forecasts: accuracy per method and level in the backtest, and the final forecasts.

    Returns the ``reconciliation`` table (method, level, mase, rmsse, smape, bias; empty without a
    hierarchy) and ``{method: reconciled final forecasts}`` (rows: the series of the hierarchy, in
    ``ss.in_hierarchy`` order); notes go into ``prep.notes``.
    """
    ss, results, m, horizon = prep.ss, fit.results, prep.season, prep.horizon
    # only the series of the hierarchy (those sharing the last period) are reconciled
    hs = ss.hierarchy()
    rows = list(ss.in_hierarchy)
    h_results = [results[i] for i in rows]
    rec_rows, rec_notes = [], []
    final_rec = {}
    if len(hs.ids) > len(hs.bottom) and len(reconciliations) > 0:
        for k in range(opts.n_origins):
            base = np.vstack([results[i]["origins"][k][chosen[ss.ids[i]]][0] for i in rows])
            res = residuals_for(h_results, hs, chosen, k)
            for method in ["base", *reconciliations]:
                rec = reconcile_forecasts(hs, base, method, res, rec_notes)
                if rec is None:
                    continue
                for p, i in enumerate(rows):
                    n = prep.tasks[i][2][k]
                    y = ss.values[i]
                    mae, mse = error_scales(y[:n], m)
                    rec_rows.append(
                        {
                            "method": method,
                            "series_id": ss.ids[i],
                            "level": ss.level[i],
                            "origin": ss.dates[i][n - 1],
                            "step": np.arange(1, horizon + 1),
                            "actual": y[n : n + horizon],
                            "forecast": rec[p],
                            "scale_mae": mae,
                            "scale_mse": mse,
                        }
                    )
        base = np.vstack([results[i]["final"][chosen[ss.ids[i]]][0] for i in rows])
        res = residuals_for(h_results, hs, chosen, None)
        for method in reconciliations:
            rec = reconcile_forecasts(hs, base, method, res, rec_notes)
            if rec is not None:
                final_rec[method] = rec
    prep.notes.extend(sorted(set(rec_notes)))
    if not rec_rows:
        return pd.DataFrame(columns=["method", "level", "mase", "rmsse", "smape", "bias"]), final_rec
    reconciliation = accuracy_metrics(stack_columns(rec_rows), ["method", "level"], [])
    lvl_order = {lv: j for j, lv in enumerate(dict.fromkeys(ss.level))}
    meth_order = {mm: j for j, mm in enumerate(["base", *reconciliations])}
    reconciliation = reconciliation.sort_values(
        ["method", "level"], key=lambda s: s.map(meth_order if s.name == "method" else lvl_order)
    ).reset_index(drop=True)
    return reconciliation, final_rec


def forecast_table(prep: Prepared, fit: Fits, chosen: dict, final_rec: dict, opts: Options) -> pd.DataFrame:
    """The final forecasts: every model per series (``chosen`` marks the selected one), then the reconciled rows.

    Reconciled rows shift the chosen model's interval bounds by the reconciliation's change of the mean.
    """
    ss, horizon = prep.ss, prep.horizon
    pos_of = {i: p for p, i in enumerate(ss.in_hierarchy)}
    fc_rows = []
    for i, r in enumerate(fit.results):
        sid = ss.ids[i]
        fdates = pd.date_range(ss.dates[i][-1], periods=horizon + 1, freq=ss.alias)[1:]
        for mdl in fit.models:
            mean, bands, _ = r["final"][mdl]
            row = {"series_id": sid, "level": ss.level[i], "date": fdates, "model": mdl, "spec": r["spec"][mdl], "forecast": mean}
            for lv in opts.intervals:
                row[f"lo_{lv}"], row[f"hi_{lv}"] = bands[lv]
            row["chosen"] = chosen[sid] == mdl
            fc_rows.append(row)
        cmean, cbands, _ = r["final"][chosen[sid]]
        for method, rec in final_rec.items() if i in pos_of else ():
            shift = rec[pos_of[i]] - cmean
            row = {
                "series_id": sid,
                "level": ss.level[i],
                "date": fdates,
                "model": method,
                "spec": f"{method} of chosen",
                "forecast": rec[pos_of[i]],
            }
            for lv in opts.intervals:
                row[f"lo_{lv}"], row[f"hi_{lv}"] = cbands[lv][0] + shift, cbands[lv][1] + shift
            row["chosen"] = False
            fc_rows.append(row)
    return stack_columns(fc_rows)


def error_by_horizon(backtest: pd.DataFrame) -> pd.DataFrame:
    """MASE per model and step ahead; adds ``abs_scaled_error`` to ``backtest``."""
    backtest["abs_scaled_error"] = (backtest["forecast"] - backtest["actual"]).abs() / backtest["scale_mae"]
    return backtest.groupby(["model", "step"], sort=False)["abs_scaled_error"].mean().rename("mase").reset_index()


def run_summary(
    prep: Prepared,
    fit: Fits,
    opts: Options,
    leaderboard: pd.DataFrame,
    reconciliation: pd.DataFrame,
    chosen_df: pd.DataFrame,
    final_rec: dict,
    coefficients: pd.DataFrame,
) -> dict:
    """The run's headline figures (``ForecastRun.summary``): sizes, options, accuracy, reconciliation, notes."""
    ss, levels_q = prep.ss, opts.intervals
    coherence = None
    if final_rec:
        hs = ss.hierarchy()
        coherence = {mth: float(np.max(np.abs(hs.S @ rec[hs.bottom] - rec))) for mth, rec in final_rec.items()}
    lb = leaderboard.set_index("model")
    summary = {
        "n_series": len(ss.ids),
        "n_bottom": len(ss.bottom),
        "frequency": prep.freq,
        "season_length": prep.season,
        "horizon": prep.horizon,
        "n_origins": opts.n_origins,
        "origin_step": prep.step,
        "selection": opts.selection,
        "models": fit.models,
        "interval_levels": levels_q,
        "levels": list(dict.fromkeys(ss.level)),
        "mase_chosen": float(lb.loc["chosen", "mase"]),
        "mase_snaive": float(lb.loc["snaive", "mase"]),
        "skill_vs_snaive": float(lb.loc["chosen", "skill_vs_snaive"]),
        "coverage_chosen": {str(lv): float(lb.loc["chosen", f"coverage_{lv}"]) for lv in levels_q},
        "models_chosen": chosen_df["model"].value_counts().to_dict(),
        "leaderboard": leaderboard.round(4).to_dict(orient="records"),
        "reconciliation_mase": (
            reconciliation.pivot(index="method", columns="level", values="mase").round(4).to_dict(orient="index")
            if len(reconciliation)
            else {}
        ),
        "coherence_max_abs_error": coherence,
        "best_reconciliation": (
            reconciliation[reconciliation["method"] != "base"].groupby("method")["mase"].mean().idxmin()
            if len(reconciliation)
            else None
        ),
        "convergence_warnings": fit.conv,
        "fallbacks": fit.fallbacks,
        "notes": prep.notes,
    }
    if len(coefficients):
        bottom_level = ss.level[ss.bottom[0]]
        summary["exog_cols"] = opts.exog_cols
        pooled = pool_coefficients(coefficients[coefficients["level"] == bottom_level])
        summary["driver_effects"] = pooled.set_index("term").drop(columns="scale").round(4).to_dict(orient="index")
    return summary


def _coefficients(results, ss) -> pd.DataFrame:
    """The regression model's coefficients per series (empty without exogenous columns)."""
    rows = [
        {
            "series_id": ss.ids[i],
            "level": ss.level[i],
            "term": term,
            "scale": "log" if r["positive"] else "level",
            "estimate": est,
            "std_error": se,
            "effect_pct": 100 * np.expm1(est) if r["positive"] else np.nan,
        }
        for i, r in enumerate(results)
        for term, (est, se) in r["coef"].items()
    ]
    cols = ["series_id", "level", "term", "scale", "estimate", "std_error", "effect_pct"]
    return pd.DataFrame(rows, columns=cols)

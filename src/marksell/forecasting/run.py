"""The whole forecasting run behind the notebook: :func:`run_forecast`."""

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
from marksell.forecasting.series import HORIZON_BY_FREQ, SEASON_BY_FREQ, build_hierarchy, end_notes, prepare_history


@dataclass
class ForecastRun:
    """Everything a forecasting run produces (see :func:`run_forecast`)."""

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
    coefficients: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["series_id", "level", "term", "scale", "estimate", "std_error", "effect_pct"]))


def run_forecast(df: pd.DataFrame, keys=(), value_col: str = "sales", date_col: str = "date",
                 freq: str | None = None, horizon: int = 3, season_length: int = 0,
                 levels=("total",), interval_levels=(80, 95), models=None, n_origins: int = 3,
                 step: int = 0, selection: str = "per_series", n_jobs: int = 1,
                 fill_gaps: str = "refuse", duplicates: str = "refuse",
                 reconciliations=RECONCILIATIONS, seed: int = 0, ets_maxiter: int = 100,
                 arima_maxiter: int = 50, sim_reps: int = 500, exog_cols=(),
                 future: pd.DataFrame | None = None, exog_sum=(),
                 combo_size: int = 3) -> ForecastRun:
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
    t_start = time.perf_counter()
    if not isinstance(horizon, (int, np.integer)) or horizon < 0:
        raise ParameterError(f"horizon={horizon!r}: the forecast horizon must be a whole number of "
                             "periods >= 1 (e.g. 3 for the next quarter of monthly data), or 0 for "
                             "the default of the frequency.")
    if n_origins < 1:
        raise ParameterError(f"n_origins={n_origins!r}: use at least 1 backtest origin.")
    if selection not in ("per_series", "global"):
        raise ParameterError(f"selection={selection!r}: use 'per_series' or 'global'.")
    levels_q = [float(x) for x in interval_levels]
    if not levels_q or any(not 0 < x < 100 for x in levels_q):
        raise ParameterError(f"interval_levels={list(interval_levels)}: use percentages in (0, 100), "
                             "e.g. [80, 95].")
    levels_q = [int(x) if float(x).is_integer() else x for x in levels_q]
    named = bool(models)
    models = list(models) if models else list(DEFAULT_MODELS)
    unknown = [x for x in models if x not in ALL_MODELS]
    if unknown:
        raise ParameterError(f"Unknown model(s) {unknown}: choose from {list(ALL_MODELS)}.")
    exog_cols = [exog_cols] if isinstance(exog_cols, str) else list(exog_cols or [])
    if "regression" in models and not exog_cols:
        raise ParameterError("models: 'regression' needs exogenous columns: name them in "
                             "exog_cols (e.g. ['price', 'promo']) and give their future values.")
    if exog_cols and "regression" not in models:
        models.append("regression")
    if not isinstance(combo_size, (int, np.integer)) or combo_size < 1:
        raise ParameterError(f"combo_size={combo_size!r}: use a whole number >= 1 (how many of the "
                             "best models per series the combination averages).")
    models = [x for x in ALL_MODELS if x in set(models) | set(BASELINES)]
    keys = list(keys or [])
    clash = [c for c in exog_cols if c in (date_col, value_col, *keys)]
    if clash:
        raise ParameterError(f"exog_cols {clash} are the date, value or key columns; name other "
                             "columns (price, promotion, calendar flags).")
    bottom, freq, notes = prepare_history(df, date_col, keys, value_col, freq, fill_gaps, duplicates)
    horizon = int(horizon) or HORIZON_BY_FREQ[freq]
    m = int(season_length) if season_length else SEASON_BY_FREQ[freq]
    if m < 1:
        raise ParameterError(f"season_length={season_length!r}: use 0 (from frequency), 1 (none) "
                             "or the number of periods in a season.")
    step = int(step) if step else horizon
    ss = build_hierarchy(bottom, keys, levels, freq)
    n_all = len(ss.ids)
    if not named and n_all > FAST_ABOVE:
        models = [x for x in models if x in FAST_MODELS]
        notes.append(f"{n_all} series: ARIMA was left out to keep the run time down (the fast default "
                     f"above {FAST_ABOVE} series when no models are named); pass models to include "
                     "it.")
    notes.extend(end_notes(ss))
    tasks = []
    for i, y in enumerate(ss.values):
        n = len(y)
        tl = [n - horizon - (n_origins - 1 - k) * step for k in range(n_origins)]
        if tl[0] < 3:
            raise AnalysisError(
                f"Series '{ss.ids[i]}' has {n} periods: too short for a horizon of {horizon} and "
                f"{n_origins} backtest origin(s) {step} apart (needs at least "
                f"{horizon + (n_origins - 1) * step + 3}). Lower horizon or n_origins.")
        tasks.append((i, y, tl, seed + i, None))
    if exog_cols:
        mats, exog_notes = exog_matrices(df, future, ss, keys, exog_cols, horizon, freq, date_col,
                                         exog_sum)
        notes.extend(exog_notes)
        tasks = [(i, y, tl, sd, mats[i]) for i, y, tl, sd, _ in tasks]
    opts = {"ets_maxiter": ets_maxiter, "arima_maxiter": arima_maxiter, "sim_reps": sim_reps,
            "exog_names": exog_cols, "combo_size": int(combo_size)}
    results = run_tasks(tasks, m, horizon, models, levels_q, opts, n_jobs)
    conv = sum(r["conv"] for r in results)
    cpu_by_model = {mdl: sum(r["cpu"].get(mdl, 0.0) for r in results) for mdl in models}
    for i, r in enumerate(results):
        for note in r["notes"]:
            notes.append(f"{ss.ids[i]}: {note}")
    if conv:
        notes.append(f"{conv} optimiser convergence warning(s) from statsmodels were suppressed "
                     "(fits kept; they affect accuracy only through the backtest scores).")
    # ---- backtest table -------------------------------------------------------------------
    bt_rows = []
    for i, r in enumerate(results):
        y, dts = ss.values[i], ss.dates[i]
        for k, n in enumerate(tasks[i][2]):
            mae, mse = error_scales(y[:n], m)
            actual = y[n:n + horizon]
            for mdl in models:
                mean, bands, _ = r["origins"][k][mdl]
                row = {"series_id": ss.ids[i], "level": ss.level[i], "model": mdl,
                       "origin": dts[n - 1], "step": np.arange(1, horizon + 1),
                       "date": dts[n:n + horizon], "actual": actual, "forecast": mean,
                       "scale_mae": mae, "scale_mse": mse}
                for lv in levels_q:
                    row[f"lo_{lv}"], row[f"hi_{lv}"] = bands[lv]
                bt_rows.append(row)
    backtest = stack_columns(bt_rows)
    metrics = accuracy_metrics(backtest, ["series_id", "level", "model"], levels_q)
    # ---- selection -------------------------------------------------------------------------
    order = {mdl: j for j, mdl in enumerate(models)}
    if selection == "global":
        overall = metrics.groupby("model")["mase"].mean()
        best = min(overall.index, key=lambda x: (overall[x], order[x]))
        chosen = {sid: best for sid in ss.ids}
    else:
        ranked = (metrics.assign(_o=metrics["model"].map(order))
                  .sort_values(["mase", "_o"], na_position="last", kind="stable")
                  .drop_duplicates("series_id"))
        chosen = dict(zip(ranked["series_id"], ranked["model"]))
    metrics["chosen"] = [chosen[s] == mdl for s, mdl in zip(metrics["series_id"], metrics["model"])]
    metrics = metrics.sort_values(["series_id", "model"], key=series_sort_key(ss, order)).reset_index(
        drop=True)
    # ---- reconciliation in the backtest and for the final forecast ----------------------------
    # only the series of the hierarchy (those sharing the last period) are reconciled
    hs = ss.hierarchy()
    rows = list(ss.in_hierarchy)
    pos_of = {i: p for p, i in enumerate(rows)}
    h_results = [results[i] for i in rows]
    do_rec = len(hs.ids) > len(hs.bottom) and len(reconciliations) > 0
    rec_rows, rec_notes = [], []
    final_rec = {}
    if do_rec:
        for k in range(n_origins):
            base = np.vstack([results[i]["origins"][k][chosen[ss.ids[i]]][0] for i in rows])
            res = residuals_for(h_results, hs, chosen, k)
            for method in ["base", *reconciliations]:
                rec = reconcile_forecasts(hs, base, method, res, rec_notes)
                if rec is None:
                    continue
                for p, i in enumerate(rows):
                    n = tasks[i][2][k]
                    y = ss.values[i]
                    mae, mse = error_scales(y[:n], m)
                    rec_rows.append({
                        "method": method, "series_id": ss.ids[i], "level": ss.level[i],
                        "origin": ss.dates[i][n - 1], "step": np.arange(1, horizon + 1),
                        "actual": y[n:n + horizon], "forecast": rec[p],
                        "scale_mae": mae, "scale_mse": mse})
        base = np.vstack([results[i]["final"][chosen[ss.ids[i]]][0] for i in rows])
        res = residuals_for(h_results, hs, chosen, None)
        for method in reconciliations:
            rec = reconcile_forecasts(hs, base, method, res, rec_notes)
            if rec is not None:
                final_rec[method] = rec
    notes.extend(sorted(set(rec_notes)))
    if rec_rows:
        rec_bt = stack_columns(rec_rows)
        reconciliation = accuracy_metrics(rec_bt, ["method", "level"], [])
        lvl_order = {lv: j for j, lv in enumerate(dict.fromkeys(ss.level))}
        meth_order = {mm: j for j, mm in enumerate(["base", *reconciliations])}
        reconciliation = reconciliation.sort_values(
            ["method", "level"], key=lambda s: s.map(meth_order if s.name == "method" else lvl_order)
        ).reset_index(drop=True)
    else:
        reconciliation = pd.DataFrame(columns=["method", "level", "mase", "rmsse", "smape", "bias"])
    # ---- forecast table ----------------------------------------------------------------------
    fc_rows = []
    for i, r in enumerate(results):
        sid = ss.ids[i]
        fdates = pd.date_range(ss.dates[i][-1], periods=horizon + 1, freq=ss.alias)[1:]
        for mdl in models:
            mean, bands, _ = r["final"][mdl]
            row = {"series_id": sid, "level": ss.level[i], "date": fdates, "model": mdl,
                   "spec": r["spec"][mdl], "forecast": mean}
            for lv in levels_q:
                row[f"lo_{lv}"], row[f"hi_{lv}"] = bands[lv]
            row["chosen"] = chosen[sid] == mdl
            fc_rows.append(row)
        cmean, cbands, _ = r["final"][chosen[sid]]
        for method, rec in (final_rec.items() if i in pos_of else ()):
            shift = rec[pos_of[i]] - cmean
            row = {"series_id": sid, "level": ss.level[i], "date": fdates, "model": method,
                   "spec": f"{method} of chosen", "forecast": rec[pos_of[i]]}
            for lv in levels_q:
                row[f"lo_{lv}"], row[f"hi_{lv}"] = cbands[lv][0] + shift, cbands[lv][1] + shift
            row["chosen"] = False
            fc_rows.append(row)
    forecast = stack_columns(fc_rows)
    history = stack_columns([{"series_id": sid, "level": ss.level[i], "date": ss.dates[i],
                       "value": ss.values[i]} for i, sid in enumerate(ss.ids)])
    # ---- leaderboard, error by horizon, summary ------------------------------------------------
    leaderboard = leaderboard_table(metrics, chosen, levels_q, models)
    backtest["abs_scaled_error"] = (backtest["forecast"] - backtest["actual"]).abs() / backtest[
        "scale_mae"]
    by_horizon = (backtest.groupby(["model", "step"], sort=False)["abs_scaled_error"].mean()
                  .rename("mase").reset_index())
    chosen_df = pd.DataFrame({"series_id": ss.ids, "level": ss.level,
                              "model": [chosen[s] for s in ss.ids],
                              "spec": [results[i]["spec"][chosen[s]] for i, s in enumerate(ss.ids)]})
    coherence = None
    if final_rec:
        coherence = {mth: float(np.max(np.abs(hs.S @ rec[hs.bottom] - rec))) for mth, rec in
                     final_rec.items()}
    lb = leaderboard.set_index("model")
    summary = {
        "n_series": n_all, "n_bottom": len(ss.bottom), "frequency": freq, "season_length": m,
        "horizon": horizon, "n_origins": n_origins, "origin_step": step, "selection": selection,
        "models": models, "interval_levels": levels_q,
        "levels": list(dict.fromkeys(ss.level)),
        "mase_chosen": float(lb.loc["chosen", "mase"]),
        "mase_snaive": float(lb.loc["snaive", "mase"]),
        "skill_vs_snaive": float(lb.loc["chosen", "skill_vs_snaive"]),
        "coverage_chosen": {str(lv): float(lb.loc["chosen", f"coverage_{lv}"]) for lv in levels_q},
        "models_chosen": chosen_df["model"].value_counts().to_dict(),
        "leaderboard": leaderboard.round(4).to_dict(orient="records"),
        "reconciliation_mase": (reconciliation.pivot(index="method", columns="level", values="mase")
                                .round(4).to_dict(orient="index") if len(reconciliation) else {}),
        "coherence_max_abs_error": coherence,
        "best_reconciliation": (reconciliation[reconciliation["method"] != "base"]
                                .groupby("method")["mase"].mean().idxmin()
                                if len(reconciliation) else None),
        "convergence_warnings": conv,
        "notes": notes,
    }
    coefficients = _coefficients(results, ss)
    if len(coefficients):
        bottom_level = ss.level[ss.bottom[0]]
        summary["exog_cols"] = exog_cols
        pooled = pool_coefficients(coefficients[coefficients["level"] == bottom_level])
        summary["driver_effects"] = pooled.set_index("term").drop(columns="scale").round(4).to_dict(
            orient="index")
    cpu_by_model["_wall_s"] = time.perf_counter() - t_start
    return ForecastRun(forecast, backtest, metrics, leaderboard, by_horizon, reconciliation,
                       history, chosen_df, summary, notes, cpu_by_model, coefficients)


def _coefficients(results, ss) -> pd.DataFrame:
    """The regression model's coefficients per series (empty without exogenous columns)."""
    rows = [{"series_id": ss.ids[i], "level": ss.level[i], "term": term,
             "scale": "log" if r["positive"] else "level", "estimate": est, "std_error": se,
             "effect_pct": 100 * np.expm1(est) if r["positive"] else np.nan}
            for i, r in enumerate(results) for term, (est, se) in r["coef"].items()]
    cols = ["series_id", "level", "term", "scale", "estimate", "std_error", "effect_pct"]
    return pd.DataFrame(rows, columns=cols)

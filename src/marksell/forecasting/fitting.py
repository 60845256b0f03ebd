"""Fitting one series at every backtest origin and on the full history, across processes."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from marksell.errors import ParameterError
from marksell.forecasting.evaluation import error_scales
from marksell.forecasting.models import (
    MAX_ETS_SEASON,
    ArimaForecaster,
    EtsForecaster,
    NaiveForecaster,
    ThetaForecaster,
    seasonal_strength,
)
from marksell.forecasting.regression import RegressionArimaForecaster

BASELINES = ("naive", "snaive")
ALL_MODELS = ("naive", "snaive", "ets", "arima", "theta", "regression", "combo")
#: The default candidates (``regression`` joins them when exogenous columns are given).
DEFAULT_MODELS = ["naive", "snaive", "ets", "arima", "theta", "combo"]
#: Models the combination may draw on (the best ``combo_size`` of them per series).
COMBO_MEMBERS = ("ets", "arima", "theta", "regression")
#: With more series than this and no models named, ARIMA is left out (the fast default: it is the
#: costliest model and rarely adds accuracy over ETS + Theta + their combination).
FAST_ABOVE = 200
FAST_MODELS = ("naive", "snaive", "ets", "theta", "regression", "combo")
#: Errors that mean "a programming or library-version mismatch", never "this series does not suit the
#: model": they stop the run instead of becoming a seasonal-naive fallback.
NOT_A_FIT_FAILURE = (TypeError, AttributeError, ImportError, NameError)


@dataclass
class SeriesTraits:
    """What one series allows (from its first origin's training window), with the notes saying so."""

    positive: bool
    seasonal: bool
    snaive_m: int
    simple_ok: bool
    strength: float
    n0: int
    notes: list


def series_traits(y, m, n0, models) -> SeriesTraits:
    """Positive values, enough seasons, enough periods: which model forms this series can take, and why not."""
    notes: list[str] = []
    positive = bool(np.all(y > 0))
    seasonal = m > 1 and n0 >= 2 * m
    if m > 1 and not seasonal:
        notes.append(f"shorter than two seasons ({n0} < {2 * m} periods at the first origin): non-seasonal ETS/ARIMA/Theta used")
    snaive_m = m if n0 > m else 1
    if m > 1 and snaive_m == 1:
        notes.append("shorter than one season + 1: seasonal naive replaced by naive")
    if not positive and any(x in models for x in ("ets", "theta")):
        notes.append(
            "has values <= 0: multiplicative ETS forms and multiplicative Theta "
            "deseasonalising were not considered (they need strictly positive data)"
        )
    simple_ok = n0 >= 10
    if not simple_ok:
        notes.append(f"only {n0} periods at the first origin: ETS/ARIMA/Theta replaced by naive")
    strength = seasonal_strength(y[:n0], m) if seasonal and n0 >= 3 * m else 0.0
    return SeriesTraits(positive, seasonal, snaive_m, simple_ok, strength, n0, notes)


def make_model(mdl, m, traits: SeriesTraits, opts, seed, X=None):
    """The forecaster for model name ``mdl`` on a series with these ``traits``."""
    seasonal, positive, n0 = traits.seasonal, traits.positive, traits.n0
    strength = traits.strength
    if mdl == "naive" or (not traits.simple_ok and mdl in COMBO_MEMBERS):
        return NaiveForecaster(1)
    if mdl == "snaive":
        return NaiveForecaster(traits.snaive_m)
    if mdl == "ets":
        return EtsForecaster(m, seasonal and m <= MAX_ETS_SEASON, positive, opts["ets_maxiter"], opts["sim_reps"], seed, strength)
    if mdl == "arima":
        return ArimaForecaster(m, seasonal and m <= MAX_ETS_SEASON, opts["arima_maxiter"], strength if n0 >= 3 * m else None)
    if mdl == "theta":
        return ThetaForecaster(m, seasonal, positive)
    if mdl == "regression":
        return RegressionArimaForecaster(
            m,
            seasonal and m <= MAX_ETS_SEASON,
            opts["arima_maxiter"],
            X,
            opts["exog_names"],
            positive,
            strength if n0 >= 3 * m else None,
        )
    raise ParameterError(mdl)


def fit_model(obj, mdl, y, h, train_lengths, levels, out) -> None:
    """Fit ``obj`` at each backtest origin (updating), then on the full history; results into ``out``."""
    for i, n in enumerate(train_lengths):
        yi = y[:n]
        (obj.fit if i == 0 else obj.update)(yi)
        mean, bands = obj.forecast(h, levels)
        out["origins"][i][mdl] = (mean, bands, obj.resid)
    getattr(obj, "refit", obj.fit)(y)
    mean, bands = obj.forecast(h, levels)
    out["final"][mdl] = (mean, bands, obj.resid)
    out["spec"][mdl] = obj.spec
    if mdl == "regression" and isinstance(obj, RegressionArimaForecaster):
        out["coef"] = obj.coefficients()


def fit_fallback(mdl, y, h, train_lengths, levels, snaive_m, out) -> None:
    """Seasonal naive in place of a model that failed, at every origin and on the full history."""
    fb = NaiveForecaster(snaive_m)
    for i, n in enumerate(train_lengths):
        fb.fit(y[:n])
        out["origins"][i][mdl] = (*fb.forecast(h, levels), fb.resid)
    fb.fit(y)
    out["final"][mdl] = (*fb.forecast(h, levels), fb.resid)
    out["spec"][mdl] = fb.spec + " (fallback)"


def add_combination(out, y, m, h, train_lengths, levels, size) -> None:
    """The ``combo`` forecasts: the mean of the best ``size`` fitted members by backtest MASE."""
    fitted = [x for x in COMBO_MEMBERS if x in out["final"]]
    if not fitted:
        raise ParameterError(f"models: 'combo' needs at least one of {', '.join(COMBO_MEMBERS)}.")
    members = _best_members(y, m, h, train_lengths, out["origins"], fitted, size)
    for store in [*out["origins"], out["final"]]:
        store["combo"] = _combine([store[x] for x in members], levels)
    out["spec"]["combo"] = (
        "mean of "
        + ", ".join(members)
        + (f" (best {len(members)} of {len(fitted)} by backtest MASE)" if len(members) < len(fitted) else "")
    )


def _fit_series(y, m, h, train_lengths, models, levels, seed, opts, X=None):
    """Fit every model on one series at each backtest origin and on the full history.

    ``X`` holds the exogenous columns (rows: the history, then the ``h`` future periods) for the
    ``regression`` model. Returns a dict: ``origins`` (list of {model: (mean, bands, resid)}),
    ``final`` (same for the full history), ``spec`` (model description), ``coef`` (regression
    coefficients: {column: (estimate, standard error)}), ``notes``, ``conv`` (ConvergenceWarning
    count), ``cpu`` (seconds per model), ``fits`` (models attempted, baselines excluded) and ``fallbacks``
    ({model: reason} for each model whose fit failed on this series and was replaced by seasonal naive).
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    traits = series_traits(y, m, train_lengths[0], models)
    notes = traits.notes
    cpu = {mdl: 0.0 for mdl in models}
    out = {
        "origins": [{} for _ in train_lengths],
        "final": {},
        "spec": {},
        "coef": {},
        "notes": notes,
        "fits": 0,
        "fallbacks": {},
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for mdl in [x for x in models if x != "combo"]:
            t0 = time.process_time()
            obj = make_model(mdl, m, traits, opts, seed, X)
            out["fits"] += mdl not in BASELINES
            try:
                fit_model(obj, mdl, y, h, train_lengths, levels, out)
            except NOT_A_FIT_FAILURE:
                raise
            except Exception as exc:  # the model does not suit this series: seasonal naive, counted
                reason = f"{type(exc).__name__}: {str(exc)[:80]}"
                out["fallbacks"][mdl] = reason
                notes.append(f"{mdl} failed ({reason}); seasonal naive used instead")
                fit_fallback(mdl, y, h, train_lengths, levels, traits.snaive_m, out)
            cpu[mdl] += time.process_time() - t0
        n_conv = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    if "combo" in models:
        add_combination(out, y, m, h, train_lengths, levels, opts.get("combo_size", 3))
    out["conv"] = n_conv
    out["cpu"] = cpu
    out["positive"] = traits.positive
    return out


def _best_members(y, m, h, train_lengths, origins, fitted, size):
    """The ``size`` members with the lowest backtest MASE on this series (ties: listed order)."""
    if size >= len(fitted):
        return fitted
    score = {}
    for mdl in fitted:
        errs = []
        for k, n in enumerate(train_lengths):
            mae, _ = error_scales(y[:n], m)
            errs.append(np.mean(np.abs(origins[k][mdl][0] - y[n : n + h])) / mae)
        score[mdl] = np.nanmean(errs) if np.isfinite(errs).any() else np.inf
    ranked = sorted(fitted, key=lambda x: (score[x], fitted.index(x)))
    return [x for x in fitted if x in ranked[: max(1, size)]]


def _combine(parts, levels):
    """Mean of member forecasts; bounds averaged level by level (quantile averaging)."""
    mean = np.mean([p[0] for p in parts], axis=0)
    bands = {lv: (np.mean([p[1][lv][0] for p in parts], axis=0), np.mean([p[1][lv][1] for p in parts], axis=0)) for lv in levels}
    res = [p[2] for p in parts if p[2] is not None]
    with warnings.catch_warnings():  # all-NaN burn-in columns give NaN, as intended
        warnings.simplefilter("ignore", RuntimeWarning)
        resid = np.nanmean(np.vstack(res), axis=0) if res else None
    return mean, bands, resid


def _fit_chunk(tasks, m, h, models, levels, opts):
    """Fit a list of ``(index, y, train_lengths, seed, X)`` tasks with one BLAS thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return [(i, _fit_series(y, m, h, tl, models, levels, seed, opts, X)) for i, y, tl, seed, X in tasks]


def run_tasks(tasks, m, h, models, levels, opts, n_jobs):
    """Fit all series, sequentially or in worker processes (loky, or Dask through joblib's
    ``parallel_config``): the same results either way."""
    if n_jobs is None or n_jobs == 0:
        n_jobs = 1
    if n_jobs == 1 or len(tasks) == 1:
        out = _fit_chunk(tasks, m, h, models, levels, opts)
    else:
        from joblib import Parallel, delayed

        n_w = n_jobs if n_jobs > 0 else (len(tasks))
        n_chunks = min(len(tasks), max(1, n_w) * 4)
        chunks = [tasks[j::n_chunks] for j in range(n_chunks)]
        # loky processes by default; a joblib.parallel_config(backend="dask") context sends the
        # chunks to a Dask distributed cluster instead
        parts = Parallel(n_jobs=n_jobs)(delayed(_fit_chunk)(c, m, h, models, levels, opts) for c in chunks)
        out = [x for p in parts for x in p]
    out.sort(key=lambda t: t[0])
    return [r for _, r in out]

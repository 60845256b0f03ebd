"""What the drivers do: the regression's effects pooled over series, the history without them, and
what a sales plan adds to the forecast.

All of it reads the regression's coefficients (``ForecastRun.coefficients``: series_id, level,
term, scale, estimate, std_error) of the bottom series. On the ``log`` scale a driver value ``x``
multiplies sales by ``exp(b x)``; on the ``level`` scale it adds ``b x``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.forecasting.series import joined_keys, period_start

Z95 = 1.96


def pool_coefficients(coef: pd.DataFrame, by=()) -> pd.DataFrame:
    """Precision-weighted mean of the series' estimates per term (and ``by`` columns): a common
    effect (weights 1 / s.e.^2) with its standard error and 95 % interval, in % of sales on the
    log scale (``effect_pct`` = 100 (exp(b) - 1); NaN on the level scale). Rows without a usable
    standard error are left out."""
    by = list(by)
    cols = ["term", *by, "n_series", "scale", "estimate", "std_error", "effect_pct", "lo_95_pct", "hi_95_pct"]
    se = pd.to_numeric(coef["std_error"], errors="coerce")  # an empty table has object columns
    c = coef[np.isfinite(se) & (se > 0)].astype({"estimate": float, "std_error": float})
    rows = []
    for group, g in c.groupby(["term", *by, "scale"], sort=False):
        w = 1.0 / g["std_error"] ** 2
        est = float((w * g["estimate"]).sum() / w.sum())
        se = float(1.0 / np.sqrt(w.sum()))
        row = dict(zip(["term", *by, "scale"], group), n_series=len(g), estimate=est, std_error=se)
        for name, b in (("effect_pct", est), ("lo_95_pct", est - Z95 * se), ("hi_95_pct", est + Z95 * se)):
            row[name] = 100 * np.expm1(b) if row["scale"] == "log" else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def _bottom(run) -> tuple[str, pd.DataFrame]:
    level = run.chosen["level"].iloc[-1]
    return level, run.coefficients[run.coefficients["level"] == level]


def effects_table(run, keys=(), by: str | None = None) -> pd.DataFrame:
    """The regression's effect of each driver, pooled over the bottom series
    (:func:`pool_coefficients`), per value of the key column ``by`` when given. Empty when no
    regression was fitted."""
    _, coef = _bottom(run)
    keys = list(keys)
    if by:
        if by not in keys:
            raise ValueError(f"by={by!r} is not one of the key columns {keys}")
        coef = coef.assign(**{by: coef["series_id"].str.split(" / ").str[keys.index(by)]})
    return pool_coefficients(coef, [by] if by else [])


def _linear_predictor(
    run, frame: pd.DataFrame, rows: pd.DataFrame, keys, date_col: str, baseline: dict | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``b'(x - baseline)``, its standard error (drivers' errors combined as if independent) and a
    log-scale flag for each (series_id, date) of ``rows``, with ``x`` from ``frame`` (the history
    or a plan: date, key and driver columns) and ``b`` each series' own coefficients (0 for
    series without a regression)."""
    _, coef = _bottom(run)
    terms = list(dict.fromkeys(coef["term"]))
    base = pd.Series({t: float((baseline or {}).get(t, 0.0)) for t in terms}, dtype=float)
    x = frame[terms].astype(float).sub(base, axis=1)
    x["series_id"] = (joined_keys(frame, list(keys)) if keys else pd.Series("total", index=frame.index)).to_numpy()
    x["date"] = period_start(pd.to_datetime(frame[date_col]), run.summary["frequency"])[0].to_numpy()
    x = x.groupby(["series_id", "date"], sort=False)[terms].mean()
    xv = x.reindex(pd.MultiIndex.from_frame(rows[["series_id", "date"]])).fillna(0.0).to_numpy()
    sid = rows["series_id"]
    b = coef.pivot(index="series_id", columns="term", values="estimate").reindex(columns=terms)
    se = coef.pivot(index="series_id", columns="term", values="std_error").reindex(columns=terms)
    eta = (xv * b.reindex(sid).fillna(0.0).to_numpy()).sum(axis=1)
    eta_se = np.sqrt(np.nansum((xv * se.reindex(sid).to_numpy()) ** 2, axis=1))
    log = coef.groupby("series_id")["scale"].first().reindex(sid).eq("log").to_numpy()
    return eta, eta_se, log


def _remove(value: np.ndarray, eta: np.ndarray, log: np.ndarray) -> np.ndarray:
    return np.where(log, value * np.exp(-eta), value - eta)


def driver_adjusted_history(run, df: pd.DataFrame, keys=(), date_col: str = "date") -> pd.DataFrame:
    """The bottom series' history with the regression's driver effects taken out: what sales
    would have been with every driver at 0 (no promotion, no holiday), e.g. to read the seasonal
    pattern. Series without a regression keep their values."""
    level, coef = _bottom(run)
    hist = run.history[run.history["level"] == level].copy()
    if not len(coef):
        return hist
    eta, _, log = _linear_predictor(run, df, hist, keys, date_col)
    hist["value"] = _remove(hist["value"].to_numpy(float), eta, log)
    return hist


def plan_contribution(run, plan: pd.DataFrame, keys=(), date_col: str = "date", baseline: dict | None = None) -> pd.DataFrame:
    """What the planned drivers add to the regression forecast of each bottom series and period.

    In a regression with ARIMA errors the future drivers enter the forecast only through ``b'x``,
    so the forecast with every driver at its ``baseline`` value (default 0: no promotion, no
    holiday) is the regression forecast with ``b'(x - baseline)`` removed. The 95 % range moves
    ``b'(x - baseline)`` by 1.96 standard errors.

    Columns: series_id, date, forecast (regression, with the plan), without_drivers,
    contribution (forecast - without_drivers), contribution_lo, contribution_hi.
    """
    cols = ["series_id", "date", "forecast", "without_drivers", "contribution", "contribution_lo", "contribution_hi"]
    level, coef = _bottom(run)
    if not len(coef) or plan is None:
        return pd.DataFrame(columns=cols)
    fc = run.forecast
    f = fc[(fc["model"] == "regression") & (fc["level"] == level) & fc["series_id"].isin(set(coef["series_id"]))][
        ["series_id", "date", "forecast"]
    ]
    f = f.reset_index(drop=True)
    eta, eta_se, log = _linear_predictor(run, plan, f, keys, date_col, baseline)
    y = f["forecast"].to_numpy(float)
    out = f.assign(without_drivers=_remove(y, eta, log))
    out["contribution"] = y - out["without_drivers"]
    lo = y - _remove(y, eta - Z95 * eta_se, log)
    hi = y - _remove(y, eta + Z95 * eta_se, log)
    out["contribution_lo"], out["contribution_hi"] = np.minimum(lo, hi), np.maximum(lo, hi)
    return out[cols]


def contribution_by_period(contribution: pd.DataFrame) -> pd.DataFrame:
    """:func:`plan_contribution` summed over series per period, plus a ``total`` row: forecast,
    contribution, its share of the forecast (%) and its range (the series' bounds added up: a
    conservative range, as if every series' effect erred the same way)."""
    cols = ["forecast", "contribution", "contribution_lo", "contribution_hi"]
    per = contribution.groupby(contribution["date"].dt.strftime("%Y-%m-%d"))[cols].sum()
    per.loc["total"] = per.sum()
    per.insert(2, "share_pct", 100 * per["contribution"] / per["forecast"])
    per.index.name = "period"
    return per


def compare_effects(effects: pd.DataFrame, planted_log: dict, by: str) -> pd.DataFrame:
    """Estimated driver effects (:func:`effects_table` by ``by``) against planted log effects
    ``{term: {group: effect}}``: planted_pct, effect_pct, lo_95_pct, hi_95_pct and ``inside``
    (the planted effect lies in the 95 % interval), indexed by term and group."""
    comp = effects.set_index(["term", by])[["effect_pct", "lo_95_pct", "hi_95_pct"]].copy()
    comp.insert(0, "planted_pct", [100 * np.expm1(planted_log[t][g]) for t, g in comp.index])
    comp["inside"] = comp["planted_pct"].between(comp["lo_95_pct"], comp["hi_95_pct"])
    return comp

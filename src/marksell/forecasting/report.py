"""Reporting helpers for the notebook: seasonal indices, headline text, forecast tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.forecasting.run import ForecastRun


def seasonal_indices(history: pd.DataFrame, m: int, value_col: str = "value",
                     series_col: str = "series_id") -> pd.DataFrame:
    """Multiplicative seasonal index per series and season position (classical decomposition).

    ``history`` is long (series, date, value) with complete periods; returns a wide frame (rows =
    series, columns = position 1..m by calendar order of the first date's period, mean 1 per row).
    """
    from statsmodels.tsa.seasonal import seasonal_decompose

    rows = {}
    for sid, g in history.groupby(series_col, sort=False):
        g = g.sort_values("date")
        y = g[value_col].to_numpy(float)
        if len(y) < 2 * m or np.any(y <= 0):
            continue
        dec = seasonal_decompose(y, model="multiplicative", period=m)
        pos = (g["date"].dt.month.to_numpy() - 1) % m if m == 12 else np.arange(len(y)) % m
        idx = pd.Series(dec.seasonal).groupby(pos).mean()
        rows[sid] = (idx / idx.mean()).to_numpy()
    return pd.DataFrame(rows, index=np.arange(1, m + 1)).T


def headline(run: ForecastRun) -> str:
    """A few sentences (markdown) a manager can act on: skill, trust in intervals, coherence."""
    s = run.summary
    lb = run.leaderboard.set_index("model")
    cov = s["coverage_chosen"]
    cov_txt = ", ".join(f"{float(lv):g}% intervals caught {100 * v:.0f}% of actuals"
                        for lv, v in cov.items())
    best = lb.drop(index=["chosen"]).sort_values("mase").index[0]
    lines = [
        f"- **Skill:** over {s['n_origins']} backtest origins the chosen forecasts have a MASE of "
        f"{s['mase_chosen']:.2f} against {s['mase_snaive']:.2f} for seasonal naive "
        f"({100 * s['skill_vs_snaive']:.0f}% lower error). The best single model overall is "
        f"`{best}` (MASE {lb.loc[best, 'mase']:.2f}).",
        f"- **Uncertainty:** {cov_txt}.",
    ]
    eff = effects_table(run)
    eff = eff[eff["scale"] == "log"]
    if len(eff):
        parts = [f"`{r.term}` {r.effect_pct:+.1f}% (95% {r.lo_95_pct:+.1f}% to {r.hi_95_pct:+.1f}%)"
                 for r in eff.itertuples()]
        lines.append("- **Drivers** (regression, pooled over the bottom series; effect of one unit of "
                     "each column on sales): " + ", ".join(parts) + ".")
    if len(run.reconciliation):
        rec = run.reconciliation.groupby("method")["mase"].mean()
        top = rec.drop(index="base", errors="ignore").idxmin()
        lines.append(f"- **Coherence:** `{top}` reconciliation has the lowest average backtest MASE "
                     f"across levels ({rec[top]:.2f} vs {rec.get('base', np.nan):.2f} unreconciled); "
                     "its forecasts add up exactly from region x category to total.")
    return "\n".join(lines)


def forecast_table(run: ForecastRun, model: str = "chosen", level: float = 80,
                   series_ids=None) -> pd.DataFrame:
    """Wide table: one row per series, per future period 'forecast [lo, hi]' rounded to integers."""
    fc = run.forecast
    f = fc[fc["chosen"]] if model == "chosen" else fc[fc["model"] == model]
    if series_ids is not None:
        f = f[f["series_id"].isin(series_ids)]
    lv = int(level) if float(level).is_integer() else level
    cell = (f["forecast"].round(0).map("{:,.0f}".format) + " [" + f[f"lo_{lv}"].round(0)
            .map("{:,.0f}".format) + ", " + f[f"hi_{lv}"].round(0).map("{:,.0f}".format) + "]")
    out = f.assign(cell=cell.to_numpy(), month=f["date"].dt.strftime("%Y-%m-%d")).pivot(
        index="series_id", columns="month", values="cell")
    order = list(dict.fromkeys(f["series_id"]))
    return out.loc[order]


def effects_table(run: ForecastRun, keys=(), by: str | None = None) -> pd.DataFrame:
    """The regression's effect of each exogenous column, pooled over the bottom series.

    Per term (and per value of the key column ``by``): the precision-weighted mean of the series'
    estimates (a common effect; weights 1 / s.e.^2) with its 95 % interval. On the log scale the
    effect is in % of sales (``effect_pct`` = 100 (exp(b) - 1)); on the level scale in sales units
    (``effect``). Empty when no regression was fitted.
    """
    coef = run.coefficients
    cols = ["term", *([by] if by else []), "n_series", "scale", "estimate", "std_error",
            "effect_pct", "lo_95_pct", "hi_95_pct"]
    if not len(coef):
        return pd.DataFrame(columns=cols)
    bottom_level = run.chosen["level"].iloc[-1]
    c = coef[(coef["level"] == bottom_level) & np.isfinite(coef["std_error"])
             & (coef["std_error"] > 0)].copy()
    keys = list(keys)
    if by:
        if by not in keys:
            raise ValueError(f"by={by!r} is not one of the key columns {keys}")
        c[by] = c["series_id"].str.split(" / ").str[keys.index(by)]
    rows = []
    for group, g in c.groupby(["term", *([by] if by else []), "scale"], sort=False):
        w = 1.0 / g["std_error"] ** 2
        est = float((w * g["estimate"]).sum() / w.sum())
        se = float(1.0 / np.sqrt(w.sum()))
        row = dict(zip(["term", *([by] if by else []), "scale"], group))
        row.update(n_series=len(g), estimate=est, std_error=se)
        log = row["scale"] == "log"
        for name, b in (("effect_pct", est), ("lo_95_pct", est - 1.96 * se),
                        ("hi_95_pct", est + 1.96 * se)):
            row[name] = 100 * np.expm1(b) if log else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def driver_adjusted_history(run: ForecastRun, df: pd.DataFrame, keys=(), date_col: str = "date"
                            ) -> pd.DataFrame:
    """The bottom series' history with the regression's driver effects taken out.

    ``value`` / exp(b'x) on the log scale, ``value`` - b'x on the level scale, with each series'
    own coefficients: what sales would have been with every driver at 0 (no promotion, no
    holiday), e.g. to read the seasonal pattern. Series without a regression keep their values.
    """
    from marksell.forecasting.series import _joined, _period_start

    keys = list(keys)
    bottom_level = run.chosen["level"].iloc[-1]
    hist = run.history[run.history["level"] == bottom_level].copy()
    coef = run.coefficients[run.coefficients["level"] == bottom_level]
    if not len(coef):
        return hist
    terms = list(dict.fromkeys(coef["term"]))
    x = df[terms].astype(float).copy()
    x["series_id"] = (_joined(df, keys) if keys else pd.Series("total", index=df.index)).to_numpy()
    dates = pd.to_datetime(df[date_col])
    x["date"] = _period_start(dates, run.summary["frequency"])[0].to_numpy()
    x = x.groupby(["series_id", "date"], sort=False)[terms].mean()
    b = coef.pivot(index="series_id", columns="term", values="estimate").reindex(columns=terms)
    scale = coef.groupby("series_id")["scale"].first()
    xb = x.reindex(pd.MultiIndex.from_frame(hist[["series_id", "date"]])).fillna(0.0)
    bb = b.reindex(hist["series_id"]).fillna(0.0).to_numpy()
    effect = (xb.to_numpy() * bb).sum(axis=1)
    log = scale.reindex(hist["series_id"]).eq("log").to_numpy()
    value = hist["value"].to_numpy(float)
    hist["value"] = np.where(log, value / np.exp(effect), value - effect)
    return hist


def compare_effects(effects: pd.DataFrame, planted_log: dict, by: str) -> pd.DataFrame:
    """Estimated driver effects (:func:`effects_table` by ``by``) against planted log effects
    ``{term: {group: effect}}``: planted_pct, effect_pct, lo_95_pct, hi_95_pct and ``inside``
    (the planted effect lies in the 95 % interval), indexed by term and group."""
    comp = effects.set_index(["term", by])[["effect_pct", "lo_95_pct", "hi_95_pct"]].copy()
    comp.insert(0, "planted_pct", [100 * np.expm1(planted_log[t][g]) for t, g in comp.index])
    comp["inside"] = comp["planted_pct"].between(comp["lo_95_pct"], comp["hi_95_pct"])
    return comp


def chosen_table(run: ForecastRun, level: float = 80) -> pd.DataFrame:
    """Each series' chosen model with its backtest MASE and interval coverage at ``level``."""
    lv = int(level) if float(level).is_integer() else level
    m = run.metrics[run.metrics["chosen"]][["series_id", "mase", f"coverage_{lv}"]]
    return run.chosen.merge(m, on="series_id")


def compare_seasonality(history: pd.DataFrame, planted: dict, m: int, group_position: int = -1,
                        skip=()) -> tuple[pd.DataFrame, float]:
    """Recovered seasonal indices (:func:`seasonal_indices`, averaged over the series of each group:
    the key at ``group_position`` of the series id) against planted ones ``{group: [m indices]}``.

    Returns the table (columns: season position x planted/recovered) and the largest absolute error
    outside the positions in ``skip`` (e.g. the months a moving holiday falls in).
    """
    est = seasonal_indices(history, m)
    est = est.groupby(est.index.str.split(" / ").str[group_position]).mean()
    true = pd.DataFrame(planted).T
    true.columns = est.columns
    est = est.loc[true.index]
    comp = pd.concat({"planted": true, "recovered": est}, axis=1).swaplevel(axis=1)
    comp = comp[[c for pos in true.columns for c in [(pos, "planted"), (pos, "recovered")]]]
    err = float((est - true).drop(columns=list(skip)).abs().to_numpy().max())
    return comp, err


def plan_contribution(run: ForecastRun, plan: pd.DataFrame, keys=(), date_col: str = "date",
                      baseline: dict | None = None) -> pd.DataFrame:
    """What the planned drivers add to the regression forecast of each bottom series and period.

    In a regression with ARIMA errors the future drivers enter the forecast only through ``b'x``,
    so the forecast with every driver at its ``baseline`` value (default 0: no promotion, no
    holiday) is the regression forecast times ``exp(-b'(x - baseline))`` on the log scale (minus
    ``b'(x - baseline)`` on the level scale). The 95 % range moves ``b'(x - baseline)`` by 1.96
    standard errors, combining the drivers' standard errors as if independent.

    Columns: series_id, date, forecast (regression, with the plan), without_drivers,
    contribution (forecast - without_drivers), contribution_lo, contribution_hi.
    """
    from marksell.forecasting.series import _joined, _period_start

    cols = ["series_id", "date", "forecast", "without_drivers", "contribution", "contribution_lo",
            "contribution_hi"]
    keys = list(keys)
    bottom_level = run.chosen["level"].iloc[-1]
    coef = run.coefficients[run.coefficients["level"] == bottom_level]
    if not len(coef) or plan is None:
        return pd.DataFrame(columns=cols)
    terms = list(dict.fromkeys(coef["term"]))
    base = pd.Series({t: float((baseline or {}).get(t, 0.0)) for t in terms})
    x = plan[terms].astype(float).sub(base, axis=1)
    x["series_id"] = (_joined(plan, keys) if keys else pd.Series("total", index=plan.index)).to_numpy()
    x["date"] = _period_start(pd.to_datetime(plan[date_col]), run.summary["frequency"])[0].to_numpy()
    x = x.groupby(["series_id", "date"], sort=False)[terms].mean()
    f = run.forecast[(run.forecast["model"] == "regression")
                     & (run.forecast["level"] == bottom_level)][["series_id", "date", "forecast"]]
    f = f[f["series_id"].isin(set(coef["series_id"]))].reset_index(drop=True)
    xv = x.reindex(pd.MultiIndex.from_frame(f[["series_id", "date"]])).fillna(0.0).to_numpy()
    b = coef.pivot(index="series_id", columns="term", values="estimate").reindex(columns=terms)
    se = coef.pivot(index="series_id", columns="term", values="std_error").reindex(columns=terms)
    bb, ss = b.reindex(f["series_id"]).fillna(0.0).to_numpy(), se.reindex(f["series_id"]).to_numpy()
    eta = (xv * bb).sum(axis=1)
    eta_se = np.sqrt(np.nansum((xv * ss) ** 2, axis=1))
    log = coef.groupby("series_id")["scale"].first().reindex(f["series_id"]).eq("log").to_numpy()
    fc = f["forecast"].to_numpy(float)

    def without(e):
        return np.where(log, fc * np.exp(-e), fc - e)

    out = f.assign(without_drivers=without(eta))
    out["contribution"] = fc - out["without_drivers"]
    lo, hi = fc - without(eta - 1.96 * eta_se), fc - without(eta + 1.96 * eta_se)
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

"""Reporting helpers for the notebook: seasonal indices, headline text, forecast tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.forecasting.drivers import effects_table
from marksell.forecasting.run import ForecastRun
from marksell.reporting import numbers


def seasonal_indices(history: pd.DataFrame, m: int, value_col: str = "value", series_col: str = "series_id") -> pd.DataFrame:
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


def summary(run: ForecastRun) -> dict:
    """What ``summary.json`` holds, as every analysis's ``summary`` gives it: the run's figures (series, horizon,
    chosen models, backtest errors, reconciliation, driver effects, CPU time), written by ``run_forecast``'s last
    stage so the notebook, the brief and the index read one dict."""
    return dict(run.summary)


def headline(run: ForecastRun) -> str:
    """A few sentences (markdown) a manager can act on: skill, trust in intervals, coherence."""
    s = run.summary
    lb = run.leaderboard.set_index("model")
    cov = s["coverage_chosen"]
    cov_txt = ", ".join(f"{float(lv):g}% intervals caught {100 * v:.0f}% of actuals" for lv, v in cov.items())
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
        parts = [f"`{r.term}` {r.effect_pct:+.1f}% (95% {r.lo_95_pct:+.1f}% to {r.hi_95_pct:+.1f}%)" for r in eff.itertuples()]
        lines.append(
            "- **Drivers** (regression, pooled over the bottom series; effect of one unit of "
            "each column on sales): " + ", ".join(parts) + "."
        )
    if len(run.reconciliation):
        rec = run.reconciliation.groupby("method")["mase"].mean()
        top = rec.drop(index="base", errors="ignore").idxmin()
        lines.append(
            f"- **Coherence:** `{top}` reconciliation has the lowest average backtest MASE "
            f"across levels ({rec[top]:.2f} vs {rec.get('base', np.nan):.2f} unreconciled); "
            f"its forecasts add up exactly from {s['levels'][-1]} to {s['levels'][0]}."
        )
    return "\n".join(lines)


def forecast_table(
    run: ForecastRun, model: str = "chosen", level: float = 80, series_ids=None, currency: str = ""
) -> pd.DataFrame:
    """Wide table: one row per series, per future period 'forecast [lo, hi]' rounded to integers
    (the forecast with ``currency`` in front when given)."""
    fc = run.forecast
    f = fc[fc["chosen"]]
    if model != "chosen":  # series outside the hierarchy are not reconciled: their chosen model
        rec = fc[fc["model"] == model]
        f = pd.concat([rec, f[~f["series_id"].isin(set(rec["series_id"]))]])
        f = f.iloc[
            np.argsort(f["series_id"].map({s: i for i, s in enumerate(fc["series_id"].unique())}).to_numpy(), kind="stable")
        ]
    if series_ids is not None and len(series_ids):
        f = f[f["series_id"].isin(series_ids)]
    lv = int(level) if float(level).is_integer() else level
    cell = (
        f["forecast"].map(lambda v: numbers.money(v, currency))
        + " ["
        + f[f"lo_{lv}"].map(numbers.fixed)
        + ", "
        + f[f"hi_{lv}"].map(numbers.fixed)
        + "]"
    )
    out = f.assign(cell=cell.to_numpy(), month=f["date"].dt.strftime("%Y-%m-%d")).pivot(
        index="series_id", columns="month", values="cell"
    )
    order = list(dict.fromkeys(f["series_id"]))
    return out.loc[order]


def chosen_table(run: ForecastRun, level: float = 80) -> pd.DataFrame:
    """Each series' chosen model with its backtest MASE and interval coverage at ``level``."""
    lv = int(level) if float(level).is_integer() else level
    m = run.metrics[run.metrics["chosen"]][["series_id", "mase", f"coverage_{lv}"]]
    return run.chosen.merge(m, on="series_id")


def compare_seasonality(
    history: pd.DataFrame, planted: dict, m: int, group_position: int = -1, skip=()
) -> tuple[pd.DataFrame, float]:
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


def reconciliation_mase(run: ForecastRun) -> pd.DataFrame:
    """Backtest MASE by reconciliation method (rows: base, then the methods that ran, in order) and level.

    A method skipped on this data (MinT-shrink with fewer than three common residuals; a note says so) has
    no row, rather than a KeyError."""
    from marksell.forecasting.reconcile import RECONCILIATIONS

    wide = run.reconciliation.pivot(index="method", columns="level", values="mase")
    return wide.loc[[m for m in ("base", *RECONCILIATIONS) if m in wide.index]].rename_axis(columns=None)


def upper_series(run: ForecastRun) -> list[str]:
    """The series above the bottom level (the total and the groups of the leading keys)."""
    levels = run.chosen["level"]
    return list(run.chosen.loc[levels != levels.iloc[-1], "series_id"])


def series_to_chart(run, show_series=(), n: int = 3) -> list[str]:
    """The top series, then the series named in ``show_series`` that exist, else the ``n`` largest
    series below the top (by their last season's sales): what the forecast chart shows."""
    ids = list(run.chosen["series_id"])
    named = [s for s in (show_series or []) if s in set(ids)]
    if named:
        return list(dict.fromkeys([ids[0], *named]))
    hist = run.history
    m = int(run.summary["season_length"])
    recent = hist.groupby("series_id", sort=False)["value"].apply(lambda v: float(np.sum(v.to_numpy()[-m:])))
    largest = sorted(ids[1:], key=lambda s: -recent.get(s, 0.0))[:n]
    return [ids[0], *[s for s in ids if s in set(largest)]]


def display_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Kinds for ``reporting.tables.table`` where a metric's name does not say it: sMAPE is in percent, skill
    against seasonal naive a share (0.62: 62 % less error), bias a scaled number."""
    kinds = {"smape": "percent", "skill_vs_snaive": "share", "bias": "number"}
    return {c: k for c, k in kinds.items() if c in frame.columns}

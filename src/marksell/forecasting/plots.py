"""Charts for the sales forecast: history with forecast fans, the model leaderboard, error by horizon,
the drivers' effects.

Each function takes the tables of :class:`marksell.forecasting.ForecastRun` and returns a Figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from marksell.plots import label_axis, use_style

use_style()  # one palette, no offset notation, unit-labelled axes across every chart


def plot_forecast_fan(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    series_ids=None,
    model: str = "chosen",
    n_history: int = 36,
    ncols: int = 2,
    value_label: str = "sales",
    currency: str = "",
):
    """History and forecast with interval fans, one panel per series.

    ``history``: series_id, date, value. ``forecast``: series_id, date, model, forecast, lo_<L>,
    hi_<L>, chosen. ``model`` is ``chosen`` (each series' selected model), a model name, or a
    reconciliation (``mint_shrink``...). ``series_ids`` default: the first series (the top level).
    ``currency``: the value is money in this currency (axis labelled with it); empty: a plain quantity.
    """
    ids = list(series_ids) if series_ids else [history["series_id"].iloc[0]]
    levels = sorted(
        {int(c[3:]) if c[3:].isdigit() else float(c[3:]) for c in forecast.columns if c.startswith("lo_")}, reverse=True
    )
    ncols = min(ncols, len(ids))
    nrows = int(np.ceil(len(ids) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.0 * ncols, 3.2 * nrows), squeeze=False)
    for ax, sid in zip(axes.ravel(), ids):
        h = history[history["series_id"] == sid].sort_values("date").tail(n_history)
        f = forecast[forecast["series_id"] == sid]
        f = f[f["chosen"]] if model == "chosen" else f[f["model"] == model]
        f = f.sort_values("date")
        ax.plot(h["date"], h["value"], color="0.25", lw=1.3, label="history")
        for j, lv in enumerate(levels):
            ax.fill_between(
                f["date"], f[f"lo_{lv}"], f[f"hi_{lv}"], color="tab:blue", alpha=0.18 + 0.17 * j, lw=0, label=f"{lv}% interval"
            )
        # connect the last actual to the first forecast so the line reads as one story
        xs = pd.concat([h["date"].tail(1), f["date"]])
        ys = np.r_[h["value"].tail(1).to_numpy(), f["forecast"].to_numpy()]
        name = f["model"].iloc[0] if model == "chosen" and len(f) else model
        ax.plot(xs, ys, color="tab:blue", lw=1.8, label=f"forecast ({name})")
        ax.set_title(str(sid), fontsize=10)
        label_axis(ax, "y", value_label, kind="money" if currency else "count", currency=currency)
        ax.set_xlabel("period")
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7, loc="upper left")
    for ax in axes.ravel()[len(ids) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_leaderboard(leaderboard: pd.DataFrame, metric: str = "mase"):
    """Horizontal bars of a backtest metric per model, seasonal naive marked as the bar to beat."""
    lb = leaderboard.set_index("model")[metric].sort_values(ascending=False)
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(lb) + 1.2))
    colours = ["tab:orange" if m == "chosen" else ("0.6" if m in ("naive", "snaive") else "tab:blue") for m in lb.index]
    ax.barh(lb.index, lb.to_numpy(), color=colours)
    if "snaive" in lb.index:
        ax.axvline(lb["snaive"], color="0.3", ls="--", lw=1, label="seasonal naive")
        ax.legend(fontsize=8, loc="lower right")
    for y, v in enumerate(lb.to_numpy()):
        ax.text(v, y, f" {v:.2f}", va="center", fontsize=8)
    ax.set_xlabel(f"backtest {metric.upper()} (lower is better; 1 = in-sample seasonal naive)")
    ax.set_title("Model leaderboard (mean over all series)")
    fig.tight_layout()
    return fig


def plot_error_by_horizon(by_horizon: pd.DataFrame):
    """Backtest MASE by forecast step for each model (how fast accuracy decays)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for model, g in by_horizon.groupby("model", sort=False):
        style = dict(ls="--", color="0.5") if model in ("naive", "snaive") else {}
        ax.plot(g["step"], g["mase"], marker="o", label=model, **style)
    ax.set_xlabel("periods ahead")
    ax.set_ylabel("mean absolute scaled error")
    ax.set_xticks(sorted(by_horizon["step"].unique()))
    ax.set_title("Error by horizon (backtest)")
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    return fig


def plot_driver_effects(effects: pd.DataFrame, by: str | None = None):
    """The regression's driver effects (:func:`marksell.forecasting.effects_table`, log scale) as
    points with 95 % interval bars, one row per driver (and value of ``by``)."""
    e = effects[effects["scale"] == "log"].reset_index(drop=True)
    labels = [f"{r['term']} ({r[by]})" if by else str(r["term"]) for _, r in e.iterrows()]
    fig, ax = plt.subplots(figsize=(6.5, 0.42 * len(e) + 1.3))
    y = np.arange(len(e))[::-1]
    err = np.vstack([e["effect_pct"] - e["lo_95_pct"], e["hi_95_pct"] - e["effect_pct"]])
    ax.errorbar(e["effect_pct"], y, xerr=err, fmt="o", color="tab:blue", ecolor="0.45", capsize=3)
    ax.axvline(0, color="0.3", lw=1)
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(e) - 0.1)  # room for the top row's label
    for yy, v in zip(y, e["effect_pct"]):
        ax.annotate(f"{v:+.1f}%", (v, yy), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set_xlabel("effect on sales of one unit of the driver, % (95% interval)")
    ax.set_title("What moves sales (regression, pooled over series)")
    fig.tight_layout()
    return fig

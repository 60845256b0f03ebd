"""Charts of a marketing mix run; each takes the tables of :func:`marksell.mmm.summary` and returns a Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from marksell.plots import label_axis, use_style

use_style()  # one palette, no offset notation, unit-labelled axes across every chart

BASELINE_PARTS = ("base", "trend", "seasonality")


def decomposition_figure(decomp: pd.DataFrame, channels: list[str], outcome: str = "outcome", unit: str = "") -> Figure:
    """Stacked contributions over time: the base (intercept, trend, season, controls) and each channel on top,
    with the actual outcome as a line; the outcome axis in ``unit`` (:func:`marksell.mmm.outcome_unit`)."""
    fig, ax = plt.subplots(figsize=(11, 4.2))
    base = decomp.drop(columns=["date", "actual", "fitted", *channels]).sum(axis=1)
    layers = [base] + [decomp[c] for c in channels]
    ax.stackplot(decomp["date"], *layers, labels=["base, season and controls", *channels], alpha=0.8)
    ax.plot(decomp["date"], decomp["actual"], color="black", lw=1, label="actual")
    # Stacked areas are read by their size: the axis starts at zero (lower only if a layer goes negative).
    low = float(min(base.min(), decomp["actual"].min(), 0.0))
    ax.set_ylim(bottom=low * 1.05)
    label_axis(ax, "y", outcome, unit=unit, kind="money" if unit else "count")
    ax.set_title(f"What made {outcome}: base and each channel's contribution")
    ax.legend(loc="upper left", ncol=min(4, len(channels) + 2), fontsize=8)
    fig.tight_layout()
    return fig


def response_figure(
    curves: pd.DataFrame, period: str = "period", ncols: int = 3, *, currency: str = "", outcome: str = "outcome", unit: str = ""
) -> Figure:
    """Long-run response curve per channel with its interval band; the dot marks today's spend. Spend axes in
    ``currency``, the response axes in ``unit`` (see :func:`marksell.mmm.outcome_unit`)."""
    chans = list(dict.fromkeys(curves["channel"]))
    nrows = max(1, int(np.ceil(len(chans) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.8 * ncols, 2.9 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_visible(False)
    for ax, c in zip(axes.ravel(), chans):
        ax.set_visible(True)
        d = curves[curves["channel"] == c]
        ax.fill_between(d["spend"], d["response_lo"], d["response_hi"], alpha=0.25)
        ax.plot(d["spend"], d["response"])
        now = d[d["current"]]
        ax.plot(now["spend"], now["response"], "o", color="black")
        ax.set_title(c, fontsize=10)
        label_axis(ax, "x", f"spend per {period}", kind="money", currency=currency)
        label_axis(ax, "y", f"extra {outcome} per {period}", unit=unit, kind="money" if unit else "count")
        ax.xaxis.label.set_fontsize(8)
        ax.yaxis.label.set_fontsize(8)
        ax.tick_params(labelsize=7)
    fig.suptitle("Response curves (dot: today's spend; band: bootstrap interval)", fontsize=11)
    fig.tight_layout()
    return fig


def carryover_figure(carry: pd.DataFrame, period: str = "period") -> Figure:
    """Share of a period's effect that arrives 0, 1, 2, ... periods later, per channel."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for c in carry.columns:
        ax.plot(carry.index, carry[c], marker="o", ms=3, label=c)
    ax.set_xlabel(f"{period}s after the spend")
    label_axis(ax, "y", "share of the effect", kind="share")
    ax.set_title("Carry-over: when the effect of spend arrives")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def share_figure(channels: pd.DataFrame) -> Figure:
    """Share of effect against share of spend per identified channel (effect above spend: efficient)."""
    d = channels[channels["identified"]].sort_values("share_of_spend", ascending=False)
    x = np.arange(len(d))
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.bar(x - 0.2, 100 * d["share_of_spend"], 0.4, label="share of spend")
    ax.bar(x + 0.2, 100 * d["share_of_effect"], 0.4, label="share of effect")
    ax.set_xticks(x, d["channel"])
    label_axis(ax, "y", "share of all channels", unit="%")
    ax.set_title("Share of effect vs share of spend")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def roas_figure(channels: pd.DataFrame, breakeven: float = 1.0) -> Figure:
    """ROAS and marginal ROAS per identified channel with their intervals; the line marks break-even."""
    d = channels[channels["identified"]].sort_values("roas")
    y = np.arange(len(d))
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(d) + 1.6))
    for off, col, label in ((0.15, "roas", "ROAS (average)"), (-0.15, "mroas", "marginal ROAS (next unit)")):
        err = np.vstack([d[col] - d[f"{col}_lo"], d[f"{col}_hi"] - d[col]]).clip(min=0)
        ax.errorbar(d[col], y + off, xerr=err, fmt="o", capsize=3, label=label)
    ax.axvline(breakeven, color="grey", ls="--", lw=1)
    ax.set_yticks(y, d["channel"])
    ax.set_xlabel("return per unit of spend")
    ax.set_title("Return on spend with intervals (dashed: break-even)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

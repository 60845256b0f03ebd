"""Charts for opportunity prioritisation; every function returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from marksell.plots import place_labels, use_style
from marksell.prioritisation.scoring import METHOD_LABELS, ge_zone

use_style()  # one palette, no offset notation, unit-labelled axes across every chart

ZONE_COLOURS = {"invest": "#b7e1b0", "selective": "#fbe7a1", "harvest": "#f4b6b0"}


def _label(ids, names: pd.Series | None) -> list[str]:
    if names is None:
        return [str(i) for i in ids]
    return [f"{names.get(i, i)} ({i})" for i in ids]


def ranking_comparison(scores: pd.DataFrame, names: pd.Series | None = None, highlight: int = 5) -> Figure:
    """Slope chart: each option's rank under each method (rank 1 at the top).

    Options in the top ``highlight`` of any method are drawn in colour and labelled; lines that
    cross show where the methods disagree.
    """
    ranks = scores[[c for c in scores.columns if c.startswith("rank_")]]
    methods = [c[5:] for c in ranks.columns]
    n = len(ranks)
    fig = plt.figure(figsize=(6.5, max(4.0, 0.28 * n + 1.5)))
    ax = fig.subplots()
    xs = np.arange(len(methods))
    hot = ranks.index[(ranks <= highlight).any(axis=1)]
    colours = dict(zip(hot, [f"C{i % 10}" for i in range(len(hot))]))
    for oid, row in ranks.iterrows():
        c = colours.get(oid, "0.75")
        hot_line = oid in colours
        ax.plot(xs, row.to_numpy(), "-o", color=c, lw=2 if hot_line else 1, ms=4, zorder=3 if hot_line else 2)
    labels = _label(ranks.index, names)
    for (oid, row), lab in zip(ranks.iterrows(), labels):
        if oid in colours:
            ax.annotate(
                lab,
                (xs[-1], row.iloc[-1]),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color=colours[oid],
            )
    ax.set_xticks(xs, [METHOD_LABELS.get(m, m) for m in methods])
    ax.set_xlim(-0.15, len(methods) - 1 + 1.0)
    ax.set_ylim(n + 0.5, 0.5)
    ax.set_ylabel("rank (1 = best)")
    ax.set_title("Rank of each opportunity by scoring method")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def rank_stability(mc, names: pd.Series | None = None, max_rank: int = 12) -> Figure:
    """Heat map: share of weight draws in which each leading option takes each rank.

    A single dark cell in a row means a stable rank; a smeared row means the rank depends on the
    weights. ``mc`` is a :class:`marksell.prioritisation.sensitivity.MonteCarloResult`.
    """
    counts = mc.rank_counts.iloc[:, :max_rank]
    order = mc.table.loc[counts.index, "rank_mean"].sort_values().index
    counts = counts.loc[order]
    fig = plt.figure(figsize=(8, 0.35 * len(counts) + 1.8))
    ax = fig.subplots()
    im = ax.imshow(counts.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            v = counts.iat[i, j]
            if v >= 0.05:
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7, color="white" if v > 0.6 else "black")
    ax.set_xticks(range(counts.shape[1]), [str(c) for c in counts.columns])
    ax.set_yticks(range(len(counts)), _label(counts.index, names), fontsize=8)
    ax.set_xlabel("rank")
    ax.set_title(f"Rank distribution over {mc.n_draws:,} weight draws ({METHOD_LABELS.get(mc.method, mc.method)})")
    fig.colorbar(im, ax=ax, label="share of draws", fraction=0.03)
    fig.tight_layout()
    return fig


def ge_bubble_matrix(
    portfolio: pd.DataFrame,
    names: pd.Series | None = None,
    size_col: str = "market_size",
    label_top: int = 6,
    order: pd.Index | None = None,
) -> Figure:
    """GE-McKinsey matrix: ability to win (x) vs market attractiveness (y), bubble area = size.

    The nine cells are shaded by zone (green invest, amber selective, red harvest). The first
    ``label_top`` options of ``order`` (default: highest attractiveness + ability) are marked by
    id, with their names listed beside the chart.
    """
    fig = plt.figure(figsize=(10, 6.5))
    ax = fig.subplots()
    if portfolio["attractiveness"].isna().all():
        ax.text(
            0.5,
            0.5,
            "GE-McKinsey matrix not available:\n" + portfolio.attrs.get("note", ""),
            ha="center",
            va="center",
            wrap=True,
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    for i in range(3):
        for j in range(3):
            zone = ge_zone((j + 0.5) / 3, (i + 0.5) / 3)
            ax.add_patch(Rectangle((i / 3, j / 3), 1 / 3, 1 / 3, color=ZONE_COLOURS[zone], alpha=0.55, lw=0))
            ax.text(i / 3 + 0.01, j / 3 + 0.01, zone, fontsize=8, color="0.35", va="bottom")
    size = portfolio[size_col] if size_col in portfolio else pd.Series(1.0, index=portfolio.index)
    area = 900 * size / size.max()
    ax.scatter(
        portfolio["ability_to_win"], portfolio["attractiveness"], s=area, c="C0", alpha=0.6, edgecolor="k", lw=0.6, zorder=3
    )
    if order is None:
        order = (portfolio["attractiveness"] + portfolio["ability_to_win"]).sort_values(ascending=False).index
    shown = list(order)[:label_top]
    place_labels(
        ax,
        [portfolio.at[o, "ability_to_win"] for o in shown],
        [portfolio.at[o, "attractiveness"] for o in shown],
        [str(o) for o in shown],
        zorder=4,
        fontweight="bold",
    )
    if names is not None and shown:
        key = "\n".join(f"{oid}  {names.get(oid, '')}" for oid in shown)
        fig.text(0.73, 0.93, key, va="top", fontsize=8, family="monospace")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xticks([1 / 6, 0.5, 5 / 6], ["low", "medium", "high"])
    ax.set_yticks([1 / 6, 0.5, 5 / 6], ["low", "medium", "high"])
    axes = portfolio.attrs.get("axes", {})
    ax.set_xlabel("ability to win" + (f" ({', '.join(axes['ability'])})" if axes.get("ability") else ""))
    ax.set_ylabel("market attractiveness" + (f" ({', '.join(axes['attractiveness'])})" if axes.get("attractiveness") else ""))
    ax.set_title("GE-McKinsey matrix" + (f" (bubble area = {size_col})" if size_col in portfolio else ""))
    fig.tight_layout(rect=(0, 0, 0.72 if names is not None else 1, 1))
    return fig


def sweep_chart(sweeps: pd.DataFrame, names: pd.Series | None = None, ncols: int = 4) -> Figure:
    """One panel per criterion: ranks of the leading options as that weight moves from 0 to 1.

    The dashed line marks the current weight; where lines cross rank 1 the top choice changes.
    """
    crits = list(dict.fromkeys(sweeps["criterion"]))
    nrows = int(np.ceil(len(crits) / ncols))
    fig = plt.figure(figsize=(3.2 * ncols, 2.6 * nrows + 0.8))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True)).ravel()
    ids = list(dict.fromkeys(sweeps["opportunity_id"]))
    max_rank = int(sweeps["rank"].max())
    for ax, crit in zip(axes, crits):
        d = sweeps[sweeps["criterion"] == crit]
        for k, oid in enumerate(ids):
            e = d[d["opportunity_id"] == oid]
            ax.plot(e["weight"], e["rank"], color=f"C{k % 10}", lw=1.6, label=_label([oid], names)[0])
        ax.axvline(d["base_weight"].iloc[0], color="k", ls="--", lw=0.8)
        ax.set_title(crit, fontsize=9)
        ax.set_ylim(max_rank + 0.5, 0.5)
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
    for ax in axes[len(crits) :]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel("rank")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(ids), 3), fontsize=8, frameon=False)
    fig.suptitle("One weight at a time: rank of the leading options (dashed = current weight)", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig

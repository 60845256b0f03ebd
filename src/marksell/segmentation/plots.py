"""Charts for customer segmentation and CLV; each function returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from marksell.plots import label_axis, use_style

use_style()  # one palette, no offset notation, unit-labelled axes across every chart


def segment_bubble_map(profiles: pd.DataFrame, label_col: str = "group", title: str = "Segment map", currency: str = ""):
    """Bubbles at (average spend per order, average orders); size = customers, colour = recency.

    ``profiles`` comes from :func:`marksell.segmentation.rfm.segment_profiles`. Both axes are on log
    scales; labels give the group's share of customers and of revenue.
    """
    fig, ax = plt.subplots(figsize=(9, 6))
    size = 2500 * profiles["customers"] / profiles["customers"].max()
    x = profiles["avg_monetary"].clip(lower=0.01)
    y = profiles["avg_frequency"]
    sc = ax.scatter(x, y, s=size, c=profiles["avg_recency_days"], cmap="viridis_r", alpha=0.7, edgecolor="k")
    order = np.argsort(np.asarray(y))
    for rank, i in enumerate(order):
        row = profiles.iloc[i]
        dy = 14 if rank % 2 == 0 else -22
        ax.annotate(
            f"{row[label_col]}\n{row['share_customers']:.0%} cust. / {row['share_revenue']:.0%} rev.",
            (x.iloc[i], y.iloc[i]),
            xytext=(0, dy),
            textcoords="offset points",
            ha="center",
            va="bottom" if dy > 0 else "top",
            fontsize=7.5,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"average net revenue per order ({currency + ', ' if currency else ''}log scale)")
    ax.set_ylabel("average orders per customer (log scale)")
    fig.colorbar(sc, ax=ax, label="average days since last order")
    ax.set_title(title)
    ax.margins(0.25)
    fig.tight_layout()
    return fig


def snake_plot(snake: pd.DataFrame, title: str = "Snake plot: standardised log RFM by cluster"):
    """One line per group across the standardised features (0 = customer-base average)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = np.arange(snake.shape[1])
    for name, row in snake.iterrows():
        ax.plot(x, row.to_numpy(), marker="o", label=str(name))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x, [c.replace("recency", "recency (high = long ago)") for c in snake.columns])
    ax.set_ylabel("standard deviations from average")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def pareto_curve(curve: pd.DataFrame, stats: dict, title: str = "Revenue concentration"):
    """Cumulative revenue share against cumulative customer share (largest customers first)."""
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot(curve["customer_share"], curve["revenue_share"], lw=2, label="customers, largest first")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="equal revenue per customer")
    if stats:
        x80 = stats["customer_share_for_80pct_revenue"]
        ax.axhline(0.8, color="C3", lw=0.8)
        ax.axvline(x80, color="C3", lw=0.8)
        ax.text(x80 + 0.02, 0.05, f"{x80:.0%} of customers\nmake 80% of revenue", color="C3")
        ax.set_title(f"{title} (Gini {stats['gini']:.2f})")
    else:
        ax.set_title(title)
    ax.set_xlabel("share of customers")
    ax.set_ylabel("share of net revenue")
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def k_selection(evidence: pd.DataFrame, chosen_k: int, stability: dict | None = None):
    """Silhouette (higher = better separated) and inertia (elbow) for each number of clusters."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(evidence["k"], evidence["silhouette"], marker="o")
    a1.axvline(chosen_k, color="C3", ls="--", label=f"chosen k = {chosen_k}")
    a1.set_xlabel("number of clusters k")
    a1.set_ylabel("silhouette (sampled)")
    a1.legend()
    a2.plot(evidence["k"], evidence["inertia"], marker="o", color="C1")
    a2.axvline(chosen_k, color="C3", ls="--")
    a2.set_xlabel("number of clusters k")
    a2.set_ylabel("inertia (within-cluster sum of squares)")
    title = "Choosing the number of clusters"
    if stability:
        title += f" - bootstrap stability ARI {stability['ari_mean']:.2f} (min {stability['ari_min']:.2f})"
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def calibration_plot(by_frequency: pd.DataFrame, title: str = "Holdout check: repeat purchases"):
    """Actual vs predicted mean holdout purchases by calibration-period repeat purchases."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = np.arange(len(by_frequency))
    ax.plot(x, by_frequency["actual"], marker="o", label="actual")
    ax.plot(x, by_frequency["predicted"], marker="s", ls="--", label="BG/NBD prediction")
    ax.set_xticks(x, by_frequency["calibration_repeats"].astype(str))
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def value_by_group(profiles: pd.DataFrame, label_col: str = "group", title: str = "Future value by group", currency: str = ""):
    """Horizontal bars of total CLV per group with the share of customers annotated."""
    p = profiles.sort_values("total_clv")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(p) + 1.5))
    ax.barh(p[label_col].astype(str), p["total_clv"], color="C2")
    for i, (v, s) in enumerate(zip(p["total_clv"], p["share_customers"])):
        ax.text(v, i, f" {s:.0%} of customers", va="center", fontsize=8)
    label_axis(ax, "x", "expected discounted margin over the horizon (total)", kind="money", currency=currency)
    ax.set_title(title)
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig

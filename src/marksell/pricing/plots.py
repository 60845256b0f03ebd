"""Charts for price elasticity; every function returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from marksell.plots import use_style
from marksell.pricing import cross_matrix
from marksell.pricing.recommend import response_curves

use_style()  # one palette, no offset notation, unit-labelled axes across every chart

METHOD_LABELS = {"ols": "naive OLS", "iv": "2SLS (instrumented)", "dml": "double ML", "ppml": "Poisson PML"}
METHOD_COLOURS = {"ols": "#d62728", "iv": "#1f77b4", "dml": "#2ca02c", "ppml": "#9467bd"}


def elasticity_forest(
    fits: pd.DataFrame, truth: dict | None = None, methods=("ols", "iv", "dml"), level: str = "product"
) -> Figure:
    """Forest plot: each product's elasticity and 95 % interval by method, planted truth as a black x.

    Naive and corrected estimates sit side by side so the gap on demand-responsive products shows;
    unidentified rows are written as "not identified" instead of a point.
    """
    sub = fits[(fits["level"] == level) & fits["method"].isin(methods)]
    products = sorted(sub["product_id"].unique())
    methods = [m for m in methods if m in set(sub["method"])]
    fig = plt.figure(figsize=(7.0, max(3.5, 0.42 * len(products) + 1.5)))
    ax = fig.subplots()
    step = 0.7 / max(len(methods), 1)
    for k, m in enumerate(methods):
        g = sub[sub["method"] == m].set_index("product_id").reindex(products)
        ys = np.arange(len(products)) + (k - (len(methods) - 1) / 2) * step
        ok = g["identified"].fillna(False).astype(bool).to_numpy()
        ax.errorbar(
            g["elasticity"][ok],
            ys[ok],
            xerr=[(g["elasticity"] - g["ci_low"])[ok], (g["ci_high"] - g["elasticity"])[ok]],
            fmt="o",
            ms=4,
            capsize=2,
            color=METHOD_COLOURS.get(m, "0.4"),
            label=METHOD_LABELS.get(m, m),
        )
        for y in ys[~ok]:
            ax.annotate(
                "not identified",
                (0, y),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color=METHOD_COLOURS.get(m, "0.4"),
            )
    if truth:
        ys = np.arange(len(products))
        tv = np.array([truth.get(p, np.nan) for p in products], dtype=float)
        ax.scatter(tv, ys, marker="x", s=50, color="black", zorder=5, label="planted truth")
    ax.axvline(-1, color="0.5", ls="--", lw=1)
    ax.text(-1, len(products) - 0.5, " e = -1", fontsize=7, color="0.4", va="bottom")
    ax.set_yticks(np.arange(len(products)), products)
    ax.set_ylim(len(products) - 0.4, -0.6)
    ax.set_xlabel("own-price elasticity (% change in units per 1 % price change)")
    ax.set_title("Own-price elasticity by product: naive vs corrected (95 % intervals)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, frameon=False)
    fig.tight_layout()
    return fig


def cross_heatmap(cross: pd.DataFrame) -> Figure:
    """One heat map per category: rows = demand of, columns = price of; off-diagonal coloured.

    Cells show the estimate with its 95 % interval below; a cell whose interval includes zero is
    greyed out (no clear effect). Red = substitutes (positive), blue = complements (negative);
    the diagonal holds the own-price elasticity in plain text.
    """
    cats = sorted(cross["category"].unique())
    fig = plt.figure(figsize=(5.0 * len(cats) + 1.0, 5.0))
    axes = np.atleast_1d(fig.subplots(1, len(cats)))
    off = cross[cross["product_id"] != cross["price_of"]]["elasticity"].abs()
    vmax = max(float(off.max()) if len(off) else 0.5, 0.2)
    for ax, cat in zip(axes, cats):
        m = cross_matrix(cross, cat)
        lo, hi = cross_matrix(cross, cat, "ci_low"), cross_matrix(cross, cat, "ci_high")
        vals = m.to_numpy(dtype=float).copy()
        clear = ((lo > 0) | (hi < 0)).to_numpy()
        shown = np.where(clear & ~np.eye(len(m), dtype=bool), vals, np.nan)
        im = ax.imshow(shown, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        for i in range(len(m)):
            for j in range(len(m)):
                if np.isnan(vals[i, j]):
                    txt = "n/a"
                else:
                    txt = f"{vals[i, j]:.2f}\n[{lo.iat[i, j]:.2f}, {hi.iat[i, j]:.2f}]"
                colour = "black" if (i == j or clear[i, j]) else "0.6"
                ax.text(
                    j, i, txt, ha="center", va="center", fontsize=6.5, color=colour, fontweight="bold" if i == j else "normal"
                )
        ax.set_xticks(range(len(m)), m.columns)
        ax.set_yticks(range(len(m)), m.index)
        ax.set_xlabel("price of")
        ax.set_ylabel("units of")
        ax.set_title(cat)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="cross-price elasticity (red = substitutes)")
    fig.suptitle("Cross-price elasticities within category (grey = interval includes 0)")
    return fig


def _relative(curves: pd.DataFrame, base: pd.Series, col: str) -> pd.Series:
    """``col`` of the response curves as a % change from its value at the current price."""
    return curves[col] / base[col] * 100 - 100


def profit_curves(recs: pd.DataFrame, products=None, span: float = 0.4) -> Figure:
    """Revenue and profit relative to today against price, with the elasticity-interval band.

    One panel per product: profit (solid) and revenue (dashed) as % of today's, the band from the
    two ends of the elasticity interval, today's price (grey line) and the recommendation (dot).
    """
    sub = recs[recs["recommended_price"].notna()]
    if products:
        sub = sub[sub["product_id"].isin(products)]
    n = len(sub)
    cols = min(4, max(n, 1))
    rows = int(np.ceil(n / cols)) if n else 1
    fig = plt.figure(figsize=(3.3 * cols, 2.7 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (_, r) in zip(axes, sub.iterrows()):
        cur = response_curves(r, span=span)
        base = cur.iloc[(cur["price"] - r["current_price"]).abs().argmin()]
        x = cur["price"] / r["current_price"] * 100 - 100
        for col, style, colour in (("profit", "-", "C0"), ("revenue", "--", "C1")):
            low, high = _relative(cur, base, f"{col}_low"), _relative(cur, base, f"{col}_high")
            ax.plot(x, _relative(cur, base, col), style, color=colour, label=col)
            ax.fill_between(x, np.minimum(low, high), np.maximum(low, high), color=colour, alpha=0.15)
        ax.axvline(0, color="0.6", lw=1)
        ax.axhline(0, color="0.85", lw=1)
        ax.plot([r["change_pct"]], [r["profit_change_pct"]], "o", color="black", ms=5)
        ax.set_title(f"{r['product_id']} (e = {r['elasticity']:.2f})", fontsize=9)
        ax.set_xlabel("price change %", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    if n:
        axes[0].set_ylabel("change vs today %", fontsize=8)
        axes[0].legend(fontsize=7)
    fig.suptitle("Profit and revenue vs price (band = elasticity 95 % interval; dot = recommendation)", fontsize=10)
    fig.tight_layout()
    return fig

"""Charts of the data audit: date coverage of every input, and where values are missing."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from marksell.plots import use_style

use_style()  # one palette, no offset notation, unit-labelled axes across every chart


def coverage_timeline(
    counts: pd.DataFrame,
    kind_col: str = "kind",
    month_col: str = "month",
    rows_col: str = "rows",
    shade_col: str = "rows_per_period",
) -> Figure:
    """Rows per month of each input as a heat strip, missing periods marked in red.

    ``counts`` is tidy (``kind, month, rows, rows_per_period``; see
    :func:`marksell.audit.rows_by_month`). Colour is ``shade_col`` (``rows_col`` if absent) relative
    to that input's busiest month, so inputs of very different sizes share one chart; blank =
    outside the input's date range.
    """
    fig, ax = plt.subplots(figsize=(11, 0.55 * max(counts[kind_col].nunique(), 1) + 1.6))
    if counts.empty:
        ax.text(0.5, 0.5, "No input with dates", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    kinds = list(dict.fromkeys(counts[kind_col]))
    months = pd.date_range(counts[month_col].min(), counts[month_col].max(), freq="MS")
    wide = counts.pivot_table(index=kind_col, columns=month_col, values=rows_col, aggfunc="sum")
    wide = wide.reindex(index=kinds, columns=months)
    shade_col = shade_col if shade_col in counts.columns else rows_col
    shade = counts.pivot_table(index=kind_col, columns=month_col, values=shade_col, aggfunc="sum")
    shade = shade.reindex(index=kinds, columns=months)
    rel = shade.div(shade.max(axis=1), axis=0)
    ax.imshow(
        np.ma.masked_invalid(rel.to_numpy(dtype=float)), aspect="auto", cmap="Blues", vmin=0, vmax=1, interpolation="nearest"
    )
    if "missing" in counts.columns:
        miss = counts.pivot_table(index=kind_col, columns=month_col, values="missing", aggfunc="max")
        miss = miss.reindex(index=kinds, columns=months).fillna(0).to_numpy(dtype=float) > 0
    else:
        miss = wide.to_numpy(dtype=float) == 0
    zi, zj = np.nonzero(miss)
    ax.scatter(zj, zi, marker="s", s=40, color="tab:red", label="month without rows")
    ax.set_yticks(range(len(kinds)))
    totals = counts.groupby(kind_col)[rows_col].sum()
    ax.set_yticklabels([f"{k} ({int(totals[k]):,} rows)" for k in kinds])
    step = max(1, len(months) // 12)
    ax.set_xticks(range(0, len(months), step))
    ax.set_xticklabels([m.strftime("%Y-%m") for m in months[::step]], rotation=45, ha="right")
    ax.set_title("Date coverage: rows per month (darker = busier month of that input)")
    if len(zi):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def missing_heatmap(matrix: pd.DataFrame) -> Figure:
    """Share of missing values per input (rows) and column (columns), percentages written in.

    ``matrix`` as from :func:`marksell.audit.missing_matrix`; grey = the input has no such column.
    """
    n_rows, n_cols = matrix.shape
    fig, ax = plt.subplots(figsize=(min(16, 2.5 + 0.55 * max(n_cols, 1)), 0.5 * max(n_rows, 1) + 2.2))
    if matrix.empty:
        ax.text(0.5, 0.5, "No input loaded", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    vals = matrix.to_numpy(dtype=float)
    absent = np.isnan(vals)
    ax.imshow(np.where(absent, 1.0, 0.0), aspect="auto", cmap=ListedColormap(["white", "0.88"]), vmin=0, vmax=1)
    shown = np.ma.masked_where(absent | (vals == 0), vals)
    vmax = max(0.05, float(np.nanmax(vals)) if np.isfinite(vals).any() else 0.05)
    im = ax.imshow(shown, aspect="auto", cmap="Reds", vmin=0, vmax=vmax)
    for i, j in zip(*np.nonzero(~absent & (vals > 0))):
        ax.text(j, i, f"{vals[i, j]:.1%}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels(matrix.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(matrix.index)
    fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01, format=PercentFormatter(xmax=1, decimals=0))
    ax.legend(
        handles=[
            Patch(facecolor="0.88", label="column not in this input"),
            Patch(facecolor="white", edgecolor="0.6", label="no missing values"),
        ],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=2,
        frameon=False,
        fontsize=8,
    )
    ax.set_title("Missing values by input and column", pad=24)
    fig.tight_layout()
    return fig

"""Charts for the KPI scorecard; every function takes a :class:`marksell.kpi.scorecard.KpiReport` and returns a Figure."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from marksell.kpi.measures import retention_matrix
from marksell.kpi.scorecard import METRICS, SCORECARD_METRICS, fmt_value
from marksell.plots import money_formatter, use_style

use_style()  # one palette, no offset notation, unit-labelled axes across every chart

STATUS_COLOURS = {
    "on target": "#b7e1b0",
    "watch": "#fbe7a1",
    "off target": "#f4b6b0",
    "no target": "#e8e8e8",
    "not available": "#ffffff",
}
_TARGET_WORD = {"higher": "target ≥", "lower": "target ≤"}


def scorecard_figure(report, metrics: list[str] | None = None, ncols: int = 4) -> Figure:
    """One screen: a tile per measure with its value, target, comparison and status colour (money in the
    report's currency)."""
    metrics = metrics or SCORECARD_METRICS
    cur = report.currency
    sc = report.scorecard.set_index("metric")
    nrows = int(np.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 1.75 * nrows + 0.6))
    for ax in np.ravel(axes):
        ax.set_axis_off()
    for ax, k in zip(np.ravel(axes), metrics):
        r = sc.loc[k]
        label, unit, direction = METRICS[k]
        ax.add_patch(plt.Rectangle((0, 0), 1, 1, transform=ax.transAxes, color=STATUS_COLOURS[r["status"]], ec="0.6", lw=0.8))
        ax.text(
            0.05, 0.82, label, transform=ax.transAxes, fontsize=9 if len(label) <= 32 else 8, weight="bold", va="center"
        )  # the longest labels ("Revenue growth vs previous period") stay inside the tile
        ax.text(0.05, 0.52, fmt_value(r["value"], unit, cur), transform=ax.transAxes, fontsize=16, va="center")
        target = (
            f"{_TARGET_WORD[direction]} {fmt_value(r['target'], unit, cur)}"
            if direction and pd.notna(r["target"])
            else r["status"]
        )
        ax.text(0.05, 0.26, target, transform=ax.transAxes, fontsize=8, color="0.25", va="center")
        cmp = (
            f"{report.compare_period.label}: {fmt_value(r['compare_value'], unit, cur)}"
            if pd.notna(r["compare_value"])
            else f"{report.compare_period.label}: n/a"
        )
        ax.text(0.05, 0.10, cmp, transform=ax.transAxes, fontsize=8, color="0.35", va="center")
        if direction and r["status"] in ("on target", "watch", "off target"):
            ax.text(
                0.95,
                0.26,
                r["status"].upper(),
                transform=ax.transAxes,
                fontsize=8,
                ha="right",
                va="center",
                weight="bold",
                color="0.2",
            )
    fig.suptitle(f"KPI scorecard {report.period.label} (vs {report.compare_period.label})", fontsize=12)
    fig.tight_layout()
    return fig


#: Growth above this (as a fraction, 2.0 = +200 %) is cut off the trend axis: early months of a young business grow
#: from a tiny base by several hundred per cent and would flatten every later month.
GROWTH_CAP = 2.0


def axis_limits(values: np.ndarray, cap: float | None = None) -> tuple[float, float, int]:
    """Y limits from the 3rd to the 97th percentile of ``values`` (padded, 0 kept in view for positive
    measures), with the top cut at ``cap`` when given; returns ``(low, high, values_above_the_top)``."""
    lo, hi = np.percentile(values, [3, 97])
    if cap is not None:
        hi = min(hi, cap)
        lo = max(lo, -1.0)  # a fall cannot be steeper than -100 %
    pad = 0.1 * (hi - lo if hi > lo else abs(hi) or 1.0)
    low = min(lo, 0) - pad if lo >= 0 else lo - pad
    high = hi + pad
    return float(low), float(high), int((values > high).sum()) if cap is not None else 0


def trend_figure(
    report,
    metrics: tuple[str, ...] = ("cac", "clv_cac", "roas", "conversion_rate", "revenue_growth_yoy", "market_share"),
    by: str | None = "channel",
) -> Figure:
    """Monthly trend of each measure (overall, bold) with its target (dashed) and, faint, by ``by``."""
    k = report.kpis
    k = k[k["period"].str.fullmatch(r"\d{4}-\d{2}")].sort_values("period", kind="stable")
    ncols = 3
    nrows = int(np.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, 3.1 * nrows), sharex=True, squeeze=False)
    for ax in np.ravel(axes)[len(metrics) :]:
        ax.set_axis_off()
    for ax, m in zip(np.ravel(axes), metrics):
        label, unit, _ = METRICS[m]
        sel = k[k["metric"] == m]
        if by is not None:
            for i, (seg, g) in enumerate(sel[sel["dimension"] == by].groupby("dimension_value")):
                ax.plot(pd.to_datetime(g["period"]), g["value"], lw=1, alpha=0.55, color=f"C{i}", label=seg)
        o = sel[sel["dimension"] == "overall"]
        x = pd.to_datetime(o["period"])
        ax.plot(x, o["value"], color="black", lw=2.2, label="overall")
        if o["target"].notna().any():
            ax.plot(x, o["target"], color="crimson", ls="--", lw=1.3, label="target")
        ax.set_title(label, fontsize=10)
        if unit == "share":
            ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.1%}"))
        elif unit == "currency":  # money ticks in the run's currency, no offset
            ax.yaxis.set_major_formatter(money_formatter(report.currency))
        vals = sel["value"].to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        if len(vals):  # robust limits: one early month of growth from a tiny base must not flatten the rest
            lo, hi, cut = axis_limits(vals, cap=GROWTH_CAP if "growth" in m else None)
            ax.set_ylim(lo, hi)
            if cut:  # said where the reader looks first, not over the lines
                ax.set_title(f"{label}\n(axis cut at {GROWTH_CAP * 100:.0f} %: {cut} value(s) above)", fontsize=9)
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        ax.grid(alpha=0.3)
    handles, labels = np.ravel(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(8, len(labels)), fontsize=8, frameon=False)
    fig.suptitle("Monthly trends with targets", fontsize=12)
    for ax in np.ravel(axes):
        plt.setp(ax.get_xticklabels(), rotation=30, fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def cohort_heatmap(report, max_months: int = 24) -> Figure:
    """Share of each acquisition cohort ordering again k months after acquisition (k >= 1)."""
    mat = retention_matrix(report.cohorts)
    mat = mat.loc[:, [c for c in mat.columns if 1 <= c <= max_months]]
    fig, ax = plt.subplots(figsize=(11, max(4.0, 0.16 * len(mat) + 1.5)))
    im = ax.imshow(mat.to_numpy(dtype=float), aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_yticks(range(len(mat)))
    ax.set_yticklabels(mat.index, fontsize=7)
    ax.set_xticks(range(len(mat.columns)))
    ax.set_xticklabels(mat.columns, fontsize=8)
    ax.set_xlabel("months since acquisition")
    ax.set_ylabel("acquisition month (cohort)")
    fig.colorbar(im, ax=ax, format=plt.FuncFormatter(lambda v, _: f"{v:.0%}"), label="customers ordering")
    ax.set_title("Cohort retention: share of each cohort ordering in the month", fontsize=11)
    fig.tight_layout()
    return fig


def channel_comparison(report) -> Figure:
    """By channel, reporting period: CAC vs CLV, CLV:CAC, ROAS and conversion (95% CI) with targets
    (None without channel economics: no channel column or no marketing funnel)."""
    t = report.tables.get("channel")
    if t is None or "cac" not in t.columns:
        return None
    tg = report.targets
    x = np.arange(len(t))
    fig, axes = plt.subplots(1, 4, figsize=(15, 4))
    w = 0.4
    axes[0].bar(x - w / 2, t["cac"], w, label="CAC", color="#d9534f")
    axes[0].bar(x + w / 2, t["clv"], w, label="CLV", color="#5cb85c")
    axes[0].set_title(f"CAC and CLV ({report.currency})" if report.currency else "CAC and CLV")
    axes[0].yaxis.set_major_formatter(money_formatter(report.currency))
    axes[0].legend(fontsize=8)
    colours = [STATUS_COLOURS.get(s, "#e8e8e8") for s in t["clv_cac_status"]]
    axes[1].bar(x, t["clv_cac"], color=colours, ec="0.4")
    axes[1].axhline(tg["clv_cac"], color="crimson", ls="--", lw=1.2, label=f"target {tg['clv_cac']:g}x")
    axes[1].axhline(1.0, color="0.3", ls=":", lw=1.2, label="pays back (1x)")
    axes[1].set_title("CLV : CAC")
    axes[1].legend(fontsize=8)
    axes[2].bar(x, t["roas"], color=[STATUS_COLOURS.get(s, "#e8e8e8") for s in t["roas_status"]], ec="0.4")
    axes[2].axhline(tg["roas"], color="crimson", ls="--", lw=1.2, label=f"target {tg['roas']:g}x")
    axes[2].set_title("Return on ad spend")
    axes[2].legend(fontsize=8)
    err = np.vstack([t["conversion_rate"] - t["conversion_rate_low"], t["conversion_rate_high"] - t["conversion_rate"]])
    axes[3].bar(
        x,
        t["conversion_rate"],
        yerr=err,
        capsize=3,
        color=[STATUS_COLOURS.get(s, "#e8e8e8") for s in t["conversion_rate_status"]],
        ec="0.4",
    )
    axes[3].axhline(tg["conversion_rate"], color="crimson", ls="--", lw=1.2, label=f"target {tg['conversion_rate']:.0%}")
    axes[3].yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    axes[3].set_title("Lead-to-customer conversion (95% CI)")
    axes[3].legend(fontsize=8)
    for ax in axes:
        ax.set_xticks(x)
        ax.set_xticklabels(t.index, rotation=30, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"Channels in {report.period.label}", fontsize=12)
    fig.tight_layout()
    return fig

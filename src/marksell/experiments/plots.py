"""Charts for an experiment run; every function takes an :class:`ExperimentRun` and returns a Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from marksell.experiments.run import ExperimentRun
from marksell.plots import use_style

use_style()  # one palette, no offset notation, unit-labelled axes across every chart

ROLE_COLOURS = {"primary": "#1f5fa8", "guardrail": "#b5651d", "secondary": "#555555"}


def lift_chart(run: ExperimentRun) -> Figure:
    """Relative lift per metric and variant with its interval (thin grey: without CUPED)."""
    r = run.results.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(r) + 1.4))
    y = np.arange(len(r))[::-1]
    for yi, (_, row) in zip(y, r.iterrows()):
        colour = ROLE_COLOURS[row["role"]]
        if row["cuped"]:
            ax.plot(
                [100 * row["raw_rel_ci_low"], 100 * row["raw_rel_ci_high"]], [yi, yi], color="0.75", lw=6, solid_capstyle="butt"
            )
        ax.plot([100 * row["rel_ci_low"], 100 * row["rel_ci_high"]], [yi, yi], color=colour, lw=2.5)
        ax.plot(100 * row["rel_lift"], yi, "o", color=colour)
    ax.axvline(0, color="0.3", lw=0.8)
    for metric, tol in ((m, t) for m, t in zip(run.guardrails["metric"], run.guardrails["tolerated_drop"])):
        rows = y[(r["metric"] == metric).to_numpy()]
        ax.plot([-100 * tol] * len(rows), rows, "|", color=ROLE_COLOURS["guardrail"], ms=16, mew=2)
    ax.set_yticks(y, [f"{m} ({v})" for m, v in zip(r["metric"], r["variant"])])
    ax.set_xlabel(f"relative lift vs {run.control}, % ({1 - run.alpha:.0%} interval; grey: without CUPED; | tolerated drop)")
    ax.set_title("Lift by metric and variant")
    fig.tight_layout()
    return fig


def peeking_chart(run: ExperimentRun, metric: str | None = None) -> Figure:
    """Fixed-horizon interval and p-value at every daily look beside the always-valid interval."""
    metric = metric or run.primary_metric
    looks = run.looks[run.looks["metric"] == metric]
    variants = list(dict.fromkeys(looks["variant"]))
    fig, axes = plt.subplots(2, len(variants), figsize=(max(8.0, 5.5 * len(variants)), 6), sharex="col", squeeze=False)
    for j, v in enumerate(variants):
        g = looks[looks["variant"] == v]
        ax = axes[0, j]
        ax.fill_between(g["look"], g["seq_ci_low"], g["seq_ci_high"], color="#1f5fa8", alpha=0.18, label="always-valid interval")
        ax.fill_between(g["look"], g["ci_low"], g["ci_high"], color="#d62728", alpha=0.25, label="fixed-horizon interval")
        ax.plot(g["look"], g["abs_lift"], color="k", lw=1.2, label="estimate")
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_title(f"{metric}: {v} - {run.control}")
        ax.set_ylabel("absolute lift")
        ax.legend(fontsize=8, loc="best")
        ax = axes[1, j]
        ax.plot(g["look"], g["p_value"], color="#d62728", label="fixed-horizon p-value")
        ax.plot(g["look"], g["seq_p_value"], color="#1f5fa8", label="always-valid p-value")
        ax.axhline(run.alpha, color="0.3", ls="--", lw=0.8, label=f"alpha = {run.alpha:g}")
        ax.set_yscale("log")
        ax.set_ylabel("p-value")
        ax.legend(fontsize=8, loc="best")
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle("Daily looks: a fixed-horizon interval is valid at one planned look only")
    fig.tight_layout()
    return fig


def segment_chart(run: ExperimentRun, metric: str | None = None) -> Figure:
    """Absolute lift of the primary metric by segment level, with intervals and the pooled lift."""
    metric = metric or run.primary_metric
    s = run.segment_effects[run.segment_effects["metric"] == metric].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(s) + 1.4))
    y = np.arange(len(s))[::-1]
    ax.errorbar(
        s["abs_lift"], y, xerr=[s["abs_lift"] - s["ci_low"], s["ci_high"] - s["abs_lift"]], fmt="o", color="#1f5fa8", capsize=3
    )
    overall = run.results[run.results["metric"] == metric]
    for _, o in overall.iterrows():
        ax.axvline(o["abs_lift"], color="0.5", ls="--", lw=0.8)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y, [f"{c}={lv} ({v})" for c, lv, v in zip(s["segment_column"], s["level"], s["variant"])])
    ax.set_xlabel(f"absolute lift in {metric} (dashed: whole test)")
    ax.set_title("Lift by segment (for reading, not for decisions)")
    fig.tight_layout()
    return fig

"""An experiment run's artifacts, headline tables and finding sentences, all built from the results.

Nothing here knows which data it runs on: every sentence is assembled from the numbers of the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.experiments.effects import RESULT_COLUMNS
from marksell.experiments.health import HEALTH_COLUMNS
from marksell.experiments.power import POWER_COLUMNS
from marksell.experiments.run import ExperimentRun

#: Extra columns of ``results.csv`` after the issue's columns.
EXTRA_RESULT_COLUMNS = [
    "kind",
    "role",
    "correction",
    "control_n",
    "se",
    "raw_ci_low",
    "raw_ci_high",
    "raw_rel_ci_low",
    "raw_rel_ci_high",
    "raw_p_value",
    "theta",
    "expected_loss",
    "prior",
]


def _pct(x: float, signed: bool = True) -> str:
    return "n/a" if not np.isfinite(x) else (f"{x:+.1%}" if signed else f"{x:.1%}")


def _p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else (f"{p:.2g}" if p >= 1e-4 else "< 0.0001")


def results_table(run: ExperimentRun) -> pd.DataFrame:
    """``results.csv``: one row per metric and treatment variant."""
    return run.results[RESULT_COLUMNS + EXTRA_RESULT_COLUMNS].reset_index(drop=True)


def health_table(run: ExperimentRun) -> pd.DataFrame:
    """``health.csv``: check, value, p_value, status, detail."""
    return run.health[HEALTH_COLUMNS]


def power_table(run: ExperimentRun) -> pd.DataFrame:
    """``power.csv``: the planner's rows for the primary metric."""
    return run.power[POWER_COLUMNS]


def headline(run: ExperimentRun) -> pd.DataFrame:
    """The rounded table a reader checks first: lift, interval, p-values and chance to beat control."""
    r = run.results
    out = pd.DataFrame(
        {
            "metric": r["metric"],
            "variant": r["variant"],
            "role": r["role"],
            "control": r["control_mean"].round(4),
            "variant_mean": r["mean"].round(4),
            "lift_%": (100 * r["rel_lift"]).round(1),
            "interval_%": [f"{100 * lo:+.1f} to {100 * hi:+.1f}" for lo, hi in zip(r["rel_ci_low"], r["rel_ci_high"])],
            "p_adjusted": r["p_adjusted"].map(_p),
            "cuped": r["cuped"],
            "variance_removed_%": (100 * r["variance_reduction"]).round(0),
            "chance_to_beat_%": (100 * r["prob_beat_control"]).round(1),
        }
    )
    return out.reset_index(drop=True)


def decision_table(run: ExperimentRun) -> pd.DataFrame:
    """Decision and reasons per treatment variant."""
    return run.decisions.copy()


def health_sentences(run: ExperimentRun) -> list[str]:
    srm = run.srm
    obs = ", ".join(f"{v} {s:.1%}" for v, s in zip(srm["variants"], srm["observed_share"]))
    plan = ", ".join(f"{v} {s:.1%}" for v, s in zip(srm["variants"], srm["planned_share"]))
    if srm["flagged"]:
        out = [
            f"SAMPLE RATIO MISMATCH: the variants hold {obs} of the units against a planned {plan} "
            f"(chi-square p = {_p(srm['p_value'])}). Assignment or logging lost or added units unevenly; "
            f"do not trust any lift below until the cause is found and fixed."
        ]
    else:
        out = [f"The split ({obs}) is consistent with the plan ({plan}); chi-square p = {_p(srm['p_value'])}."]
    for _, h in run.health.iloc[1:].iterrows():
        if h["status"] in ("failed", "warning"):
            out.append(f"Health check {h['check']} {h['status']}: {h['detail']}.")
    return out


def effect_sentences(run: ExperimentRun) -> list[str]:
    out = []
    level = f"{1 - run.alpha:.0%}"
    for _, r in run.results.iterrows():
        if r["role"] == "secondary" and not r["p_adjusted"] < run.alpha:
            continue
        name = {"primary": "primary metric", "guardrail": "guardrail", "secondary": "metric"}[r["role"]]
        out.append(
            f"{r['variant']} vs {run.control}, {name} {r['metric']}: {_pct(r['rel_lift'])} relative "
            f"({level} interval {_pct(r['rel_ci_low'])} to {_pct(r['rel_ci_high'])}), "
            f"{r['correction']}-adjusted p = {_p(r['p_adjusted'])}, chance to beat control "
            f"{r['prob_beat_control']:.1%}."
        )
    hidden = int(((run.results["role"] == "secondary") & ~(run.results["p_adjusted"] < run.alpha)).sum())
    if hidden:
        what = "other comparison shows" if hidden == 1 else "other metric/variant comparisons show"
        out.append(f"{hidden} {what} no significant change after the Benjamini-Hochberg correction.")
    for _, r in run.results[run.results["cuped"]].iterrows():
        narrower = 1 - np.sqrt(max(1 - r["variance_reduction"], 0.0))
        out.append(
            f"CUPED on {r['metric']} ({r['variant']}) removed {r['variance_reduction']:.0%} of the "
            f"variance: the interval is {narrower:.0%} narrower than without the covariate."
        )
    return out


def sequential_sentences(run: ExperimentRun) -> list[str]:
    if run.first_significant is None:
        return []
    out = []
    first = run.first_significant[run.first_significant["metric"] == run.primary_metric]
    for _, f in first.iterrows():
        fixed, seq = f["first_fixed_significant"], f["first_sequential_significant"]
        fixed_text = (
            f"a fixed-horizon test would have looked significant first on {fixed:%Y-%m-%d}"
            if pd.notna(fixed)
            else "the fixed-horizon p-value never fell below alpha"
        )
        seq_text = (
            f"the always-valid interval first excluded zero on {seq:%Y-%m-%d}"
            if pd.notna(seq)
            else "the always-valid interval never excluded zero"
        )
        out.append(f"Looking daily at {run.primary_metric} for {f['variant']} ({f['looks']} looks): {fixed_text}; {seq_text}.")
    return out


def segment_sentences(run: ExperimentRun) -> list[str]:
    if run.heterogeneity is None or run.heterogeneity.empty:
        return []
    out = []
    h = run.heterogeneity[run.heterogeneity["metric"] == run.primary_metric]
    for _, q in h.iterrows():
        verdict = (
            "the effect differs between levels"
            if q["p_value"] < run.alpha
            else "no evidence that the effect differs between levels"
        )
        out.append(
            f"{run.primary_metric}, {q['variant']} by {q['segment_column']} ({q['levels']} levels): "
            f"Cochran's Q p = {_p(q['p_value'])}, I² = {q['i2']:.0%}: {verdict}."
        )
    return out


def plan_sentences(run: ExperimentRun) -> list[str]:
    p = run.power[run.power["basis"] == "planned effect"]
    out = []
    for _, r in p.iterrows():
        days = (
            f", {int(r['days_needed'])} days at {r['traffic_per_day']:.0f} units a day" if np.isfinite(r["days_needed"]) else ""
        )
        out.append(
            f"Detecting a {r['relative_mde']:.0%} relative change in {r['metric']} (baseline "
            f"{r['baseline']:.4g}) with {r['power']:.0%} power at alpha {r['alpha']:g} takes "
            f"{int(r['units_total']):,} units{days}."
        )
    now = run.power[run.power["basis"] == "this test's size"]
    if len(now):
        out.append(f"At this test's size the smallest detectable change is {now.iloc[0]['relative_mde']:.1%} relative.")
    return out


def findings(run: ExperimentRun) -> list[str]:
    """Every finding sentence, health first, decisions last."""
    decisions = [f"{d['variant']}: {d['decision'].upper()} ({d['reasons']})." for _, d in run.decisions.iterrows()]
    return (
        health_sentences(run)
        + effect_sentences(run)
        + sequential_sentences(run)
        + segment_sentences(run)
        + plan_sentences(run)
        + run.notes
        + decisions
    )


def summary(run: ExperimentRun) -> dict:
    """``summary.json``: SRM p-value, the decision per variant and the headline figures."""
    prim = run.results[run.results["metric"] == run.primary_metric].set_index("variant")
    return {
        "control": run.control,
        "variants": run.variants,
        "primary_metric": run.primary_metric,
        "metrics": [m.name for m in run.metrics],
        "alpha": run.alpha,
        "srm_p_value": run.srm["p_value"],
        "srm_flagged": run.srm["flagged"],
        "units": {
            str(v): int(n) for v, n in run.moments.table.drop_duplicates("variant")[["variant", "n"]].itertuples(index=False)
        },
        "decisions": {d["variant"]: {"decision": d["decision"], "reasons": d["reasons"]} for _, d in run.decisions.iterrows()},
        "primary": {
            v: {
                "rel_lift": r["rel_lift"],
                "rel_ci_low": r["rel_ci_low"],
                "rel_ci_high": r["rel_ci_high"],
                "p_adjusted": r["p_adjusted"],
                "prob_beat_control": r["prob_beat_control"],
            }
            for v, r in prim.iterrows()
        },
        "prior": run.prior,
        "notes": run.notes,
        "sequential": _sequential(run),
        "warnings": health_sentences(run)[:1] if run.srm["flagged"] else [],  # no lift is trustworthy: run `warning`
    }


def _sequential(run: ExperimentRun) -> dict:
    """The primary metric's always-valid interval at the last look, per variant (empty without looks)."""
    if run.looks is None:
        return {}
    last = run.looks[run.looks["metric"] == run.primary_metric].groupby("variant", sort=False).tail(1)
    return {
        str(v): {"seq_ci_low": lo, "seq_ci_high": hi, "seq_p_value": p}
        for v, lo, hi, p in zip(last["variant"], last["seq_ci_low"], last["seq_ci_high"], last["seq_p_value"])
    }


#: Kinds for ``reporting.tables.table`` where a column's name does not say it (see :func:`display_kinds`).
_KINDS = {
    "lift_%": "percent",
    "variance_removed_%": "percent",
    "chance_to_beat_%": "percent",
    "interval_%": "figure",
    "p_adjusted": "figure",
    "control": "estimate",
    "variant_mean": "estimate",
    "baseline": "estimate",
    "sd": "estimate",
    "absolute_mde": "estimate",
    "relative_mde": "share",
    "tolerated_drop": "share",
    "rel_lift": "share",
    "rel_ci_low": "share",
    "rel_ci_high": "share",
    "alpha": "share",
    "power": "share",
    "i2": "share",
    "pooled": "estimate",
    "value": "estimate",
    "p_value": "estimate",
    "q": "estimate",
    "df": "count",
    "traffic_per_day": "number",
}


def display_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Kinds for the experiment tables: lifts already in %, means of metrics of any size with significant
    digits, relative effects and planned shares as percentages, texts that hold numbers right-aligned."""
    return {c: k for c, k in _KINDS.items() if c in frame.columns}

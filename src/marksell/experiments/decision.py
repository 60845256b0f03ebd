"""The decision per variant, with its reasons, derived from the results in a fixed order.

1. **test invalid** when a health check failed (sample ratio mismatch, units in several variants,
   a split that drifts over time): no lift from a broken test can be trusted.
2. **do not ship** when a guardrail is breached (its whole interval lies below the tolerated drop)
   or the primary metric is significantly worse.
3. **ship** when the primary metric is significantly better (Holm-adjusted p below alpha, or the
   always-valid interval excludes zero when results are read sequentially) and every guardrail is
   shown to stay within its tolerance.
4. **keep running** when the primary lift is significant but a guardrail is not yet shown safe, or
   when it is not significant and its interval still includes lifts of at least ``min_effect``.
5. **do not ship** when it is not significant and the interval rules out any lift of
   ``min_effect`` or more (the change is at best too small to matter).
"""

from __future__ import annotations

import pandas as pd

DECISIONS = ("ship", "do not ship", "keep running", "test invalid")


def _pct(x: float) -> str:
    return f"{x:+.1%}"


def decide(
    results: pd.DataFrame,
    health: pd.DataFrame,
    guardrails: pd.DataFrame,
    primary: str,
    alpha: float,
    min_effect: float = 0.0,
    sequential: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per treatment variant: ``variant, decision, reasons`` (reasons joined by '; ')."""
    failed = health[health["status"] == "failed"]
    rows = []
    prim = results[results["metric"] == primary].set_index("variant")
    for variant, r in prim.iterrows():
        reasons: list[str] = []
        if len(failed):
            reasons = [f"health check '{c}' failed ({d})" for c, d in zip(failed["check"], failed["detail"])]
            rows.append(
                {
                    "variant": variant,
                    "decision": "test invalid",
                    "reasons": "; ".join(reasons + ["do not trust the lifts until the cause is found"]),
                }
            )
            continue
        g = guardrails[guardrails["variant"] == variant]
        breached = g[g["status"] == "breached"]
        unsure = g[g["status"] == "inconclusive"]
        for _, b in breached.iterrows():
            reasons.append(
                f"guardrail {b['metric']} changed {_pct(b['rel_lift'])} (interval "
                f"{_pct(b['rel_ci_low'])} to {_pct(b['rel_ci_high'])}), beyond the tolerated "
                f"{b['tolerated_drop']:.1%} drop"
            )
        if sequential is not None and variant in set(sequential["variant"]):
            s = sequential[sequential["variant"] == variant].iloc[-1]
            significant = bool(s["seq_ci_low"] > 0 or s["seq_ci_high"] < 0)
            basis = (
                f"always-valid interval {s['seq_ci_low']:.4g} to {s['seq_ci_high']:.4g} "
                f"({'excludes' if significant else 'includes'} zero)"
            )
        else:
            significant = bool(r["p_adjusted"] < alpha)
            basis = f"Holm-adjusted p = {r['p_adjusted']:.3g} ({'<' if significant else '>='} {alpha:g})"
        lift = f"{primary} {_pct(r['rel_lift'])} relative (interval {_pct(r['rel_ci_low'])} to {_pct(r['rel_ci_high'])}), {basis}"
        if len(breached):
            decision = "do not ship"
        elif significant and r["abs_lift"] < 0:
            decision, reasons = "do not ship", [f"{lift}: significantly worse"]
        elif significant:
            if len(unsure):
                decision = "keep running"
                reasons = [f"{lift}: significantly better"] + [
                    f"guardrail {m} not yet shown within its {t:.1%} tolerance (lower end {_pct(lo)})"
                    for m, t, lo in zip(unsure["metric"], unsure["tolerated_drop"], unsure["rel_ci_low"])
                ]
            else:
                decision = "ship"
                reasons = [f"{lift}: significantly better"] + (["every guardrail within its tolerance"] if len(g) else [])
        elif r["rel_ci_high"] < min_effect:
            decision = "do not ship"
            reasons = [f"{lift}: not significant, and the interval rules out a lift of {min_effect:.1%} or more"]
        else:
            decision = "keep running"
            reasons = [f"{lift}: not significant yet; lifts up to {_pct(r['rel_ci_high'])} are still possible"]
        rows.append({"variant": variant, "decision": decision, "reasons": "; ".join(reasons)})
    return pd.DataFrame(rows, columns=["variant", "decision", "reasons"])

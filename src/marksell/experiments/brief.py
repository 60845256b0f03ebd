"""The experiment's executive summary, from its ``summary.json``: the decision per variant with the primary
lift, how sure (adjusted p, chance to beat control, the always-valid interval when read daily), what to do,
and what was skipped. Copes with a summary that lacks any part."""

from __future__ import annotations

from marksell.reporting.brief import Brief

ACTIONS = {
    "ship": "ship",
    "do not ship": "keep {control} rather than",
    "keep running": "keep testing",
    "test invalid": "fix the test before acting on",
}


def _pct(x) -> str:
    return f"{x:+.1%}" if isinstance(x, (int, float)) else "n/a"


def _action(decisions: dict, control: str) -> str:
    by: dict[str, list[str]] = {}
    for variant, d in decisions.items():
        if isinstance(d, dict):
            by.setdefault(str(d.get("decision")), []).append(str(variant))
    if "test invalid" in by:
        return "Do not act on these lifts: find and fix what lost or added units, then run the test again."
    parts = []
    if "ship" in by:
        parts.append(f"Ship {', '.join(by['ship'])}" + (" (the one with the largest lift)" if len(by["ship"]) > 1 else "") + ".")
    if "do not ship" in by:
        parts.append(f"Keep {control} rather than {', '.join(by['do not ship'])}.")
    if "keep running" in by:
        parts.append(f"Keep testing {', '.join(by['keep running'])}: the evidence is not yet enough to decide.")
    return " ".join(parts)


def brief(summary: dict) -> Brief:
    """Three to five sentences from the experiment's ``summary.json``."""
    metric = summary.get("primary_metric") or "the primary metric"
    control = summary.get("control") or "control"
    level = f"{1 - float(summary.get('alpha') or 0.05):.0%}"
    primary = {v: r for v, r in (summary.get("primary") or {}).items() if isinstance(r, dict)}
    decisions = {v: d for v, d in (summary.get("decisions") or {}).items() if isinstance(d, dict)}
    answer = []
    if summary.get("srm_flagged"):
        answer.append(
            f"The test is not sound: the variants' unit counts differ from the planned split "
            f"(sample ratio mismatch, p = {summary.get('srm_p_value', float('nan')):.2g})."
        )
    for variant, r in primary.items():
        decision = (decisions.get(variant) or {}).get("decision")
        answer.append(
            f"{variant} vs {control}: "
            + (f"{decision}; " if decision else "")
            + f"{metric} {_pct(r.get('rel_lift'))} ({level} interval {_pct(r.get('rel_ci_low'))} to "
            f"{_pct(r.get('rel_ci_high'))})."
        )
    if not answer:
        answer = [f"No variant could be compared with {control} on {metric}."]
    sure = [
        f"{v}: adjusted p = {r['p_adjusted']:.2g}, chance to beat {control} {r['prob_beat_control']:.0%}"
        for v, r in primary.items()
        if isinstance(r.get("p_adjusted"), (int, float)) and isinstance(r.get("prob_beat_control"), (int, float))
    ]
    confidence = "; ".join(sure) + ("." if sure else "")
    seq = {v: s for v, s in (summary.get("sequential") or {}).items() if isinstance(s, dict)}
    if seq:
        open_ = [v for v, s in seq.items() if s.get("seq_ci_low", 0) <= 0 <= s.get("seq_ci_high", 0)]
        confidence += (
            f" Read daily, the always-valid interval still includes zero for {', '.join(open_)}."
            if open_
            else " Read daily, the always-valid interval excludes zero for every variant."
        )
    return Brief(
        answer,
        confidence=confidence.strip(),
        action=_action(decisions, control),
        skipped=[str(n) for n in summary.get("notes") or []],
    )

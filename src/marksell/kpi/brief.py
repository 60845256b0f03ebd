"""The KPI scorecard's executive summary: which measures are on target, which are not, and the channel verdicts."""

from __future__ import annotations

from marksell.reporting.brief import Brief


def brief(summary: dict) -> Brief:
    """Three to five sentences from the KPI summary.json."""
    rows = [r for r in summary.get("scorecard") or [] if isinstance(r, dict)]
    rated = [r for r in rows if r.get("status") in ("on target", "watch", "off target")]
    off = [r["metric"].replace("_", " ") for r in rated if r.get("status") == "off target"]
    on = sum(1 for r in rated if r.get("status") == "on target")
    answer = [f"{summary.get('period', 'The period')}: {on} of {len(rated)} measures with a target are on target."]
    if off:
        answer.append("Off target: " + ", ".join(off) + ".")
    revenue = next((r for r in rows if r.get("metric") == "revenue" and r.get("sentence")), None)
    if revenue:
        answer.append(revenue["sentence"])
    verdict = summary.get("channel_verdict") or {}
    losers = sorted(c for c, v in verdict.items() if isinstance(v, dict) and v.get("pays_back") is False)
    if verdict:
        answer.append(
            f"{len(verdict) - len(losers)} of {len(verdict)} channels pay back their acquisition cost"
            + (f"; {', '.join(losers)} {'does' if len(losers) == 1 else 'do'} not." if losers else ".")
        )
    action = (
        f"Review spend on {', '.join(losers)} first."
        if losers
        else "Keep the channel mix; look at the measures off target."
        if off
        else "Stay the course."
    )
    return Brief(
        answer,
        confidence="Measures are computed from the data as given; targets come from the parameters.",
        action=action,
        skipped=[str(n) for n in summary.get("notes") or []],
    )

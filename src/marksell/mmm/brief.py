"""The marketing mix's executive summary: what each channel returns, where the next euro goes, how sure we are."""

from __future__ import annotations

from marksell.reporting.brief import Brief, amount


def brief(summary: dict) -> Brief:
    """Three to five sentences from the marketing-mix summary.json."""
    channels = {c: v for c, v in (summary.get("channels") or {}).items() if isinstance(v, dict)}
    answer = []
    ranked = sorted(channels.items(), key=lambda kv: kv[1].get("mroas") or 0.0, reverse=True)
    if ranked:
        best, worst = ranked[0], ranked[-1]
        answer.append(
            f"The next unit of spend returns most in {best[0]} ({best[1]['mroas']:.2f} per unit) "
            f"and least in {worst[0]} ({worst[1]['mroas']:.2f})."
        )
        answer.append("Return on all spend so far: " + ", ".join(f"{c} {v['roas']:.2f}" for c, v in ranked) + ".")
    uplift = summary.get("uplift") or {}
    unit = str(summary.get("outcome_unit") or "")  # the currency when the outcome is money
    if uplift.get("value") is not None:
        interval = (
            f" (interval {amount(uplift['lo'], unit)} to {amount(uplift['hi'], unit)})"
            if uplift.get("lo") is not None and uplift.get("hi") is not None
            else ""
        )
        answer.append(
            f"Moving the same budget as recommended adds {amount(uplift['value'], unit)} of "
            f"{summary.get('outcome') or 'outcome'} per {summary.get('period') or 'period'}{interval}."
        )
    if not answer:
        answer = ["No channel could be measured in this data."]
    holdout = (summary.get("accuracy") or {}).get("holdout") or {}
    confidence = (
        f"On the held-out last {holdout.get('n')} periods the model's error was {holdout['mape']:.1f} % (MAPE)."
        if holdout.get("mape") is not None and holdout["mape"] == holdout["mape"]
        else ""
    )
    skipped = [f"{c}: not identified ({reason})" for c, reason in (summary.get("not_identified") or {}).items()]
    skipped += [str(n) for n in summary.get("notes") or []]
    action = (
        "Shift budget towards the channels with the highest return on the next unit, within the change "
        "limit, and confirm the largest moves with a lift test."
        if ranked
        else "Vary spend by channel over time (or run lift tests) so that each channel's effect can be measured."
    )
    return Brief(answer, confidence=confidence, action=action, skipped=skipped)

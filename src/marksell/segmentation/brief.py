"""The segmentation's executive summary: who the customers are, what they are worth, how sure we are."""

from __future__ import annotations

from marksell.reporting.brief import Brief, amount, share


def brief(summary: dict) -> Brief:
    """Three to five sentences from the segmentation's summary.json."""
    conc = summary.get("concentration") or {}
    clusters = summary.get("clusters") or {}
    clv = summary.get("clv") or {}
    answer = [f"{int(summary.get('customers') or 0):,} customers analysed, as of {str(summary.get('as_of', ''))[:10]}."]
    if conc.get("top_20pct_revenue_share") is not None:
        answer.append(f"The top 20 % of customers bring {share(conc['top_20pct_revenue_share'])} of revenue.")
    if clusters.get("k"):
        answer.append(f"They fall into {clusters['k']} groups that behave alike.")
    if clv.get("available") and clv.get("total_clv") is not None:
        total = amount(clv["total_clv"], summary.get("currency") or "")
        answer.append(f"Their expected future value (CLV) totals {total}.")
    sure = []
    stable = (clusters.get("stability") or {}).get("stable")
    if stable is not None:
        sure.append(
            "The groups are stable when customers are resampled."
            if stable
            else "The groups shift when customers are resampled: treat their borders as soft."
        )
    error = (summary.get("holdout") or {}).get("total_error_pct")
    if error is not None:
        sure.append(f"On held-out months the CLV model missed total repeat purchases by {abs(error):.1f} %.")
    skipped = [] if clv.get("available", True) else [f"Lifetime value: {clv.get('reason') or 'not computed'}."]
    action = (
        "Keep the most valuable groups first, and spend on winning back lapsed customers only where their "
        "expected value covers the cost."
        if clv.get("available")
        else "Use the groups to tailor offers; add order history to estimate what each customer is worth."
    )
    return Brief(answer, confidence=" ".join(sure), action=action, skipped=skipped)

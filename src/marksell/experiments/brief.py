"""The experiment's executive summary: did a variant win, by how much, how sure, and what to do."""

from __future__ import annotations

from marksell.reporting.brief import Brief, share

ACTIONS = {"ship": "ship it", "do not ship": "do not ship it", "keep running": "keep the test running",
           "test invalid": "fix the test and run it again"}


def brief(summary: dict) -> Brief:
    """Three to five sentences from the experiment summary.json."""
    metric = summary.get("primary_metric") or "the primary metric"
    control = summary.get("control") or "control"
    primary = summary.get("primary") or {}
    answer = []
    for variant, r in primary.items():
        if not isinstance(r, dict) or r.get("rel_lift") is None:
            continue
        low, high = r.get("rel_ci_low"), r.get("rel_ci_high")
        interval = f" (95 % interval {low:+.1%} to {high:+.1%})" if low is not None and high is not None else ""
        answer.append(f"{variant} moved {metric} by {r['rel_lift']:+.1%} against {control}{interval}.")
    if not answer:
        answer = [f"No variant of {metric} could be compared with {control}."]
    sure = []
    if summary.get("srm_flagged"):
        sure.append(f"The split of units is not the one planned (sample ratio mismatch, p = "
                    f"{summary.get('srm_p_value', float('nan')):.2g}): do not trust these effects.")
    chances = [f"{v} beats {control} with probability {share(r['prob_beat_control'])}"
               for v, r in primary.items() if isinstance(r, dict) and r.get("prob_beat_control") is not None]
    if chances:
        sure.append("; ".join(chances) + f" ({summary.get('prior') or 'stated'} prior).")
    decisions = summary.get("decisions") or {}
    action = " ".join(f"{v}: {ACTIONS.get(d.get('decision'), d.get('decision'))} ({d.get('reasons')})."
                      for v, d in decisions.items() if isinstance(d, dict))
    return Brief(answer, confidence=" ".join(sure), action=action,
                 skipped=[str(n) for n in summary.get("notes") or []])

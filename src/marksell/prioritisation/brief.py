"""The prioritisation's executive summary: what to pursue first, how robust the order is, what would change it."""

from __future__ import annotations

from marksell.reporting.brief import Brief, share


def brief(summary: dict, names: dict | None = None) -> Brief:
    """Three to five sentences from the prioritisation's summary.json (``names``: id -> display name)."""
    names = names or summary.get("names") or {}
    methods = list(summary.get("methods") or [])
    tops = summary.get("top_choice") or {}
    first = tops.get(methods[0]) if methods else next(iter(tops.values()), None)
    label = lambda i: f"{names.get(i, i)}" if i is not None else "none"  # noqa: E731 - a name or the id
    n = int(summary.get("n_opportunities") or 0)
    agree = len(set(tops.values())) == 1 if tops else False
    answer = [
        f"Of {n} options, {label(first)} comes first" + (" under every scoring method." if agree and len(tops) > 1 else ".")
    ]
    stab = (summary.get("stability") or {}).get(methods[0], {}) if methods else {}
    confidence = ""
    if stab.get("p_first_of_top_choice") is not None:
        confidence = (
            f"It stays first in {share(stab['p_first_of_top_choice'])} of {int(stab.get('n_draws', 0)):,} "
            "random re-weightings of the criteria."
        )
    flip = summary.get("smallest_weight_change_to_change_top") or {}
    if flip.get("criterion"):
        answer.append(
            f"Only a weight of {flip['weight_needed']:.2f} on {flip['criterion']} (now {flip['weight']:.2f}) "
            f"would put {label(flip.get('new_top'))} first instead."
        )
    top_k = (summary.get("top_k_by_method") or {}).get(methods[0], []) if methods else []
    if len(top_k) > 1:
        answer.append("The shortlist: " + ", ".join(label(i) for i in top_k) + ".")
    return Brief(
        answer,
        confidence=confidence,
        action=f"Start with {label(first)}; revisit the order if the weights the business agrees change.",
    )

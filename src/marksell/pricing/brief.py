"""The pricing analysis's executive summary: how volumes respond to price, and what the prices should be."""

from __future__ import annotations

from marksell.reporting.brief import Brief

METHOD_NAMES = {"ols": "plain regression", "iv": "two-stage least squares", "dml": "double machine learning"}


def brief(summary: dict) -> Brief:
    """Three to five sentences from the pricing summary.json."""
    methods = summary.get("methods") or {}
    settings = summary.get("settings") or {}
    used = settings.get("recommend_with") if settings.get("recommend_with") in methods else next(iter(methods), None)
    stats = methods.get(used, {}) if used else {}
    n = int(summary.get("n_products") or 0)
    answer = [f"Price elasticities estimated for {stats.get('identified', 0)} of {n} products ({used or 'no method'})."]
    median = stats.get("median_elasticity")
    if median is not None:
        answer.append(
            f"The typical product loses {abs(median):.1f} % of its volume for a 1 % price rise"
            + (" (elastic: price cuts pay in revenue)." if median < -1 else " (inelastic).")
        )
    recs = summary.get("recommendations") or {}
    if recs:
        answer.append("Price recommendations: " + ", ".join(f"{v} {k}" for k, v in recs.items()) + ".")
    respond = summary.get("prices_respond_to_demand") or []
    confidence = (
        f"Prices react to demand for {len(respond)} product(s), so the plain regression is biased there; "
        "the instrumented estimates correct for it."
        if respond and used != "ols"
        else "Intervals in the tables show the uncertainty of each estimate."
    )
    skipped = [f"{m}: {k} product(s) not identified" for m, s in methods.items() for k in [s.get("not_identified", 0)] if k]
    return Brief(
        answer,
        confidence=confidence,
        action="Move the prices marked optimal step by step and watch volumes; test large changes first.",
        skipped=skipped,
    )

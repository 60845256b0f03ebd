"""The forecast's executive summary: how accurate the forecaster is, how wide the ranges, what moves sales."""

from __future__ import annotations

from marksell.reporting.brief import Brief, share

FREQUENCY_WORDS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year", "A": "year"}


def brief(summary: dict) -> Brief:
    """Three to five sentences from the forecasting summary.json."""
    n = int(summary.get("n_series") or 0)
    freq = str(summary.get("frequency") or "")
    unit = FREQUENCY_WORDS.get(freq[:1].upper(), "period")
    horizon = summary.get("horizon")
    answer = [f"{n} series forecast {horizon} {unit}(s) ahead." if horizon else f"{n} series forecast."]
    chosen, snaive = summary.get("mase_chosen"), summary.get("mase_snaive")
    if chosen is not None and snaive:
        better = 1 - chosen / snaive
        answer.append(
            f"In the backtest the chosen models' error is {share(abs(better))} "
            + ("lower" if better >= 0 else "higher")
            + f" than a seasonal-naive forecast's (MASE {chosen:.2f} "
            f"vs {snaive:.2f})."
        )
    effects = summary.get("driver_effects") or {}
    if effects:
        answer.append(
            "Drivers: "
            + "; ".join(
                f"{k} {v['effect_pct']:+.1f} % ({v['lo_95_pct']:+.1f} to {v['hi_95_pct']:+.1f})"
                for k, v in effects.items()
                if isinstance(v, dict) and v.get("effect_pct") is not None
            )
            + "."
        )
    cover = summary.get("coverage_chosen") or {}
    confidence = ""
    if cover.get("80") is not None:
        confidence = f"The 80 % ranges held {share(cover['80'])} of actual values in the backtest"
        confidence += f", the 95 % ranges {share(cover['95'])}." if cover.get("95") is not None else "."
    recon = summary.get("best_reconciliation")
    action = "Plan with the forecast's ranges, not only its central line"
    action += f"; use the {recon.replace('_', ' ')} reconciled figures so totals add up." if recon else "."
    return Brief(answer, confidence=confidence, action=action, skipped=[str(n) for n in summary.get("notes") or []])

"""The audit's executive summary: are the inputs fit to analyse, and what to fix first."""

from __future__ import annotations

from marksell.reporting.brief import Brief


def brief(summary: dict) -> Brief:
    """Three sentences from the audit's summary.json."""
    inputs = summary.get("inputs") or {}
    failed = sorted(k for k, v in inputs.items() if isinstance(v, dict) and v.get("status") == "failed")
    warned = sorted(k for k, v in inputs.items() if isinstance(v, dict) and v.get("status") == "warnings")
    clean = len(inputs) - len(failed) - len(warned)
    answer = [
        f"{len(inputs)} input file(s) audited: {clean} clean, {len(warned)} with warnings, "
        f"{len(failed)} breaking their data contract."
    ]
    if failed:
        answer.append(f"Breaking the contract: {', '.join(failed)}; the analyses that read them cannot run yet.")
    if warned:
        answer.append(f"With warnings (usable, worth a look): {', '.join(warned)}.")
    if failed:
        action = "Fix the files that break their contract first: the issues table gives each problem with its fix."
    elif warned:
        action = "Read the warnings in the issues table, then run the analyses."
    else:
        action = "Nothing blocks the analyses: run them."
    return Brief(answer, confidence="Every count comes from the files as read; nothing here is estimated.", action=action)

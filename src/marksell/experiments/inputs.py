"""Fit the notebook's parameters to the data at hand: pick the experiment, skip what the file lacks.

Defaults that name columns (covariates, segments, guardrails, metrics) apply only where the data has
those columns; everything skipped is said in one line in ``notes``. A file without any requested
metric, or with several experiments and no choice, is an error with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from marksell.errors import DataContractError
from marksell.experiments.validate import is_aggregate


@dataclass
class Inputs:
    """The rows of one experiment and the parameters that apply to them."""

    units: pd.DataFrame
    metrics: dict
    primary_metric: str
    guardrails: dict
    covariates: dict
    segments: list[str]
    experiment: str | None = None
    notes: list[str] = field(default_factory=list)


def _metric_columns(name: str) -> list[str]:
    return [c.strip() for c in name.split("/")] if "/" in name else [name]


def select_inputs(frame: pd.DataFrame, experiment: str = "", metrics=None, primary_metric: str = "",
                  guardrails: dict | None = None, covariates: dict | None = None, segments=None,
                  source: str = "experiment data") -> Inputs:
    """The experiment's rows and the parameters that apply; see the module docstring."""
    notes: list[str] = []
    chosen = None
    if "experiment" in frame.columns:
        names = list(dict.fromkeys(frame["experiment"].dropna().astype(str)))
        if experiment:
            if experiment not in names:
                raise DataContractError(source, "experiment", [{
                    "column": "experiment", "expected": f"the experiment {experiment!r}",
                    "found": f"experiments {names[:10]}", "fix": f"set `experiment` to one of {names[:10]}"}])
            chosen = experiment
        else:
            chosen = names[0]
            if len(names) > 1:
                notes.append(f"The file holds {len(names)} experiments ({', '.join(names)}); analysing the first, "
                             f"{chosen!r} (set `experiment` to choose another).")
        frame = frame[frame["experiment"].astype(str) == chosen].drop(columns="experiment").reset_index(drop=True)
    elif experiment:
        notes.append(f"No 'experiment' column: the whole file is one experiment (`experiment` = {experiment!r} "
                     f"ignored).")
    if is_aggregate(frame):
        present = set(frame["metric"].astype(str))
    else:
        present = set(frame.columns)
    items = dict(metrics) if isinstance(metrics, dict) else {m: "" for m in (metrics or [])}
    kept = {m: k for m, k in items.items() if all(c in present for c in _metric_columns(m))}
    if items and not kept:
        raise DataContractError(source, "experiment", [{
            "column": None, "expected": f"the metric columns {list(items)}",
            "found": "none of them; the data has " + ", ".join(sorted(map(str, present))[:15]),
            "fix": "name your metric columns in `metrics` (e.g. {'purchased': 'binary', 'spend': 'mean'}) or map "
                   "them with `columns`"}])
    if len(kept) < len(items):
        notes.append(f"Metrics not in the data, skipped: {', '.join(m for m in items if m not in kept)}.")
    names = list(kept)
    primary = primary_metric
    if primary and primary not in kept and names:
        notes.append(f"Primary metric {primary!r} is not in the data; the first metric, {names[0]!r}, decides.")
        primary = names[0]
    guard = {m: t for m, t in (guardrails or {}).items() if m in kept}
    if len(guard) < len(guardrails or {}):
        notes.append(f"Guardrails not among the metrics, skipped: "
                     f"{', '.join(m for m in (guardrails or {}) if m not in guard)}.")
    cov = {m: c for m, c in (covariates or {}).items() if m in kept and c in frame.columns}
    if len(cov) < len(covariates or {}):
        notes.append(f"CUPED covariates not in the data, skipped: "
                     f"{', '.join(f'{m} <- {c}' for m, c in (covariates or {}).items() if (m, c) not in cov.items())}.")
    segs = [s for s in (segments or []) if s in frame.columns]
    if len(segs) < len(segments or []):
        notes.append(f"Segment columns not in the data, skipped: "
                     f"{', '.join(s for s in segments if s not in segs)}.")
    return Inputs(frame, kept, primary, guard, cov, segs, chosen, notes)

"""Fit the notebook's parameters to the data at hand: pick the experiment, skip what the file lacks.

Defaults that name columns (covariates, segments, guardrails, metrics) apply only where the data has
those columns; everything skipped is said in one line in ``notes``. A file without any requested
metric, or with several experiments and no choice, is an error with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from marksell.errors import DataContractError, ParameterError
from marksell.experiments.stats import KINDS
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


def select_inputs(
    frame: pd.DataFrame,
    experiment: str = "",
    metrics=None,
    primary_metric: str = "",
    guardrails: dict | None = None,
    covariates: dict | None = None,
    segments=None,
    source: str = "experiment data",
) -> Inputs:
    """The experiment's rows and the parameters that apply; see the module docstring."""
    notes: list[str] = []
    frame, chosen = _one_experiment(frame, experiment, source, notes)
    kept = _present_metrics(frame, metrics, source, notes)
    names = list(kept)
    primary = primary_metric
    if primary and primary not in kept and names:
        notes.append(f"Primary metric {primary!r} is not in the data; the first metric, {names[0]!r}, decides.")
        primary = names[0]
    guard = {m: t for m, t in (guardrails or {}).items() if m in kept}
    if len(guard) < len(guardrails or {}):
        notes.append(f"Guardrails not among the metrics, skipped: {', '.join(m for m in (guardrails or {}) if m not in guard)}.")
    cov = {m: c for m, c in (covariates or {}).items() if m in kept and c in frame.columns}
    if len(cov) < len(covariates or {}):
        notes.append(
            f"CUPED covariates not in the data, skipped: "
            f"{', '.join(f'{m} <- {c}' for m, c in (covariates or {}).items() if (m, c) not in cov.items())}."
        )
    segs = [s for s in (segments or []) if s in frame.columns]
    if len(segs) < len(segments or []):
        notes.append(f"Segment columns not in the data, skipped: {', '.join(s for s in segments if s not in segs)}.")
    return Inputs(frame, kept, primary, guard, cov, segs, chosen, notes)


def _one_experiment(frame: pd.DataFrame, experiment: str, source: str, notes: list[str]) -> tuple[pd.DataFrame, str | None]:
    """The rows of the chosen experiment (``experiment``, else the file's first, with a note when there are several)
    without the ``experiment`` column, and its name (None when the file has no such column: all rows)."""
    chosen = None
    if "experiment" in frame.columns:
        names = list(dict.fromkeys(frame["experiment"].dropna().astype(str)))
        if experiment:
            if experiment not in names:
                raise DataContractError(
                    source,
                    "experiment",
                    [
                        {
                            "column": "experiment",
                            "expected": f"the experiment {experiment!r}",
                            "found": f"experiments {names[:10]}",
                            "fix": f"set `experiment` to one of {names[:10]}",
                        }
                    ],
                )
            chosen = experiment
        else:
            chosen = names[0]
            if len(names) > 1:
                notes.append(
                    f"The file holds {len(names)} experiments ({', '.join(names)}); analysing the first, "
                    f"{chosen!r} (set `experiment` to choose another)."
                )
        frame = frame[frame["experiment"].astype(str) == chosen].drop(columns="experiment").reset_index(drop=True)
    elif experiment:
        notes.append(f"No 'experiment' column: the whole file is one experiment (`experiment` = {experiment!r} ignored).")
    return frame, chosen


def _present_metrics(frame: pd.DataFrame, metrics, source: str, notes: list[str]) -> dict:
    """``{metric: kind}`` for the named metrics whose columns (or summary rows) the data has; the others are a
    note, and none at all is an error naming the columns the data has."""
    if is_aggregate(frame):
        present = set(frame["metric"].astype(str))
    else:
        present = set(frame.columns)
    items = dict(metrics) if isinstance(metrics, dict) else {m: "" for m in (metrics or [])}
    kept = {m: k for m, k in items.items() if all(c in present for c in _metric_columns(m))}
    if items and not kept:
        raise DataContractError(
            source,
            "experiment",
            [
                {
                    "column": None,
                    "expected": f"the metric columns {list(items)}",
                    "found": "none of them; the data has " + ", ".join(sorted(map(str, present))[:15]),
                    "fix": "name your metric columns in `metrics` (e.g. {'purchased': 'binary', 'spend': 'mean'}) or map "
                    "them with `columns`",
                }
            ],
        )
    if len(kept) < len(items):
        notes.append(f"Metrics not in the data, skipped: {', '.join(m for m in items if m not in kept)}.")
    return kept


def _range_problems(given: dict) -> list[str]:
    out = []

    def check(name, ok, expected):
        if name in given and given[name] is not None and not ok(given[name]):
            out.append(f"`{name}` = {given[name]!r}: expected {expected}")

    check("alpha", lambda a: 0 < float(a) < 0.5, "a significance level between 0 and 0.5, e.g. 0.05")
    check("power", lambda p: 0 < float(p) < 1, "a power between 0 and 1, e.g. 0.8")
    check("min_effect", lambda m: float(m) >= 0, "a relative lift >= 0, e.g. 0.01 for 1 %")
    check("traffic_per_day", lambda t: float(t) >= 0, "units a day >= 0 (0: as observed)")
    check(
        "guardrails",
        lambda g: all(0 <= float(v) < 1 for v in g.values()),
        'metric -> tolerated relative drop between 0 and 1, e.g. {"revenue": 0.05}',
    )
    check(
        "expected_split",
        lambda e: all(float(v) > 0 for v in e.values()),
        'variant -> planned share > 0, e.g. {"control": 0.5, "b": 0.5}',
    )
    check(
        "metrics",
        lambda m: not isinstance(m, dict) or all(str(k or "") in ("", *KINDS) for k in m.values()),
        f'metric -> kind, each kind one of {list(KINDS)} or "" (inferred)',
    )
    check(
        "prior",
        lambda p: float(p.get("alpha", 1)) > 0 and float(p.get("beta", 1)) > 0 and float(p.get("lift_sd", 0)) >= 0,
        '{"alpha": > 0, "beta": > 0, "lift_sd": >= 0}',
    )
    return out


def check_run_parameters(given: dict) -> None:
    """The runner's check of a campaign experiments run before any kernel starts: values out of range
    raise one :class:`ParameterError` listing each parameter, what was given and what is expected."""
    try:
        problems = _range_problems(given)
    except (TypeError, ValueError, AttributeError) as exc:  # e.g. a share given as text
        problems = [f"a value could not be read as a number ({exc})"]
    if problems:
        raise ParameterError("campaign_experiments: " + "; ".join(problems))

"""Checks that an experiment's data and parameters fit together, with messages that say the fix.

Every problem found is collected and raised at once as a :class:`DataContractError` naming the
source, the column, what was expected and found (with examples) and how to fix it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.errors import DataContractError
from marksell.experiments.stats import KINDS, Metric

AGGREGATE_COLUMNS = ("variant", "metric", "n", "sum", "sum_sq")


def _examples(values, k: int = 3) -> str:
    return ", ".join(repr(v) for v in list(values)[:k])


def is_aggregate(frame: pd.DataFrame) -> bool:
    """True for a summary table (``variant, metric, n, sum, sum_sq``) rather than unit rows."""
    return set(AGGREGATE_COLUMNS) <= set(frame.columns)


def parse_metrics(frame: pd.DataFrame, metrics, covariates: dict | None, exclude: set[str]) -> list[Metric]:
    """Metric specs from the ``metrics`` parameter.

    ``metrics`` is a list of column names (kind inferred: 0/1 values = ``binary``, else ``mean``;
    ``"revenue/orders"`` = the ratio of two columns' sums) or a dict name -> kind (``binary``,
    ``mean`` or ``ratio``; a ratio's name is ``numerator/denominator``). Empty: every numeric column
    not in ``exclude`` (ids, variant, covariates, segments).
    """
    covariates = dict(covariates or {})
    if not metrics:
        metrics = [
            c
            for c in frame.columns
            if c not in exclude
            and c not in covariates.values()
            and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])
        ]
    items = list(metrics.items()) if isinstance(metrics, dict) else [(m, "") for m in metrics]
    out = []
    for name, kind in items:
        name, kind = str(name), str(kind or "")
        if "/" in name:
            num, den = (s.strip() for s in name.split("/", 1))
            out.append(Metric(name, "ratio", num, den, None))
            continue
        if not kind and name in frame.columns:
            values = pd.to_numeric(frame[name], errors="coerce").dropna()
            kind = "binary" if len(values) and values.isin([0, 1]).all() else "mean"
        out.append(Metric(name, kind or "mean", name, None, covariates.get(name)))
    return out


def _variant_problems(frame: pd.DataFrame, variant_col: str, control: str) -> list[dict]:
    variants = sorted({str(v) for v in frame[variant_col].dropna().unique()})
    if len(variants) < 2:
        return [
            {
                "column": variant_col,
                "expected": "at least two variants (control and a treatment)",
                "found": f"{len(variants)} variant(s): {_examples(variants)}",
                "fix": "use the file with every variant of the test, or map the right column onto 'variant' with `columns`",
            }
        ]
    if str(control) not in variants:
        return [
            {
                "column": variant_col,
                "expected": f"the control variant {control!r}",
                "found": f"variants {_examples(variants, 10)}",
                "fix": f"set the `control` parameter to one of {variants}",
            }
        ]
    return []


def _unit_problems(
    frame: pd.DataFrame, unit_col: str, variant_col: str, drop_crossovers: bool
) -> tuple[pd.DataFrame, int, list[dict]]:
    """Units in several variants (dropped when ``drop_crossovers``) and units on several rows."""
    problems = []
    repeated = frame[frame[unit_col].duplicated(keep=False)]  # cheap first pass: most units appear once
    per_unit = repeated.groupby(unit_col, sort=False)[variant_col].nunique()
    several = per_unit[per_unit > 1]
    crossovers = len(several)
    if crossovers and not drop_crossovers:
        problems.append(
            {
                "column": unit_col,
                "expected": "each unit in exactly one variant",
                "found": f"{crossovers} units in more than one variant",
                "examples": _examples(several.index),
                "fix": "remove these units (their exposure is mixed) or set `drop_crossovers` "
                "to true to drop them and report how many",
            }
        )
    elif crossovers:
        frame = frame[~frame[unit_col].isin(several.index)]
    dup = frame[unit_col].duplicated(keep=False)
    if dup.any():
        problems.append(
            {
                "column": unit_col,
                "expected": "one row per unit",
                "found": f"{int(frame.loc[dup, unit_col].nunique())} units on several rows",
                "examples": _examples(pd.unique(frame.loc[dup, unit_col])),
                "fix": "sum each unit's rows into one (e.g. orders per customer) before the analysis",
            }
        )
    return frame, crossovers, problems


def _metric_problems(frame: pd.DataFrame, m: Metric) -> list[dict]:
    """Missing or constant values of a metric's columns, a binary metric with other values, an unknown kind."""
    problems = []
    for col in m.columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            problems.append(
                {
                    "column": col,
                    "expected": "a number for every unit",
                    "found": f"{int(bad.sum())} missing or non-numeric values",
                    "examples": _examples(frame.loc[bad, col]),
                    "fix": "fill units without the event with 0, or drop rows that were never exposed",
                }
            )
            continue
        if np.nanvar(values.to_numpy(float)) == 0:
            problems.append(
                {
                    "column": col,
                    "expected": "a metric or covariate that varies between units",
                    "found": f"the same value {values.iloc[0]:g} for every unit",
                    "fix": "remove it from `metrics` (or `covariates`): no effect can be estimated from a constant",
                }
            )
    if m.kind == "binary":
        values = pd.to_numeric(frame[m.numerator], errors="coerce")
        other = values.notna() & ~values.isin([0, 1])
        if other.any():
            problems.append(
                {
                    "column": m.numerator,
                    "expected": "0 or 1 (a binary metric)",
                    "found": f"{int(other.sum())} other values",
                    "examples": ", ".join(f"{v:g}" for v in pd.unique(values[other])[:3]),
                    "fix": "map the column to 0/1 (e.g. converted = orders > 0), or declare it a 'mean' metric in `metrics`",
                }
            )
    if m.kind not in KINDS:
        problems.append(
            {
                "column": m.name,
                "expected": f"a metric kind in {list(KINDS)}",
                "found": repr(m.kind),
                "fix": "set the kind in `metrics` to binary, mean or ratio",
            }
        )
    return problems


def check_units(
    frame: pd.DataFrame,
    metrics: list[Metric],
    control: str,
    source: str,
    variant_col: str = "variant",
    unit_col: str | None = "unit_id",
    covariates: dict | None = None,
    segments: list[str] | None = None,
    drop_crossovers: bool = False,
) -> tuple[pd.DataFrame, int]:
    """Validate unit rows; returns the rows to analyse and the number of units in several variants.

    Raises :class:`DataContractError` listing every problem: a missing column, fewer than two
    variants, the control absent, a unit in several variants (unless ``drop_crossovers``), a unit
    twice, missing or non-numeric metric values, a binary metric with other values than 0 and 1, a
    metric or covariate without variance.
    """
    needed = [variant_col] + ([unit_col] if unit_col else [])
    needed += [c for m in metrics for c in m.columns] + list(segments or [])
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise DataContractError(
            source,
            "experiment",
            [
                {
                    "column": c,
                    "expected": "a column of this name",
                    "found": "no such column",
                    "examples": f"columns present: {_examples(frame.columns, 12)}",
                    "fix": "map your column onto it with the `columns` parameter, or remove it from "
                    "`metrics`/`covariates`/`segments`",
                }
                for c in missing
            ],
        )
    problems = _variant_problems(frame, variant_col, control)
    crossovers = 0
    if unit_col:
        frame, crossovers, found = _unit_problems(frame, unit_col, variant_col, drop_crossovers)
        problems += found
    for m in metrics:
        problems += _metric_problems(frame, m)
    if problems:
        raise DataContractError(source, "experiment", problems)
    return frame, crossovers


def check_aggregates(table: pd.DataFrame, control: str, source: str) -> None:
    """Validate a ``variant, metric, n, sum, sum_sq`` table (same messages as for unit rows)."""
    problems = []
    variants = sorted(pd.unique(table["variant"].astype(str)))
    if len(variants) < 2:
        problems.append(
            {
                "column": "variant",
                "expected": "at least two variants",
                "found": _examples(variants),
                "fix": "include a row per variant and metric",
            }
        )
    elif str(control) not in variants:
        problems.append(
            {
                "column": "variant",
                "expected": f"the control variant {control!r}",
                "found": f"variants {_examples(variants, 10)}",
                "fix": f"set the `control` parameter to one of {variants}",
            }
        )
    n = table["n"].astype(float)
    var = (table["sum_sq"] - table["sum"] ** 2 / n) / (n - 1)
    flat = table.loc[~(var > 0), "metric"].astype(str)
    if len(flat):
        problems.append(
            {
                "column": "sum_sq",
                "expected": "a positive variance (n > 1 and sum_sq > sum^2 / n)",
                "found": f"no variance for {_examples(pd.unique(flat))}",
                "fix": "check n, sum and sum_sq of these metrics, or remove them",
            }
        )
    if problems:
        raise DataContractError(source, "experiment", problems)

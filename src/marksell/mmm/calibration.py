"""Lift tests as constraints on a channel's effect.

A lift test (geo experiment, holdout group, conversion lift study) measured how much outcome one channel
caused over a span of periods, with a standard error. Each test adds one row to the model's least squares:
the model's contribution of that channel over those periods should equal the measured lift, weighted by the
residual scale over the test's standard error (a precise test pulls hard, a vague one barely). Columns:
``channel`` (report name or spend column), ``start``, ``end`` (dates, inclusive), ``lift`` (outcome units),
``lift_se`` (> 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.errors import DataContractError
from marksell.mmm.series import MixSeries

COLUMNS = ("channel", "start", "end", "lift", "lift_se")


def calibration_rows(
    tests: pd.DataFrame, series: MixSeries, modelled: list[int], source: str = "the lift-test table"
) -> list[dict]:
    """The model's calibration rows (channel index among the modelled channels, period mask, lift, se)."""
    problems = []
    missing = [c for c in COLUMNS if c not in tests.columns]
    if missing:
        raise DataContractError(
            source,
            "lift_tests",
            [
                {
                    "column": c,
                    "expected": "a column of the lift-test table",
                    "found": "no such column",
                    "examples": "",
                    "fix": f"the table needs columns {list(COLUMNS)}",
                }
                for c in missing
            ],
        )
    names = {**{c: i for i, c in enumerate(series.channels)}, **{c: i for i, c in enumerate(series.spend_columns)}}
    rows = []
    for k, r in tests.reset_index(drop=True).iterrows():
        ch = str(r["channel"])
        where = f"row {k + 1}"
        if ch not in names:
            problems.append(_problem("channel", "a modelled channel", f"{ch!r} ({where})", f"use one of {series.channels}"))
            continue
        if names[ch] not in modelled:
            problems.append(
                _problem(
                    "channel",
                    "a channel the model can measure",
                    f"{ch!r} ({where}) is not identified",
                    "drop the test or fix the channel's data",
                )
            )
            continue
        start, end = pd.Timestamp(r["start"]), pd.Timestamp(r["end"])
        mask = np.asarray((series.dates >= start) & (series.dates <= end))
        if not mask.any():
            problems.append(
                _problem(
                    "start",
                    "a test span inside the data's dates",
                    f"{start:%Y-%m-%d} to {end:%Y-%m-%d} ({where})",
                    f"use dates between {series.dates[0]:%Y-%m-%d} and {series.dates[-1]:%Y-%m-%d}",
                )
            )
            continue
        se = float(r["lift_se"])
        if not np.isfinite(se) or se <= 0:
            problems.append(
                _problem(
                    "lift_se",
                    "a standard error > 0",
                    f"{r['lift_se']} ({where})",
                    "enter the test's standard error (half the 95 % interval width / 1.96)",
                )
            )
            continue
        rows.append(
            {
                "channel": modelled.index(names[ch]),
                "mask": mask,
                "lift": float(r["lift"]),
                "se": se,
                "name": series.channels[names[ch]],
                "start": start,
                "end": end,
            }
        )
    if problems:
        raise DataContractError(source, "lift_tests", problems)
    return rows


def _problem(column, expected, found, fix) -> dict:
    return {"column": column, "expected": expected, "found": found, "examples": "", "fix": fix}

"""The marketing mix input as arrays: checked once, with messages that name the column and the fix.

One row per period (day, week or month, inferred from the dates): the date, the outcome, one spend column
per channel, optional controls. :func:`prepare_series` checks, in this order, that the columns exist, that
the dates are regular without gaps or repeats, that the outcome has no gaps, that spends are complete,
non-negative and not all zero, and that the history covers two seasons plus the holdout; every problem found
is listed in one :class:`~marksell.errors.DataContractError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marksell.errors import DataContractError

SPEND_PREFIX = "spend_"
#: Periods per year, carry-over default and Fourier harmonics by inferred frequency.
FREQS = {
    "D": {"name": "day", "season": 365.25, "seasons": ((365.25, 4), (7.0, 3)), "days": 1},
    "W": {"name": "week", "season": 52.18, "seasons": ((52.18, 3),), "days": 7},
    "M": {"name": "month", "season": 12.0, "seasons": ((12.0, 2),), "days": 30.44},
}


@dataclass
class MixSeries:
    """Checked marketing mix data: arrays in period order plus the names to report them by."""

    dates: pd.DatetimeIndex
    y: np.ndarray
    spend: np.ndarray
    controls: np.ndarray
    channels: list[str]
    spend_columns: list[str]
    control_names: list[str]
    target: str
    freq: str
    holdout: int
    recent: int
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def period(self) -> str:
        """The data's period in words (``week``)."""
        return FREQS[self.freq]["name"]

    @property
    def seasons(self) -> tuple:
        return FREQS[self.freq]["seasons"]

    @property
    def today_spend(self) -> np.ndarray:
        """Average spend per period over the last quarter (the reference for marginal returns and budgets)."""
        return self.spend[-self.recent :].mean(axis=0)


def channel_name(column: str) -> str:
    """Report name of a spend column (``spend_search`` -> ``search``)."""
    return column[len(SPEND_PREFIX) :] if column.startswith(SPEND_PREFIX) and len(column) > len(SPEND_PREFIX) else column


def infer_freq(dates: pd.Series) -> str | None:
    """``D``, ``W`` or ``M`` from the median spacing of the dates, or None."""
    days = np.diff(np.sort(dates.to_numpy("datetime64[D]")).astype("int64"))
    if len(days) == 0:
        return None
    step = float(np.median(days))
    if step == 1:
        return "D"
    if step == 7:
        return "W"
    if 28 <= step <= 31:
        return "M"
    return None


def prepare_series(
    df: pd.DataFrame,
    target: str = "sales",
    channels: list[str] | None = None,
    controls: list[str] | None = None,
    holdout_weeks: int = 13,
    date_col: str = "date",
    source: str = "",
    optional_controls: bool = False,
) -> MixSeries:
    """Check the table and return it as a :class:`MixSeries` (raises one error listing every problem).

    ``channels`` are spend columns (empty: every column starting with ``spend_``); ``holdout_weeks`` is
    converted to periods of the data (13 weeks = 3 months = 91 days). With ``optional_controls`` (defaults
    that name columns the data may not have) absent controls are skipped with a note instead of refused.
    """
    source = source or str(df.attrs.get("provenance", {}).get("path", "the marketing mix table"))
    skipped = [c for c in controls or [] if c not in df.columns] if optional_controls else []
    controls = [c for c in controls or [] if c not in skipped]
    problems = _column_problems(df, target, channels, controls, date_col)
    if problems:
        raise DataContractError(source, "mmm", problems)
    spend_cols = list(channels) if channels else [c for c in df.columns if str(c).startswith(SPEND_PREFIX)]
    controls = list(controls or [])
    df = df.sort_values(date_col, kind="stable").reset_index(drop=True)
    freq = infer_freq(df[date_col])
    problems = _date_problems(df[date_col], freq, date_col)
    problems += _value_problems(df, target, spend_cols, controls, date_col)
    if not problems:
        problems += _length_problems(len(df), freq, holdout_weeks, date_col)
    if problems:
        raise DataContractError(source, "mmm", problems)
    per = FREQS[freq]
    holdout = int(round(holdout_weeks * 7 / per["days"]))
    notes = [f"control `{c}` is not in the data and was skipped." for c in skipped]
    kept = []
    for c in controls:
        if df[c].nunique() < 2:
            notes.append(
                f"control `{c}` has the same value in every period and was left out (it would only repeat the base level)."
            )
        else:
            kept.append(c)
    return MixSeries(
        dates=pd.DatetimeIndex(df[date_col]),
        y=df[target].to_numpy(float),
        spend=df[spend_cols].to_numpy(float),
        controls=df[kept].to_numpy(float).reshape(len(df), len(kept)),
        channels=[channel_name(c) for c in spend_cols],
        spend_columns=spend_cols,
        control_names=kept,
        target=target,
        freq=freq,
        holdout=holdout,
        recent=int(round(91 / per["days"])),
        source=source,
        notes=notes,
    )


def check_run_parameters(given: dict) -> None:
    """The runner's check of a marketing mix run before any kernel starts.

    ``given`` holds the parameters the user set. The file is loaded (its contract) and checked as
    :func:`prepare_series` would (dates, outcome gaps, spends, length), and a lift-test file is loaded, so a
    bad input fails with its full message and nothing is filed. Data-quality warnings are left to the run.
    """
    import warnings

    from marksell.data.loaders import load_lift_tests, load_mmm
    from marksell.mmm.summary import check_outcome_kind

    check_outcome_kind(given.get("outcome_kind", "auto"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = load_mmm(given.get("mmm_path", ""), columns=given.get("columns") or None)
        prepare_series(
            table,
            target=given.get("target", "sales"),
            channels=given.get("channels") or None,
            controls=given.get("controls") or [],
            holdout_weeks=int(given.get("holdout_weeks", 13)),
            optional_controls=True,
        )
        if given.get("calibration_path"):
            load_lift_tests(given["calibration_path"])


def _problem(column, expected, found, fix, examples="") -> dict:
    return {"column": column, "expected": expected, "found": found, "examples": examples, "fix": fix}


def _column_problems(df, target, channels, controls, date_col) -> list[dict]:
    present = set(df.columns)
    out = []
    if date_col not in present:
        out.append(
            _problem(date_col, "a date column", "no such column", f"map your date column onto `{date_col}` with `columns`")
        )
    if target not in present:
        numeric = sorted(c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]))
        out.append(
            _problem(
                target,
                "the outcome column named by `target`",
                "no such column",
                f"set `target` to one of {numeric} or map your outcome column with `columns`",
            )
        )
    if channels:
        for c in channels:
            if c not in present:
                out.append(
                    _problem(
                        c,
                        "a spend column listed in `channels`",
                        "no such column",
                        f"remove it from `channels` or check the spelling; columns: {sorted(map(str, present))}",
                    )
                )
    elif not any(str(c).startswith(SPEND_PREFIX) for c in df.columns):
        out.append(
            _problem(
                "",
                "spend columns",
                "no column whose name starts with `spend_`",
                "list the spend columns in `channels` or rename them to spend_<channel>",
            )
        )
    for c in controls or []:
        if c not in present:
            out.append(
                _problem(
                    c,
                    "a control column listed in `controls`",
                    "no such column",
                    "remove it from `controls` or check the spelling",
                )
            )
    for c in [target, *(channels or []), *(controls or [])]:
        if c in present and not pd.api.types.is_numeric_dtype(df[c]):
            out.append(_problem(c, "numbers", f"{df[c].dtype} values", "convert the column to numbers"))
    return out


def _date_problems(dates: pd.Series, freq: str | None, date_col: str) -> list[dict]:
    if dates.isna().any():
        return [
            _problem(
                date_col,
                "a date in every row",
                f"{int(dates.isna().sum())} empty dates",
                "fill or remove the rows without a date",
            )
        ]
    dup = dates[dates.duplicated()]
    if len(dup):
        return [
            _problem(
                date_col,
                "one row per period",
                f"{len(dup)} repeated dates",
                "add up (or remove) the rows of the same period before the analysis",
                ", ".join(f"{d:%Y-%m-%d}" for d in dup[:3]),
            )
        ]
    if freq is None:
        return [
            _problem(
                date_col,
                "daily, weekly or monthly dates",
                "irregular spacing of the dates",
                "aggregate the data to days, weeks or months",
            )
        ]
    if freq == "M":
        periods = dates.dt.to_period("M")
        expected = pd.period_range(periods.min(), periods.max(), freq="M")
        missing = expected.difference(pd.PeriodIndex(periods))
        shown = [f"{p}" for p in missing[:3]]
    else:
        step = pd.Timedelta(days=FREQS[freq]["days"])
        expected = pd.date_range(dates.min(), dates.max(), freq=step)
        missing = expected.difference(pd.DatetimeIndex(dates))
        shown = [f"{d:%Y-%m-%d}" for d in missing[:3]]
        off = pd.DatetimeIndex(dates).difference(expected)
        if len(off):
            return [
                _problem(
                    date_col,
                    f"one date per {FREQS[freq]['name']}, evenly spaced",
                    f"{len(off)} dates off the {FREQS[freq]['name']}ly grid",
                    "use the same weekday (or day) for every period",
                    ", ".join(f"{d:%Y-%m-%d}" for d in off[:3]),
                )
            ]
    if len(missing):
        return [
            _problem(
                date_col,
                f"every {FREQS[freq]['name']} from the first to the last date",
                f"{len(missing)} missing {FREQS[freq]['name']}s",
                "add the missing periods (with zero spend where nothing was spent, and the outcome)",
                ", ".join(shown),
            )
        ]
    return []


def _value_problems(df, target, spend_cols, controls, date_col) -> list[dict]:
    out = []

    def at(mask):
        return ", ".join(f"{d:%Y-%m-%d}" for d in df.loc[mask, date_col].head(3))

    gaps = df[target].isna()
    if gaps.any():
        out.append(
            _problem(
                target,
                "an outcome in every period",
                f"{int(gaps.sum())} empty values (gaps)",
                "fill in the missing periods' outcome or shorten the history to a span without gaps",
                at(gaps),
            )
        )
    for c in spend_cols:
        s = df[c]
        if s.isna().any():
            out.append(
                _problem(
                    c,
                    "a spend in every period",
                    f"{int(s.isna().sum())} empty values",
                    "enter 0 for periods without spend",
                    at(s.isna()),
                )
            )
        if (s < 0).any():
            out.append(
                _problem(
                    c,
                    "spend >= 0",
                    f"{int((s < 0).sum())} negative values",
                    "correct the rows (refunds belong in an earlier period's spend)",
                    at(s < 0),
                )
            )
        elif s.fillna(0).eq(0).all():
            out.append(
                _problem(
                    c,
                    "some spend",
                    "zero in every period",
                    "remove the channel from `channels` (nothing was spent, so no effect can be measured)",
                )
            )
    for c in controls:
        if df[c].isna().any():
            out.append(
                _problem(
                    c,
                    "a value in every period",
                    f"{int(df[c].isna().sum())} empty values",
                    "fill the control's gaps or remove it from `controls`",
                    at(df[c].isna()),
                )
            )
    return out


def _length_problems(n: int, freq: str, holdout_weeks: int, date_col: str) -> list[dict]:
    per = FREQS[freq]
    season = int(round(per["season"]))
    holdout = int(round(holdout_weeks * 7 / per["days"]))
    need = 2 * season + holdout
    if n >= need:
        return []
    return [
        _problem(
            date_col,
            f"at least two years ({2 * season} {per['name']}s) plus the holdout ({holdout}) = "
            f"{need} {per['name']}s, to tell yearly seasonality from marketing",
            f"{n} {per['name']}s",
            "provide a longer history or lower `holdout_weeks`",
        )
    ]

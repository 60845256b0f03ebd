"""Date checks of the audit: the grid the dates should fill, date coverage and gaps of a file or of each
of its series, and rows per period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.data.contracts import Contract

# ----------------------------------------------------------------------------- dates


_FREQ_WORDS = {"D": "day", "MS": "month", "QS": "quarter", "YS": "year"}


def _freq_word(freq: str) -> str:
    if freq.startswith("W"):
        return "week"
    return _FREQ_WORDS.get(freq, freq)


def expected_frequency(dates: pd.Series, declared: str | None = None) -> str | None:
    """The grid the dates should fill, as a pandas frequency string.

    Weekly data is anchored on the weekday the dates actually fall on (``W-MON`` for Monday
    week starts), so a declared ``"W"`` never misreads Monday weeks as all missing. Without a
    declared frequency it is read from the median spacing of the distinct dates: daily (or
    irregular, event-like) data such as orders is checked on a *monthly* grid - a day without
    orders is normal, a month without any is a gap.
    """
    d = pd.DatetimeIndex(pd.Series(dates).dropna().unique()).sort_values()
    if len(d) == 0:
        return None
    if declared and not declared.startswith("W"):
        return declared
    weekday = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"][int(pd.Series(d.day_of_week).mode().iloc[0])]
    if declared:  # weekly
        return f"W-{weekday}"
    if len(d) < 3:
        return "MS" if (d.day == 1).all() else "D"
    step = float(np.median((d[1:] - d[:-1]) / pd.Timedelta(days=1)))
    if 6 <= step <= 8 and len(set(d.day_of_week)) == 1:
        return f"W-{weekday}"
    if 27 <= step <= 32 and (d.day == 1).all():
        return "MS"
    if 88 <= step <= 93 and (d.day == 1).all():
        return "QS"
    return "MS"  # daily or irregular: a month without rows is the gap that matters


def _coverage_row(dates: pd.Series, freq: str | None) -> dict:
    d = pd.DatetimeIndex(dates.dropna().unique()).sort_values()
    row = {
        "first_date": pd.NaT,
        "last_date": pd.NaT,
        "frequency": None,
        "periods_expected": 0,
        "periods_present": 0,
        "missing_periods": 0,
        "first_missing": pd.NaT,
    }
    if len(d) == 0 or freq is None:
        return row
    if freq == "D":
        grid, present = pd.date_range(d[0], d[-1], freq="D"), d
    else:
        code = period_code(freq)
        grid = pd.period_range(d[0].to_period(code), d[-1].to_period(code), freq=code)
        present = d.to_period(code).unique()
    missing = grid.difference(present)
    first_missing = pd.NaT
    if len(missing):
        m = missing.sort_values()[0]
        first_missing = m.start_time if isinstance(m, pd.Period) else m
    row.update(
        first_date=d[0],
        last_date=d[-1],
        frequency=_freq_word(freq),
        periods_expected=len(grid),
        periods_present=len(grid) - len(missing),
        missing_periods=len(missing),
        first_missing=first_missing,
    )
    return row


def period_code(freq: str) -> str:
    if freq.startswith("W-"):
        # dates anchored on weekday X: periods are weeks that *start* on X, i.e. end the day before
        days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        return f"W-{days[(days.index(freq[2:]) - 1) % 7]}"
    if freq == "W":
        return "W-SAT"  # pandas "W" timestamps are Sundays
    return {"MS": "M", "QS": "Q", "YS": "Y"}.get(freq, freq)


def date_coverage(
    df: pd.DataFrame, contract: Contract, by: list[str] | None = None, date_col: str | None = None, freq: str | None = None
) -> pd.DataFrame:
    """Date coverage of ``df``: one row for the file, or one row per series when ``by`` is given.

    Columns: [by...], ``first_date, last_date, frequency`` (the grid checked, in words),
    ``periods_expected, periods_present, missing_periods, first_missing``. The grid runs from the
    first to the last date (of the file, or of each series); a *missing period* is a period on it
    without a single row. Frames without a date column give an empty table.
    """
    date_col = date_col or contract.date_column
    cols = [
        *(by or []),
        "first_date",
        "last_date",
        "frequency",
        "periods_expected",
        "periods_present",
        "missing_periods",
        "first_missing",
    ]
    if not date_col or date_col not in df.columns:
        return pd.DataFrame(columns=cols)
    if not by:
        return pd.DataFrame([_coverage_row(df[date_col], freq or file_frequency(df, contract, date_col=date_col))], columns=cols)
    rows = []
    for key, grp in df.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        g_freq = freq or expected_frequency(grp[date_col], contract.date_freq)
        rows.append({**dict(zip(by, key)), **_coverage_row(grp[date_col], g_freq)})
    return pd.DataFrame(rows, columns=cols)


_FREQ_DAYS = {"D": 1, "W": 7, "MS": 30, "QS": 91, "YS": 365}


def file_frequency(df: pd.DataFrame, contract: Contract, by: list[str] | None = None, date_col: str | None = None) -> str | None:
    """The grid of a whole file: its own frequency, or with several series (``by``, default the
    kind's series keys) of different frequencies, the coarsest of theirs - a monthly and a
    quarterly series together leave no gap in a quarter where both have data."""
    date_col = date_col or contract.date_column
    if not date_col or date_col not in df.columns:
        return None
    by = by if by is not None else [c for c in series_keys(df, contract, sales_keys(df, contract)) if c in df.columns]
    if contract.date_freq or not by:
        return expected_frequency(df[date_col], contract.date_freq)
    freqs = {expected_frequency(g, None) for _, g in df.groupby(by, dropna=False)[date_col]} - {None}
    if not freqs:
        return None
    return max(freqs, key=lambda f: _FREQ_DAYS.get(f.split("-")[0], 30))


def sales_keys(df: pd.DataFrame, contract: Contract) -> list[str]:
    """Series keys of a sales history: its text columns other than the date."""
    if contract.kind != "sales_history":
        return []
    return [
        c
        for c in df.columns
        if c != contract.date_column
        and not pd.api.types.is_numeric_dtype(df[c].dtype)
        and not pd.api.types.is_datetime64_any_dtype(df[c].dtype)
    ]


def rows_per_period(df: pd.DataFrame, date_col: str, freq: str = "MS") -> pd.Series:
    """Number of rows per period (month by default), periods without rows included as 0."""
    d = df[date_col].dropna()
    if d.empty:
        return pd.Series(dtype="int64", name="rows")
    code = period_code(freq)
    counts = d.dt.to_period(code).value_counts()
    grid = pd.period_range(counts.index.min(), counts.index.max(), freq=code)
    out = counts.reindex(grid, fill_value=0).astype("int64")
    out.index = out.index.to_timestamp()
    out.name = "rows"
    return out


def series_keys(df: pd.DataFrame, contract: Contract, keys: list[str] | None = None) -> list[str]:
    """Columns that split a frame into time series (for per-series gaps), empty when there are none."""
    if contract.kind == "sales_history":
        return [k for k in (keys or []) if k in df.columns]
    if contract.date_freq and contract.unique:
        return [c for c in contract.unique if c != contract.date_column and c in df.columns]
    return []

"""Plausibility of dates: a few rows dated long before all the others (``1900-01-01`` beside 2025) are
usually placeholders or typos for a missing date, and they stretch every history they are part of (a
customer's lifetime, a series' start). Found in O(n) with the median and one pass, so every load can check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: A stretch without any date this long, with the older side far before the median, marks the old dates.
GAP_YEARS = 5


@dataclass
class OldDates:
    """Rows dated before a gap of at least :data:`GAP_YEARS` years that the bulk of the data lies after."""

    rows: int
    oldest: pd.Timestamp
    newest_old: pd.Timestamp  # the last of the old dates
    rest_from: pd.Timestamp  # the first date after the gap
    rest_rows: int

    @property
    def gap_years(self) -> float:
        return (self.rest_from - self.newest_old).days / 365.25

    def describe(self, column: str) -> str:
        """``3 row(s) of 'order_date' dated 1900-01-01 to 1901-06-30, 121 years before the other ...``"""
        span = (
            f"{self.oldest:%Y-%m-%d}"
            if self.oldest == self.newest_old
            else f"{self.oldest:%Y-%m-%d} to {self.newest_old:%Y-%m-%d}"
        )
        return (
            f"{self.rows} row(s) of '{column}' dated {span}, {self.gap_years:.0f} years before the other "
            f"{self.rest_rows:,} rows (from {self.rest_from:%Y-%m-%d})"
        )


def isolated_old_dates(dates) -> OldDates | None:
    """The rows dated before a gap of :data:`GAP_YEARS` years or more that lies at least that far before the
    median date, or None. A long history without such a gap (twenty years of orders) has none."""
    series = (
        dates
        if isinstance(dates, pd.Series) and pd.api.types.is_datetime64_any_dtype(dates)
        else pd.to_datetime(pd.Series(dates), errors="coerce")
    )
    ticks = series.to_numpy(dtype="datetime64[ns]").view(np.int64)
    nat = np.iinfo(np.int64).min
    sample = ticks[:: max(1, len(ticks) // 100_000)]  # the median of an even sample is close enough
    sample = sample[sample != nat]
    if len(sample) < 3:
        return None
    gap = int(GAP_YEARS * 365.25 * 86400) * 10**9  # in nanoseconds, as the ticks
    cutoff = int(np.median(sample)) - gap
    if series.min() >= pd.Timestamp(cutoff):  # nothing that old: the usual case, one pass
        return None
    old = (ticks < cutoff) & (ticks != nat)
    last_old, first_rest = ticks[old].max(), ticks[~old & (ticks != nat)].min()
    if first_rest - last_old < gap:
        return None
    return OldDates(
        int(old.sum()),
        pd.Timestamp(int(ticks[old].min())).normalize(),
        pd.Timestamp(int(last_old)).normalize(),
        pd.Timestamp(int(first_rest)).normalize(),
        int(len(series.dropna()) - old.sum()),
    )


__all__ = ["GAP_YEARS", "OldDates", "isolated_old_dates"]

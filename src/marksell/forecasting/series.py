"""Sales histories as series: frequency, gaps and duplicates, hierarchy levels."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from marksell.errors import AnalysisError, ParameterError

SEASON_BY_FREQ = {"W": 52, "M": 12, "Q": 4}
#: Default horizon: the next quarter of weekly or monthly data, the next year of quarterly data.
HORIZON_BY_FREQ = {"W": 13, "M": 3, "Q": 4}
_FREQ_WORDS = {
    "W": "W",
    "WEEK": "W",
    "WEEKLY": "W",
    "M": "M",
    "MS": "M",
    "ME": "M",
    "MONTH": "M",
    "MONTHLY": "M",
    "Q": "Q",
    "QS": "Q",
    "QE": "Q",
    "QUARTER": "Q",
    "QUARTERLY": "Q",
}
_WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]

FILL_GAPS = ("refuse", "zero", "interpolate")
DUPLICATES = ("refuse", "sum", "mean")


def normalise_freq(freq: str | None) -> str | None:
    """Map a frequency string (``W``, ``weekly``, ``MS``, ``QE``...) to ``W``, ``M`` or ``Q``.

    Empty/None means "infer from the dates". Unknown strings raise :class:`ParameterError`.
    """
    if freq is None or str(freq).strip() == "":
        return None
    s = str(freq).strip().upper()
    if s.startswith("W-"):
        s = "W"
    if s not in _FREQ_WORDS:
        raise ParameterError(
            f"Unknown frequency {freq!r}: use one of 'W' (weekly), 'M' (monthly) or 'Q' (quarterly), "
            "or leave it empty to infer it from the dates."
        )
    return _FREQ_WORDS[s]


def infer_freq(dates: pd.Series) -> str:
    """Infer ``W``, ``M`` or ``Q`` from the median spacing of the distinct dates."""
    d = pd.Series(pd.to_datetime(dates).dropna().unique()).sort_values()
    if len(d) < 3:
        raise AnalysisError("Cannot infer the frequency from fewer than 3 distinct dates; pass freq='W', 'M' or 'Q'.")
    gap = float(np.median(np.diff(d.to_numpy()).astype("timedelta64[D]").astype(float)))
    if 6 <= gap <= 8:
        return "W"
    if 27 <= gap <= 32:
        return "M"
    if 88 <= gap <= 93:
        return "Q"
    raise AnalysisError(
        f"Cannot infer the frequency: the median spacing of the dates is {gap:g} days (not weekly, "
        "monthly or quarterly). Aggregate the data to weeks, months or quarters, or pass freq."
    )


def period_start(dates: pd.Series, freq: str) -> tuple[pd.Series, str]:
    """Map dates to the first day of their period; return them and the pandas date_range alias."""
    if freq == "M":
        return dates.dt.to_period("M").dt.start_time, "MS"
    if freq == "Q":
        return dates.dt.to_period("Q").dt.start_time, "QS"
    anchor = int(dates.dt.day_of_week.mode().iloc[0])  # weeks start on the data's usual weekday
    end_day = _WEEKDAYS[(anchor - 1) % 7]
    return dates.dt.to_period(f"W-{end_day}").dt.start_time, f"W-{_WEEKDAYS[anchor]}"


def parse_levels(levels, keys: list[str]) -> list[tuple[str, ...]]:
    """Parse hierarchy levels such as ``["total", "region", "region x category"]`` to key tuples.

    A level is ``"total"`` (all series summed), a key name, keys joined by ``x``, ``*``, ``/`` or
    ``,``, or a list of key names. The bottom level (all keys) is always included, last.
    """
    out: list[tuple[str, ...]] = []
    for lev in levels or []:
        if isinstance(lev, (list, tuple)):
            parts = [str(p).strip() for p in lev]
        else:
            s = str(lev).strip()
            parts = [] if s.lower() in ("total", "all", "") else re.split(r"\s+x\s+|\s*[*/,+]\s*", s)
        bad = [p for p in parts if p not in keys]
        if bad:
            raise ParameterError(
                f"Hierarchy level {lev!r} uses {bad}, which are not key columns {keys}; use 'total' or combinations of the keys."
            )
        tup = tuple(k for k in keys if k in parts)  # canonical order
        if tup not in out:
            out.append(tup)
    bottom = tuple(keys)
    out = [t for t in out if t != bottom] + [bottom]
    return sorted(out, key=len)


def level_name(level: tuple[str, ...]) -> str:
    """Readable name of a hierarchy level: ``total``, ``region``, ``region x category``."""
    return " x ".join(level) if level else "total"


def prepare_history(
    df: pd.DataFrame,
    date_col: str = "date",
    keys=(),
    value_col: str = "sales",
    freq: str | None = None,
    fill_gaps: str = "refuse",
    duplicates: str = "refuse",
) -> tuple[pd.DataFrame, str, list[str]]:
    """Validate and regularise a long sales history.

    Returns ``(bottom, freq, notes)``: ``bottom`` has the key columns, ``date`` (period start) and
    ``value`` on a complete period grid per series; ``notes`` say what was done (aggregated
    duplicates, filled gaps). ``fill_gaps`` is ``refuse`` | ``zero`` | ``interpolate`` (missing
    periods and missing values inside a series); ``duplicates`` is ``refuse`` | ``sum`` | ``mean``
    (several rows for one series and period).
    """
    keys = list(keys or [])
    if fill_gaps not in FILL_GAPS:
        raise ParameterError(f"fill_gaps={fill_gaps!r}: use one of {list(FILL_GAPS)}.")
    if duplicates not in DUPLICATES:
        raise ParameterError(f"duplicates={duplicates!r}: use one of {list(DUPLICATES)}.")
    work, dates, values = _typed_columns(df, date_col, value_col, keys)
    _refuse_mixed_frequencies(work, dates, keys)
    freq = normalise_freq(freq) or infer_freq(dates)
    start, alias = period_start(dates, freq)
    work["date"] = start.to_numpy()
    work["value"] = values.to_numpy(dtype=float)
    notes: list[str] = []
    work = _combine_duplicates(work, keys, freq, duplicates, notes)
    full, value, lens = _complete_grid(work, keys, alias)
    _fill_gaps(full, value, lens, keys, fill_gaps, notes)
    bottom = full.assign(value=value)
    for k in keys:
        bottom[k] = bottom[k].astype("string")
    return bottom, freq, notes


def _typed_columns(df: pd.DataFrame, date_col: str, value_col: str, keys: list[str]):
    """Keys as text, dates and numeric values, refusing missing columns, non-dates and non-numbers."""
    missing = [c for c in [date_col, value_col, *keys] if c not in df.columns]
    if missing:
        raise AnalysisError(
            f"Column(s) {missing} not in the sales history (columns: "
            f"{list(df.columns)}); map them with `columns` or fix `keys`/`value_col`."
        )
    work = pd.DataFrame({k: df[k].astype("string").fillna("(missing)") for k in keys})
    dates = pd.to_datetime(df[date_col], errors="coerce")
    if dates.isna().any():
        raise AnalysisError(
            f"Column '{date_col}' has {int(dates.isna().sum())} value(s) that are not dates; fix or drop those rows."
        )
    values = pd.to_numeric(df[value_col], errors="coerce")
    bad_num = values.isna() & df[value_col].notna()
    if bad_num.any():
        raise AnalysisError(
            f"Column '{value_col}' has {int(bad_num.sum())} non-numeric value(s) "
            f"(e.g. {df.loc[bad_num, value_col].iloc[0]!r}); clean them first."
        )
    return work, dates, values


def _combine_duplicates(work: pd.DataFrame, keys: list[str], freq: str, duplicates: str, notes: list[str]) -> pd.DataFrame:
    """Several rows for one series and period: refused, or summed/averaged with a note."""
    gcols = [*keys, "date"]
    counts = work.groupby(gcols, sort=False, dropna=False).size()
    dup = counts[counts > 1]
    if not len(dup):
        return work
    first = dup.index[0] if isinstance(dup.index[0], tuple) else (dup.index[0],)
    where = key_text(keys, first[:-1] if keys else ()) + f", {pd.Timestamp(first[-1]).date()}"
    if duplicates == "refuse":
        raise AnalysisError(
            f"{len(dup)} period(s) have several rows (first: {where}: {int(dup.iloc[0])} rows) at "
            f"frequency '{freq}'. Use duplicates='sum' to add them up (e.g. daily rows to months) "
            "or 'mean' to average them."
        )
    notes.append(f"{len(dup)} period(s) had several rows (first: {where}); they were combined with '{duplicates}'.")
    return (
        work.groupby(gcols, sort=False, dropna=False)["value"]
        .agg(lambda s: s.sum(min_count=1) if duplicates == "sum" else s.mean())
        .reset_index()
    )


def _complete_grid(work: pd.DataFrame, keys: list[str], alias: str):
    """Every series on its complete period grid: ``(full keys and dates, values with NaN gaps, lengths)``.

    Built for all series at once (a per-series loop is slow for thousands of series); series in key
    order, periods in date order.
    """
    if keys:
        work = work.sort_values([*keys, "date"], kind="stable", ignore_index=True)
        span = work.groupby(keys, sort=False, dropna=False)["date"].agg(["first", "last"])
    else:
        work = work.sort_values("date", kind="stable", ignore_index=True)
        span = pd.DataFrame({"first": [work["date"].iloc[0]], "last": [work["date"].iloc[-1]]})
    cache: dict = {}
    grids = [
        cache.setdefault((a, b), pd.date_range(a, b, freq=alias)) if (a, b) not in cache else cache[(a, b)]
        for a, b in zip(span["first"], span["last"])
    ]
    lens = np.array([len(g) for g in grids])
    full = pd.DataFrame({k: np.repeat(span.index.get_level_values(k).to_numpy(), lens) for k in keys})
    full["date"] = np.concatenate([g.to_numpy() for g in grids])
    vals = work.set_index([*keys, "date"])["value"]
    value = (
        (vals.reindex(pd.MultiIndex.from_frame(full)) if keys else vals.reindex(pd.DatetimeIndex(full["date"])))
        .to_numpy(dtype=float)
        .copy()
    )
    return full, value, lens


def _fill_gaps(
    full: pd.DataFrame, value: np.ndarray, lens: np.ndarray, keys: list[str], fill_gaps: str, notes: list[str]
) -> None:
    """Missing periods or values inside a series: refused, or filled in place (zero / interpolate) with a note."""
    gap = np.isnan(value)
    n_gap = int(gap.sum())
    if not n_gap:
        return
    j = int(np.flatnonzero(gap)[0])
    first_gap = key_text(keys, tuple(full[k].iloc[j] for k in keys)) + f", {pd.Timestamp(full['date'].iloc[j]).date()}"
    if fill_gaps == "refuse":
        raise AnalysisError(
            f"{n_gap} missing period(s) or value(s) inside the series (first: {first_gap}). "
            "Use fill_gaps='zero' when a missing period means no sales, or 'interpolate' when the "
            "value was not recorded."
        )
    if fill_gaps == "zero":
        value[gap] = 0.0
    else:
        ends = np.cumsum(lens)
        for lo, hi in zip(ends - lens, ends):
            if gap[lo:hi].any():
                value[lo:hi] = pd.Series(value[lo:hi]).interpolate(limit_direction="both").to_numpy()
    notes.append(f"{n_gap} missing period(s)/value(s) (first: {first_gap}) were filled with '{fill_gaps}'.")


_FREQ_NAMES = {"W": "weekly", "M": "monthly", "Q": "quarterly"}


def series_frequencies(dates: pd.Series, ids: pd.Series) -> pd.Series:
    """Each series' own frequency (``W``, ``M``, ``Q``; empty when it cannot be told: fewer than 3
    dates or another spacing) from the median spacing of its distinct dates."""
    d = pd.DataFrame({"id": ids.to_numpy(), "date": pd.to_datetime(dates).to_numpy()}).dropna()
    d = d.drop_duplicates().sort_values(["id", "date"], kind="stable")
    gap = d.groupby("id", sort=False)["date"].diff().dt.days
    median = gap.groupby(d["id"], sort=False).median()
    count = d.groupby("id", sort=False).size()
    out = pd.Series("", index=median.index, dtype=object)
    for code, (lo, hi) in {"W": (6, 8), "M": (27, 32), "Q": (88, 93)}.items():
        out[median.between(lo, hi) & (count >= 3)] = code
    return out


def _refuse_mixed_frequencies(work: pd.DataFrame, dates: pd.Series, keys: list[str]) -> None:
    """A file whose series have different frequencies cannot be put on one period grid: say which
    series have which frequency (instead of reporting the gaps a common grid would show)."""
    if not keys or not len(work):
        return
    ids = joined_keys(work, keys)
    freqs = series_frequencies(dates, ids)
    found = {f: list(freqs.index[freqs == f]) for f in ("W", "M", "Q") if (freqs == f).any()}
    if len(found) < 2:
        return
    parts = [
        f"{_FREQ_NAMES[f]}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''} ({len(ids)} series)" for f, ids in found.items()
    ]
    raise AnalysisError(
        "The file mixes frequencies (" + "; ".join(parts) + "). A forecast runs on one "
        "frequency: split the file by frequency, or aggregate the finer series to the "
        "coarser periods (e.g. months to quarters) first."
    )


def key_text(keys, values) -> str:
    return "series " + (" / ".join(str(v) for v in values) if keys else "total")


# --------------------------------------------------------------------------------------------
# Hierarchy
# --------------------------------------------------------------------------------------------


@dataclass
class SeriesSet:
    """All series to forecast on one period grid.

    ``ids``/``level`` name each series, ``values`` holds one array per series (NaN-free, from its
    first period), ``dates`` the matching DatetimeIndex, ``S`` the summing matrix (rows = all
    series, columns = bottom series) and ``bottom`` the row numbers of the bottom series.
    """

    ids: list[str]
    level: list[str]
    values: list[np.ndarray]
    dates: list[pd.DatetimeIndex]
    S: np.ndarray
    bottom: list[int]
    alias: str
    #: rows of the series in the hierarchy (the aggregates and the bottom series they add up);
    #: bottom series ending on another date than the others are forecast alone, outside it
    in_hierarchy: list[int] | None = None

    def __post_init__(self):
        if self.in_hierarchy is None:
            self.in_hierarchy = list(range(len(self.ids)))

    @property
    def outside(self) -> list[str]:
        """Bottom series left out of the aggregates (they end on another date)."""
        inside = set(self.in_hierarchy)
        return [self.ids[j] for j in self.bottom if j not in inside]

    def hierarchy(self) -> SeriesSet:
        """The series of the hierarchy alone (summing matrix over its own bottom series)."""
        rows = list(self.in_hierarchy)
        pos = {j: p for p, j in enumerate(rows)}
        cols = [b for b, j in enumerate(self.bottom) if j in pos]
        return SeriesSet(
            [self.ids[j] for j in rows],
            [self.level[j] for j in rows],
            [self.values[j] for j in rows],
            [self.dates[j] for j in rows],
            self.S[np.ix_(rows, cols)],
            [pos[self.bottom[b]] for b in cols],
            self.alias,
        )


def common_end(ends: pd.Series) -> pd.Timestamp:
    """The last period most series share (the latest of equally common ones): the hierarchy's end."""
    counts = ends.value_counts()
    return max(counts.index[counts == counts.max()])


def joined_keys(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    """Key columns joined with `` / `` (vectorised; a row-wise join is slow on long frames)."""
    out = df[cols[0]].astype(str)
    for c in cols[1:]:
        out = out + " / " + df[c].astype(str)
    return out


def end_notes(ss: SeriesSet) -> list[str]:
    """One note when some bottom series end before (or after) the others: each is forecast from its
    own last period and left out of the totals."""
    out = ss.outside
    if not out:
        return []
    last = {ss.ids[j]: ss.dates[j][-1] for j in ss.bottom}
    shown = ", ".join(f"{sid} (last period {last[sid]:%Y-%m-%d})" for sid in out[:5])
    more = f" and {len(out) - 5} more" if len(out) > 5 else ""
    inside = [j for j in ss.in_hierarchy if j in set(ss.bottom)]
    if not inside:
        return [
            f"The series end on different dates ({shown}{more}): each is forecast from its own last "
            "period; no two end together, so there are no totals."
        ]
    end = ss.dates[inside[0]][-1]
    return [
        f"{len(out)} series end on another date than the other {len(inside)} ({shown}{more}): each "
        f"is forecast from its own last period and left out of the totals, which add up the "
        f"series ending {end:%Y-%m-%d}."
    ]


def build_hierarchy(bottom: pd.DataFrame, keys, levels, freq: str) -> SeriesSet:
    """Aggregate the bottom series to each level and build the summing matrix ``S``."""
    keys = list(keys)
    parsed = parse_levels(levels, keys) if keys else [()]
    alias = {"M": "MS", "Q": "QS"}.get(freq) or f"W-{_WEEKDAYS[bottom['date'].iloc[0].day_of_week]}"
    bkeys = joined_keys(bottom, keys) if keys else pd.Series("total", index=bottom.index)
    wide = bottom.assign(_id=bkeys.to_numpy()).pivot(index="date", columns="_id", values="value")
    wide = wide.sort_index()
    bottom_ids = list(wide.columns)
    bmeta = bottom.assign(_id=bkeys.to_numpy()).drop_duplicates("_id").set_index("_id").loc[bottom_ids, keys] if keys else None
    W = wide.to_numpy(dtype=float)
    col_of = pd.Series(np.arange(len(bottom_ids)), index=bottom_ids)
    ends = pd.Series([wide.index[np.flatnonzero(~np.isnan(W[:, j]))[-1]] for j in range(W.shape[1])], index=bottom_ids)
    inside = list(ends.index[ends == common_end(ends)])
    if len(inside) < 2:  # no two series end together: nothing to add up
        inside, parsed = [], [tuple(keys)]
    ids, lev, vals, dts, rows = [], [], [], [], []
    for level in parsed:
        if level == tuple(keys):
            groups = [(b, [b]) for b in bottom_ids]
        elif not level:
            groups = [("total", inside)]
        else:
            lab = joined_keys(bmeta.loc[inside], list(level))
            groups = [(g, list(lab.index[lab == g])) for g in sorted(lab.unique())]
        for name, members in groups:
            cols = col_of.loc[members].to_numpy()
            block = W[:, cols]
            valid = ~np.isnan(block).all(axis=1)
            ids.append(name)
            lev.append(level_name(level))
            vals.append(np.nansum(block[valid], axis=1))
            dts.append(pd.DatetimeIndex(wide.index[valid]))
            row = np.zeros(len(bottom_ids))
            row[cols] = 1.0
            rows.append(row)
    S = np.array(rows)
    first = {}
    for j, name in enumerate(ids):
        first.setdefault(name, j)
    bottom_rows = [first[b] for b in bottom_ids if lev[first[b]] == level_name(tuple(keys))]
    bottom_name = level_name(tuple(keys))
    in_hierarchy = [j for j, name in enumerate(ids) if lev[j] != bottom_name or name in set(inside)]
    if len(set(ids)) != len(ids):  # e.g. a region and a category with the same name
        ids = [f"{lv}: {i}" if lv not in ("total",) else i for i, lv in zip(ids, lev)]
    return SeriesSet(ids, lev, vals, dts, S, bottom_rows, alias, in_hierarchy)

"""Data audit: what is in each input file, and what is wrong with it, as small tidy tables.

The audit is the first thing an analyst runs on new data. Every check here is descriptive: it
*reports* problems in words instead of raising them, so one broken file never hides the state of
the others.

Frame-level checks (pure functions over a loaded DataFrame and its
:class:`~marksell.contracts.Contract`):

- :func:`date_coverage` - first/last date, periods present, missing periods (gaps) on the
  contract's frequency (or the frequency the dates show), optionally per series;
- :func:`missing_values` - missing values per column (count and share);
- :func:`duplicates` - exact duplicate rows and duplicated keys (the contract's ``unique`` columns);
- :func:`outliers` - robust outliers per numeric column (Tukey's IQR fences or median/MAD), within
  groups where values are only comparable within a group (a product's prices, a channel's spend);
- :func:`negative_values` - negative values, and whether the contract allows them;
- :func:`zero_runs` - runs of consecutive zero units or sales within a series (closures, stock-outs);
- :func:`audit_frame` - all of the above, plus :func:`frame_issues` to list the findings.

File-level: :func:`audit_file` loads one file with :func:`marksell.loaders.load`, turning
:class:`~marksell.errors.DataContractError` and :class:`~marksell.loaders.DataQualityWarning` into
sentences; :func:`audit_all` does it for every input kind and builds the overview table.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

from marksell.contracts import CONTRACTS, Contract
from marksell.errors import DataContractError

#: Short names (the notebook's parameter prefixes) accepted for the input kinds.
KIND_ALIASES = {
    "funnel": "marketing_funnel",
    "market": "market_size",
    "panel": "price_panel",
    "sales": "sales_history",
}

#: Columns within which numeric values are comparable, for outlier fences (when present).
OUTLIER_GROUPS = {
    "price_panel": ("store_id", "product_id", "promo"),  # each series, promotion weeks apart
    "marketing_funnel": ("channel",),
    "market_size": ("region",),
}

#: Columns of the issues table (one row per finding).
ISSUE_COLUMNS = ["kind", "column", "check", "count", "detail"]

_N_EXAMPLES = 3
_MIN_GROUP = 8  # fewer values than this in a group: no outlier fences


def normalise_kind(kind: str) -> str:
    """The contract kind for ``kind`` or one of its short aliases (``funnel``, ``panel``, ...)."""
    k = KIND_ALIASES.get(str(kind), str(kind))
    if k not in CONTRACTS:
        raise ValueError(f"unknown input kind {kind!r}; known kinds: {sorted(CONTRACTS)} "
                         f"(or the short names {sorted(KIND_ALIASES)})")
    return k


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
    row = {"first_date": pd.NaT, "last_date": pd.NaT, "frequency": None, "periods_expected": 0,
           "periods_present": 0, "missing_periods": 0, "first_missing": pd.NaT}
    if len(d) == 0 or freq is None:
        return row
    if freq == "D":
        grid, present = pd.date_range(d[0], d[-1], freq="D"), d
    else:
        code = _period_code(freq)
        grid = pd.period_range(d[0].to_period(code), d[-1].to_period(code), freq=code)
        present = d.to_period(code).unique()
    missing = grid.difference(present)
    first_missing = pd.NaT
    if len(missing):
        m = missing.sort_values()[0]
        first_missing = m.start_time if isinstance(m, pd.Period) else m
    row.update(first_date=d[0], last_date=d[-1], frequency=_freq_word(freq), periods_expected=len(grid),
               periods_present=len(grid) - len(missing), missing_periods=len(missing),
               first_missing=first_missing)
    return row


def _period_code(freq: str) -> str:
    if freq.startswith("W-"):
        # dates anchored on weekday X: periods are weeks that *start* on X, i.e. end the day before
        days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        return f"W-{days[(days.index(freq[2:]) - 1) % 7]}"
    if freq == "W":
        return "W-SAT"  # pandas "W" timestamps are Sundays
    return {"MS": "M", "QS": "Q", "YS": "Y"}.get(freq, freq)


def date_coverage(df: pd.DataFrame, contract: Contract, by: list[str] | None = None,
                  date_col: str | None = None, freq: str | None = None) -> pd.DataFrame:
    """Date coverage of ``df``: one row for the file, or one row per series when ``by`` is given.

    Columns: [by...], ``first_date, last_date, frequency`` (the grid checked, in words),
    ``periods_expected, periods_present, missing_periods, first_missing``. The grid runs from the
    first to the last date (of the file, or of each series); a *missing period* is a period on it
    without a single row. Frames without a date column give an empty table.
    """
    date_col = date_col or contract.date_column
    cols = [*(by or []), "first_date", "last_date", "frequency", "periods_expected", "periods_present",
            "missing_periods", "first_missing"]
    if not date_col or date_col not in df.columns:
        return pd.DataFrame(columns=cols)
    if not by:
        return pd.DataFrame([_coverage_row(df[date_col], freq or file_frequency(df, contract, date_col=date_col))],
                            columns=cols)
    rows = []
    for key, grp in df.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        g_freq = freq or expected_frequency(grp[date_col], contract.date_freq)
        rows.append({**dict(zip(by, key)), **_coverage_row(grp[date_col], g_freq)})
    return pd.DataFrame(rows, columns=cols)


_FREQ_DAYS = {"D": 1, "W": 7, "MS": 30, "QS": 91, "YS": 365}


def file_frequency(df: pd.DataFrame, contract: Contract, by: list[str] | None = None,
                   date_col: str | None = None) -> str | None:
    """The grid of a whole file: its own frequency, or with several series (``by``, default the
    kind's series keys) of different frequencies, the coarsest of theirs - a monthly and a
    quarterly series together leave no gap in a quarter where both have data."""
    date_col = date_col or contract.date_column
    if not date_col or date_col not in df.columns:
        return None
    by = by if by is not None else [c for c in series_keys(df, contract, _sales_keys(df, contract)) if c in df.columns]
    if contract.date_freq or not by:
        return expected_frequency(df[date_col], contract.date_freq)
    freqs = {expected_frequency(g, None) for _, g in df.groupby(by, dropna=False)[date_col]} - {None}
    if not freqs:
        return None
    return max(freqs, key=lambda f: _FREQ_DAYS.get(f.split("-")[0], 30))


def _sales_keys(df: pd.DataFrame, contract: Contract) -> list[str]:
    """Series keys of a sales history: its text columns other than the date."""
    if contract.kind != "sales_history":
        return []
    return [c for c in df.columns if c != contract.date_column and not pd.api.types.is_numeric_dtype(df[c].dtype)
            and not pd.api.types.is_datetime64_any_dtype(df[c].dtype)]


def rows_per_period(df: pd.DataFrame, date_col: str, freq: str = "MS") -> pd.Series:
    """Number of rows per period (month by default), periods without rows included as 0."""
    d = df[date_col].dropna()
    if d.empty:
        return pd.Series(dtype="int64", name="rows")
    code = _period_code(freq)
    counts = d.dt.to_period(code).value_counts()
    grid = pd.period_range(counts.index.min(), counts.index.max(), freq=code)
    out = counts.reindex(grid, fill_value=0).astype("int64")
    out.index = out.index.to_timestamp()
    out.name = "rows"
    return out


# ----------------------------------------------------------------------------- missing, duplicates


def missing_values(df: pd.DataFrame) -> pd.DataFrame:
    """Missing values per column: ``column, dtype, missing, share`` (share of rows, 0..1)."""
    n = len(df)
    miss = df.isna().sum()
    return pd.DataFrame({
        "column": [str(c) for c in df.columns],
        "dtype": [str(t) for t in df.dtypes],
        "missing": miss.to_numpy(dtype="int64"),
        "share": (miss / n).to_numpy(dtype=float) if n else np.zeros(len(df.columns)),
    })


def key_columns(df: pd.DataFrame, contract: Contract, keys: list[str] | None = None) -> list[str]:
    """The columns that should identify a row: the contract's ``unique`` columns present in ``df``
    plus ``keys`` (sales series keys, with the date column); empty when nothing identifies a row."""
    cols = [c for c in contract.unique if c in df.columns]
    if keys:
        base = [contract.date_column] if contract.date_column in df.columns else []
        cols = list(dict.fromkeys([*cols, *base, *[k for k in keys if k in df.columns]]))
    return cols


def _row_label(df: pd.DataFrame, idx, id_cols: list[str]) -> str:
    parts = []
    for c in id_cols:
        v = df.at[idx, c]
        if isinstance(v, pd.Timestamp):
            v = v.date().isoformat()
        parts.append("missing" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
    return " / ".join(parts) if parts else f"row {idx}"


def _id_columns(df: pd.DataFrame, contract: Contract, keys: list[str] | None = None) -> list[str]:
    """Columns that let a reader find a row: the key columns, else the date and an id column."""
    cols = key_columns(df, contract, keys)
    if cols:
        return cols
    first_string = [c.name for c in contract.columns if c.dtype == "string" and c.name in df.columns][:1]
    date = [contract.date_column] if contract.date_column in df.columns else []
    return list(dict.fromkeys([*first_string, *date]))


def duplicates(df: pd.DataFrame, contract: Contract, keys: list[str] | None = None) -> pd.DataFrame:
    """Exact duplicate rows and duplicated keys.

    Columns: ``check`` (``exact duplicate rows`` / ``duplicate keys``), ``columns`` (the key),
    ``count`` (rows that repeat an earlier row), ``groups`` (distinct rows/keys that occur more
    than once), ``examples``. The key check is skipped (``count`` NaN) when nothing in the contract
    identifies a row, e.g. transactions, where one order may have several lines.
    """
    rows = []
    dup = df.duplicated(keep="first")
    involved = df.duplicated(keep=False)
    ids = _id_columns(df, contract, keys)
    rows.append({
        "check": "exact duplicate rows", "columns": "all columns", "count": int(dup.sum()),
        "groups": int(df[involved].drop_duplicates().shape[0]) if involved.any() else 0,
        "examples": "; ".join(_row_label(df, i, ids) for i in df.index[dup][:_N_EXAMPLES]),
    })
    kc = key_columns(df, contract, keys)
    if kc:
        kdup = df.duplicated(subset=kc, keep="first")
        kinv = df.duplicated(subset=kc, keep=False)
        rows.append({
            "check": "duplicate keys", "columns": ", ".join(kc), "count": int(kdup.sum()),
            "groups": int(df.loc[kinv, kc].drop_duplicates().shape[0]) if kinv.any() else 0,
            "examples": "; ".join(_row_label(df, i, kc) for i in df.index[kdup][:_N_EXAMPLES]),
        })
    else:
        rows.append({"check": "duplicate keys", "columns": "(no key in the contract)", "count": np.nan,
                     "groups": np.nan, "examples": ""})
    return pd.DataFrame(rows, columns=["check", "columns", "count", "groups", "examples"])


# ----------------------------------------------------------------------------- numbers


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """Numeric columns worth checking for outliers: not boolean, not 0/1 flags, not constant."""
    out = []
    for c in df.columns:
        s = df[c]
        if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        vals = s.dropna()
        if vals.nunique() <= 2 and set(vals.unique()) <= {0, 1}:
            continue
        out.append(str(c))
    return out


def _fences(x: pd.Series, method: str, k: float) -> tuple[float, float]:
    """Lower and upper fence for the values ``x`` (NaN fences when the spread is zero)."""
    if method == "iqr":
        q1, q3 = np.nanquantile(x, [0.25, 0.75])
        spread = q3 - q1
        if spread > 0:
            return q1 - k * spread, q3 + k * spread
        method = "mad"  # mostly identical values: fall back on the MAD
    med = float(np.nanmedian(x))
    mad = float(median_abs_deviation(x, scale="normal", nan_policy="omit"))
    if not mad > 0:
        return np.nan, np.nan
    # for normal data Tukey's fence Q3 + k*IQR sits at median + (0.674 + 1.349k) sigma
    kk = k if method == "mad" else 0.6745 + 1.349 * k
    return med - kk * mad, med + kk * mad


def outliers(df: pd.DataFrame, contract: Contract, by: list[str] | None = None, method: str = "iqr",
             k: float | None = None, log_positive: bool = True, keys: list[str] | None = None
             ) -> pd.DataFrame:
    """Robust outliers per numeric column.

    Fences are Tukey's ``Q1 - k*IQR``, ``Q3 + k*IQR`` (``method="iqr"``, default ``k=3``: "far
    out") or ``median +- k * MAD`` (``method="mad"``, normal-scaled MAD, default ``k=5``). Columns
    whose values are all positive (money, prices, units bought) are judged on the log scale
    (``log_positive``), where their skew is mild, so a large but ordinary order is not flagged;
    this extends to mostly positive columns: zeros (weeks without sales, free orders) are not
    judged, and negatives (returns) are judged among themselves on the log of the absolute value
    ("log, by sign"; the fences shown are those of the positive values).
    With ``by`` (default: the kind's natural group - a price panel's store, product and promotion
    flag, a funnel's channel, a sales history's series keys), fences are computed within each
    group of at least 8 values, so a big store or a promotion week is not an outlier by itself.

    Columns: ``column, scale, n, median, low_fence, high_fence`` (of the whole column, or the
    range over groups), ``n_low, n_high, count, share, examples`` (the most extreme flagged rows).
    """
    if method not in ("iqr", "mad"):
        raise ValueError(f"method must be 'iqr' or 'mad', not {method!r}")
    k = float(k if k is not None else (3.0 if method == "iqr" else 5.0))
    if by is None:
        by = [c for c in OUTLIER_GROUPS.get(contract.kind, ()) if c in df.columns]
        if contract.kind == "sales_history" and keys:
            by = [c for c in keys if c in df.columns]
    by = list(by)
    ids = _id_columns(df, contract, keys)
    rows = []
    for col in numeric_columns(df):
        if col in by:
            continue
        x = df[col].astype("float64")
        valid = x.dropna()
        # mostly positive amounts are judged on the log scale; zeros (weeks without sales) are not
        # judged, and negatives (returns, credits) are judged among themselves on the log of |x|
        n_pos = int((valid > 0).sum())
        log = bool(log_positive and n_pos >= _MIN_GROUP and n_pos >= 0.5 * len(valid))
        signed = bool(log and (valid < 0).any())
        sign = np.sign(x)
        z = np.log(x.abs().where(x != 0)) if log else x
        keys_ = [df[c] for c in by] + ([sign] if signed else [])
        lo = pd.Series(np.nan, index=df.index)
        hi = pd.Series(np.nan, index=df.index)
        groups = [g for _, g in z.groupby(keys_, dropna=False)] if keys_ else [z]
        for zg in groups:
            if zg.notna().sum() < _MIN_GROUP:
                continue
            lf, hf = _fences(zg.to_numpy(dtype=float), method, k)
            lo.loc[zg.index], hi.loc[zg.index] = lf, hf
        below, above = (z < lo).fillna(False), (z > hi).fillna(False)
        neg = (sign < 0).fillna(False)
        low = (below & ~neg) | (above & neg)  # a large return is a low value
        high = (above & ~neg) | (below & neg)
        flagged = low | high
        width = (hi - lo).where(lambda w: w > 0)
        centre = (hi + lo) / 2
        severity = ((z - centre).abs() / width).where(flagged).sort_values(ascending=False)
        examples = "; ".join(f"{_row_label(df, i, ids)}: {df.at[i, col]:,.6g}" for i in severity.index[:_N_EXAMPLES]
                             if flagged.loc[i])
        back = np.exp if log else (lambda v: v)
        lo_pos, hi_pos = (lo[sign > 0], hi[sign > 0]) if signed else (lo, hi)
        n = int(valid.size)
        scale = "linear"
        if log:
            scale = "log, by sign" if signed else ("log, zeros not judged" if (valid == 0).any() else "log")
        rows.append({
            "column": col, "scale": scale, "n": n,
            "median": float(valid.median()) if n else np.nan,
            "low_fence": float(back(lo_pos.min())) if lo_pos.notna().any() else np.nan,
            "high_fence": float(back(hi_pos.max())) if hi_pos.notna().any() else np.nan,
            "n_low": int(low.sum()), "n_high": int(high.sum()), "count": int(flagged.sum()),
            "share": float(flagged.sum() / n) if n else 0.0, "examples": examples,
        })
    return pd.DataFrame(rows, columns=["column", "scale", "n", "median", "low_fence", "high_fence", "n_low",
                                       "n_high", "count", "share", "examples"])


def negative_values(df: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Negative values per numeric column and what the contract says about them.

    Columns: ``column, count, share, rule`` where ``rule`` is ``allowed (returns/credits)`` for
    columns where negatives are legal but suspicious, ``breaks the contract`` for columns with a
    lower bound of zero, ``allowed (all on rows with negative ...)`` when every negative value sits
    on a return row (quantities of returned orders), and ``no rule`` for other numeric columns
    (criteria, controls). Only
    columns with at least one negative value are listed.
    """
    rows = []
    n = len(df)
    for c in df.columns:
        s = df[c]
        if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        neg = int((s < 0).sum())
        if not neg:
            continue
        spec = contract.column(str(c))
        mask = (s < 0).fillna(False)
        returns_in = [r.name for r in contract.columns if r.warn_negative and r.name in df.columns and r.name != c
                      and pd.api.types.is_numeric_dtype(df[r.name].dtype)
                      and bool((df[r.name][mask] < 0).fillna(False).all())]
        if spec is not None and spec.warn_negative:
            rule = "allowed (returns/credits)"
        elif spec is not None and (spec.min_value is not None or spec.greater_than is not None):
            rule = "breaks the contract"
        elif returns_in:
            rule = f"allowed (all on rows with negative '{returns_in[0]}', i.e. returns)"
        else:
            rule = "no rule"
        rows.append({"column": str(c), "count": neg, "share": neg / n if n else 0.0, "rule": rule})
    return pd.DataFrame(rows, columns=["column", "count", "share", "rule"])


#: The quantity column whose runs of zeros mean a closure or a stock-out, by kind.
ZERO_COLUMNS = {"price_panel": "units", "sales_history": "sales"}


def zero_runs(df: pd.DataFrame, contract: Contract, value_col: str | None = None, by: list[str] | None = None,
              min_run: int = 3) -> pd.DataFrame:
    """Runs of at least ``min_run`` consecutive zero periods within each series.

    A zero week is legitimate, but several in a row usually mean a store closure, a stock-out or a
    delisting - periods an elasticity or a forecast should not read as "no demand". ``value_col``
    defaults to the kind's quantity (``units`` of a price panel, ``sales`` of a sales history);
    ``by`` to the kind's series keys. Columns: [by...], ``start, end, periods``, longest first.
    """
    value_col = value_col or ZERO_COLUMNS.get(contract.kind)
    date_col = contract.date_column
    by = list(by if by is not None else series_keys(df, contract, _sales_keys(df, contract)))
    cols = [*by, "start", "end", "periods"]
    if not value_col or value_col not in df.columns or date_col not in df.columns or len(df) == 0:
        return pd.DataFrame(columns=cols)
    d = df[[*by, date_col, value_col]].sort_values([*by, date_col], kind="stable").reset_index(drop=True)
    zero = (d[value_col] == 0).fillna(False)
    series = d[by].astype(str).agg("|".join, axis=1) if by else pd.Series("", index=d.index)
    new_run = (zero != zero.shift()) | (series != series.shift())
    run = new_run.cumsum()[zero]
    if run.empty:
        return pd.DataFrame(columns=cols)
    z = d[zero]
    agg = z.groupby(run).agg(**{c: (c, "first") for c in by}, start=(date_col, "min"), end=(date_col, "max"),
                             periods=(date_col, "size"))
    agg = agg[agg["periods"] >= min_run]
    return agg.sort_values(["periods", "start"], ascending=[False, True]).reset_index(drop=True)[cols]


# ----------------------------------------------------------------------------- frame audit


@dataclass
class FrameAudit:
    """Every check of one loaded frame (see :func:`audit_frame`)."""

    kind: str
    rows: int
    columns: int
    coverage: pd.DataFrame
    series_coverage: pd.DataFrame
    missing: pd.DataFrame
    duplicates: pd.DataFrame
    outliers: pd.DataFrame
    negatives: pd.DataFrame
    zero_runs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def issues(self) -> pd.DataFrame:
        """The findings as rows of ``kind, column, check, count, detail`` (see :func:`frame_issues`)."""
        return frame_issues(self)


def series_keys(df: pd.DataFrame, contract: Contract, keys: list[str] | None = None) -> list[str]:
    """Columns that split a frame into time series (for per-series gaps), empty when there are none."""
    if contract.kind == "sales_history":
        return [k for k in (keys or []) if k in df.columns]
    if contract.date_freq and contract.unique:
        return [c for c in contract.unique if c != contract.date_column and c in df.columns]
    return []


def audit_frame(df: pd.DataFrame, kind: str, contract: Contract | None = None, keys: list[str] | None = None,
                method: str = "iqr", k: float | None = None) -> FrameAudit:
    """Run every check on a loaded frame of ``kind`` (its contract by default)."""
    kind = normalise_kind(kind)
    contract = contract or CONTRACTS[kind]
    by = series_keys(df, contract, keys)
    return FrameAudit(
        kind=kind, rows=int(len(df)), columns=int(df.shape[1]),
        coverage=date_coverage(df, contract),
        series_coverage=date_coverage(df, contract, by=by) if by else date_coverage(df.iloc[:0], contract, by=[]),
        missing=missing_values(df),
        duplicates=duplicates(df, contract, keys),
        outliers=outliers(df, contract, method=method, k=k, keys=keys),
        negatives=negative_values(df, contract),
        zero_runs=zero_runs(df, contract, by=by if contract.kind == "sales_history" else None),
    )


def _issue(kind, column, check, count, detail) -> dict:
    return {"kind": kind, "column": column, "check": check, "count": count, "detail": detail}


def frame_issues(fa: FrameAudit) -> pd.DataFrame:
    """One row per finding of a frame audit (only checks that found something)."""
    out = []
    for r in fa.coverage.itertuples(index=False):
        if r.missing_periods:
            out.append(_issue(fa.kind, "", "date gaps", int(r.missing_periods),
                              f"{r.missing_periods} of {r.periods_expected} {r.frequency}s between "
                              f"{r.first_date.date()} and {r.last_date.date()} have no rows "
                              f"(first: {r.first_missing.date()})"))
    sc = fa.series_coverage
    if len(sc) and (sc["missing_periods"] > 0).any():
        gaps = sc[sc["missing_periods"] > 0]
        by = [c for c in sc.columns if c not in ("first_date", "last_date", "frequency", "periods_expected",
                                                 "periods_present", "missing_periods", "first_missing")]
        worst = gaps.sort_values("missing_periods", ascending=False).head(_N_EXAMPLES)
        ex = "; ".join(f"{' / '.join(str(getattr(w, b)) for b in by)}: {w.missing_periods}"
                       for w in worst.itertuples(index=False))
        out.append(_issue(fa.kind, ", ".join(by), "series gaps", int(gaps["missing_periods"].sum()),
                          f"{len(gaps)} of {len(sc)} series have missing {sc['frequency'].iloc[0]}s "
                          f"within their own date range (most: {ex})"))
    for r in fa.missing.itertuples(index=False):
        if r.missing:
            out.append(_issue(fa.kind, r.column, "missing values", int(r.missing),
                              f"{r.missing} of {fa.rows} rows ({r.share:.1%}) have no value"))
    for r in fa.duplicates.itertuples(index=False):
        if pd.notna(r.count) and r.count:
            what = "repeat an earlier row exactly" if r.check == "exact duplicate rows" else \
                f"repeat an earlier row's key ({r.columns})"
            out.append(_issue(fa.kind, "" if r.check == "exact duplicate rows" else r.columns, r.check,
                              int(r.count), f"{int(r.count)} row(s) {what}; e.g. {r.examples}"))
    for r in fa.outliers.itertuples(index=False):
        if r.count:
            out.append(_issue(fa.kind, r.column, "outliers", int(r.count),
                              f"{r.count} value(s) ({r.share:.1%}) outside the robust fences "
                              f"({r.n_low} low, {r.n_high} high); most extreme: {r.examples}"))
    zr = fa.zero_runs
    if len(zr):
        by = [c for c in zr.columns if c not in ("start", "end", "periods")]
        ex = "; ".join(f"{' / '.join(str(getattr(w, b)) for b in by) or 'all'}: {w.start.date()} to "
                       f"{w.end.date()} ({w.periods})" for w in zr.head(_N_EXAMPLES).itertuples(index=False))
        col = ZERO_COLUMNS.get(fa.kind, "")
        out.append(_issue(fa.kind, col, "zero runs", int(len(zr)),
                          f"{len(zr)} run(s) of 3 or more consecutive zero '{col}' periods in "
                          f"{zr[by].drop_duplicates().shape[0] if by else 1} series "
                          f"(closures or stock-outs?); longest: {ex}"))
    for r in fa.negatives.itertuples(index=False):
        out.append(_issue(fa.kind, r.column, "negative values", int(r.count),
                          f"{r.count} negative value(s) ({r.share:.1%}); {r.rule}"))
    return pd.DataFrame(out, columns=ISSUE_COLUMNS)


# ----------------------------------------------------------------------------- file audit


def problem_sentence(p: dict) -> str:
    """A loader problem dict (``column, expected, found, examples, fix``) as one sentence."""
    col = p.get("column")
    where = (f"Columns '{col}'" if ", " in str(col) else f"Column '{col}'") if col else "The file"
    s = f"{where}: expected {p.get('expected')}, found {p.get('found')}"
    if p.get("examples"):
        s += f" (e.g. {p['examples']})"
    s += "."
    if p.get("fix"):
        s += f" Fix: {p['fix']}."
    return s.replace("..", ".")


_LEADING_INT = re.compile(r"^\s*(\d+)")
_QUOTED = re.compile(r"'([^']+)'")


@dataclass
class FileAudit:
    """The outcome of loading one file: status, problems in words, and the frame when it loaded."""

    kind: str
    file: str
    status: str  # "ok", "warnings" or "failed"
    problems: list[dict] = field(default_factory=list)  # column, check, count, problem (a sentence)
    frame: pd.DataFrame | None = None
    raw_rows: int | None = None  # rows read before validation (also for failed files)
    raw_columns: int | None = None

    @property
    def report(self) -> pd.DataFrame:
        """The problems as a tidy table: ``file, kind, status, column, check, problem``.

        A file without problems gets a single row saying so.
        """
        rows = [{"file": self.file, "kind": self.kind, "status": self.status, "column": p["column"],
                 "check": p["check"], "problem": p["problem"]} for p in self.problems]
        if not rows:
            rows = [{"file": self.file, "kind": self.kind, "status": self.status, "column": "", "check": "",
                     "problem": "Loaded without problems or warnings."}]
        return pd.DataFrame(rows, columns=["file", "kind", "status", "column", "check", "problem"])


def _display(kind: str, path) -> str:
    from marksell.loaders import display_path
    from marksell.paths import resolve_input

    return display_path(resolve_input(path, kind))


def _raw_shape(kind: str, path, columns) -> tuple[int | None, int | None]:
    from marksell.loaders import read_table
    from marksell.paths import resolve_input

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw, _ = read_table(resolve_input(path, kind), CONTRACTS[kind], columns=columns or {})
        return int(raw.shape[0]), int(raw.shape[1])
    except Exception:  # unreadable: the loader's problem already says why
        return None, None


def audit_file(kind: str, path: str = "", columns: dict | None = None, keys: list[str] | None = None
               ) -> FileAudit:
    """Load one file with :func:`marksell.loaders.load`, reporting (not raising) what goes wrong.

    Contract violations (:class:`~marksell.errors.DataContractError`) give status ``failed`` with
    one sentence per problem; data-quality warnings give status ``warnings``; anything else that
    stops the file being read is reported as a failure in words too. ``path`` empty = the sample
    company's file; ``columns`` maps the file's names to the contract's; ``keys`` are the series
    key columns of a sales history.
    """
    from marksell.loaders import DataQualityWarning, load

    kind = normalise_kind(kind)
    try:
        shown = _display(kind, path)
    except Exception:
        shown = str(path)
    kw = {"keys": list(keys)} if kind == "sales_history" and keys else {}
    problems: list[dict] = []
    frame = None
    status = "ok"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = load(kind, path, columns or None, **kw)
        except DataContractError as err:
            status = "failed"
            shown = err.source or shown
            seen = set()
            for p in err.problems:
                sentence = problem_sentence(p)
                if sentence in seen:  # the loader may report one duplicate-key problem per key column
                    continue
                seen.add(sentence)
                m = _LEADING_INT.match(str(p.get("found", "")))
                problems.append({"column": p.get("column") or "", "check": "contract",
                                 "count": int(m.group(1)) if m else np.nan, "problem": sentence})
        except Exception as err:  # noqa: BLE001 - the audit reports every failure in words
            status = "failed"
            msg = str(err).splitlines()[0] if str(err) else ""
            problems.append({"column": "", "check": "unreadable", "count": np.nan,
                             "problem": f"The file could not be read ({type(err).__name__}: {msg})."})
    if status != "failed":
        for w in caught:
            if not issubclass(w.category, DataQualityWarning):
                continue  # library noise is not the analyst's problem
            text = str(w.message)
            if text.startswith(shown + ": "):
                text = text[len(shown) + 2:]
            m = _LEADING_INT.match(text)
            q = _QUOTED.search(text)
            problems.append({"column": q.group(1) if q else "", "check": "warning",
                             "count": int(m.group(1)) if m else np.nan,
                             "problem": text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")})
        if problems:
            status = "warnings"
    if frame is not None:
        raw_rows, raw_cols = int(frame.shape[0]), int(frame.shape[1])
    else:
        raw_rows, raw_cols = _raw_shape(kind, path, columns)
    return FileAudit(kind=kind, file=shown, status=status, problems=problems, frame=frame,
                     raw_rows=raw_rows, raw_columns=raw_cols)


@dataclass
class AuditResult:
    """Audit of every input: per-kind file audits, frame audits (files that loaded) and the overview."""

    files: dict[str, FileAudit]
    frames: dict[str, FrameAudit]
    overview: pd.DataFrame

    def loaded(self) -> dict[str, pd.DataFrame]:
        """The frames that loaded, by kind."""
        return {k: f.frame for k, f in self.files.items() if f.frame is not None}

    def reports(self) -> pd.DataFrame:
        """Every file's problems in words (``file, kind, status, column, check, problem``)."""
        return pd.concat([f.report for f in self.files.values()], ignore_index=True)

    def issues(self) -> pd.DataFrame:
        """One row per finding, loader problems and audit checks alike: ``kind, column, check, count, detail``."""
        parts = []
        for kind, fa in self.files.items():
            for p in fa.problems:
                parts.append(pd.DataFrame([_issue(kind, p["column"], p["check"], p["count"], p["problem"])],
                                          columns=ISSUE_COLUMNS))
            if kind in self.frames:
                parts.append(self.frames[kind].issues())
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=ISSUE_COLUMNS)
        out = pd.concat(parts, ignore_index=True)
        out["count"] = pd.to_numeric(out["count"]).astype("Int64")
        return out


def _stack(frames: dict[str, FrameAudit], attr: str) -> pd.DataFrame:
    parts = [getattr(fa, attr).assign(kind=kind) for kind, fa in frames.items() if len(getattr(fa, attr))]
    if not parts:
        cols = ["kind", *getattr(next(iter(frames.values())), attr).columns] if frames else ["kind"]
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    return out[["kind", *[c for c in out.columns if c != "kind"]]]


def _dates_as_text(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c].dtype):
            out[c] = out[c].dt.strftime("%Y-%m-%d").fillna("")
    return out


def coverage_table(result: AuditResult) -> pd.DataFrame:
    """Date coverage of every loaded input with dates (one row per kind), dates as text.

    Adds ``series`` and ``series_with_gaps`` for inputs made of several time series.
    """
    frames = {k: fa for k, fa in result.frames.items()
              if len(fa.coverage) and pd.notna(fa.coverage["first_date"].iloc[0])}
    out = _stack(frames, "coverage")
    if out.empty:
        return out

    def gaps(fa: FrameAudit) -> int:
        if len(fa.series_coverage):
            return int((fa.series_coverage["missing_periods"] > 0).sum())
        return int(fa.coverage["missing_periods"].iloc[0] > 0)

    out["series"] = [len(frames[k].series_coverage) or 1 for k in out["kind"]]
    out["series_with_gaps"] = [gaps(frames[k]) for k in out["kind"]]
    return _dates_as_text(out)


def missing_table(result: AuditResult, only_missing: bool = True) -> pd.DataFrame:
    """Missing values of every loaded input: ``kind, column, dtype, missing, share``."""
    out = _stack(result.frames, "missing")
    return out[out["missing"] > 0].reset_index(drop=True) if only_missing else out


def duplicates_table(result: AuditResult) -> pd.DataFrame:
    """Duplicates of every loaded input, one row per kind.

    Columns: ``kind, key`` (the columns that should identify a row), ``exact_duplicate_rows``,
    ``duplicate_key_rows`` (rows repeating an earlier row's key; missing when there is no key) and
    ``examples`` (of repeated keys, else of exact duplicates).
    """
    rows = []
    for kind, fa in result.frames.items():
        d = fa.duplicates.set_index("check")
        exact, key = d.loc["exact duplicate rows"], d.loc["duplicate keys"]
        rows.append({"kind": kind, "key": key["columns"], "exact_duplicate_rows": exact["count"],
                     "duplicate_key_rows": key["count"],
                     "examples": key["examples"] if pd.notna(key["count"]) and key["count"] else exact["examples"]})
    out = pd.DataFrame(rows, columns=["kind", "key", "exact_duplicate_rows", "duplicate_key_rows", "examples"])
    for c in ("exact_duplicate_rows", "duplicate_key_rows"):
        out[c] = pd.to_numeric(out[c]).astype("Int64")
    return out


def outliers_table(result: AuditResult, only_flagged: bool = False) -> pd.DataFrame:
    """Outlier checks of every loaded input (one row per numeric column)."""
    out = _stack(result.frames, "outliers")
    return out[out["count"] > 0].reset_index(drop=True) if only_flagged else out


def zero_runs_table(result: AuditResult) -> pd.DataFrame:
    """Runs of consecutive zero periods of every loaded input: ``kind, series, start, end, periods``
    (``series`` joins the key values, e.g. ``S04 / P01``), dates as text, longest first."""
    parts = []
    for kind, fa in result.frames.items():
        zr = fa.zero_runs
        if not len(zr):
            continue
        by = [c for c in zr.columns if c not in ("start", "end", "periods")]
        series = zr[by].astype(str).agg(" / ".join, axis=1) if by else pd.Series("all", index=zr.index)
        parts.append(pd.DataFrame({"kind": kind, "series": series, "start": zr["start"], "end": zr["end"],
                                   "periods": zr["periods"].astype("int64")}))
    if not parts:
        return pd.DataFrame(columns=["kind", "series", "start", "end", "periods"])
    out = pd.concat(parts, ignore_index=True).sort_values(["periods", "start"], ascending=[False, True], kind="stable")
    return _dates_as_text(out.reset_index(drop=True))


def negatives_table(result: AuditResult) -> pd.DataFrame:
    """Negative values of every loaded input: ``kind, column, count, share, rule``."""
    return _stack(result.frames, "negatives")


def overview_sentences(result: AuditResult) -> list[str]:
    """The overview in words: one sentence per input."""
    out = []
    for r in result.overview.itertuples(index=False):
        if r.status == "failed":
            out.append(f"{r.kind} ({r.file}): could not be used - {r.n_problems} problem(s) with the file, "
                       "listed below with their fixes.")
            continue
        dates = "" if pd.isna(r.first_date) else \
            f", {r.first_date.date()} to {r.last_date.date()}"
        warn = f"; {r.n_problems} loader warning(s)" if r.n_problems else ""
        out.append(f"{r.kind} ({r.file}): {int(r.rows):,} rows, {int(r.columns)} columns{dates}{warn}; "
                   f"{int(r.n_findings)} audit finding(s).")
    return out


def audit_all(paths: dict, columns: dict | None = None, keys: dict | None = None, method: str = "iqr",
              k: float | None = None) -> AuditResult:
    """Audit every input kind in ``paths`` (kind -> path; empty path = the sample company's file).

    ``columns`` maps kind -> {file column: contract column}; ``keys`` maps kind -> series key
    columns (used for ``sales_history``). Kinds may be given by their short names (``funnel``,
    ``market``, ``panel``, ``sales``). The overview has one row per kind: ``kind, file, status,
    rows, columns, first_date, last_date, n_problems`` (loader problems and warnings) and
    ``n_findings`` (audit findings: gaps, missing values, duplicates, outliers, negatives).
    """
    columns = {normalise_kind(k_): v for k_, v in (columns or {}).items()}
    keys = {normalise_kind(k_): v for k_, v in (keys or {}).items()}
    files: dict[str, FileAudit] = {}
    frames: dict[str, FrameAudit] = {}
    rows = []
    for raw_kind, path in paths.items():
        kind = normalise_kind(raw_kind)
        fa = audit_file(kind, path or "", columns.get(kind), keys.get(kind))
        files[kind] = fa
        first = last = pd.NaT
        n_findings = np.nan
        if fa.frame is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frames[kind] = audit_frame(fa.frame, kind, keys=keys.get(kind), method=method, k=k)
            cov = frames[kind].coverage
            if len(cov):
                first, last = cov["first_date"].iloc[0], cov["last_date"].iloc[0]
            n_findings = len(frames[kind].issues())
        rows.append({"kind": kind, "file": fa.file, "status": fa.status, "rows": fa.raw_rows,
                     "columns": fa.raw_columns, "first_date": first, "last_date": last,
                     "n_problems": len(fa.problems), "n_findings": n_findings})
    overview = pd.DataFrame(rows, columns=["kind", "file", "status", "rows", "columns", "first_date",
                                           "last_date", "n_problems", "n_findings"])
    for c in ("rows", "columns", "n_findings"):
        overview[c] = overview[c].astype("Int64")
    for c in ("first_date", "last_date"):
        overview[c] = pd.to_datetime(overview[c])
    return AuditResult(files=files, frames=frames, overview=overview)


def summary(result: AuditResult) -> dict:
    """A JSON-able summary: per kind status, rows, dates and counts of findings by check."""
    issues = result.issues()
    out = {"n_inputs": int(len(result.overview)),
           "n_failed": int((result.overview["status"] == "failed").sum()),
           "n_with_warnings": int((result.overview["status"] == "warnings").sum()),
           "n_issues": int(len(issues)), "inputs": {}}
    for r in result.overview.itertuples(index=False):
        sub = issues[issues["kind"] == r.kind]
        out["inputs"][r.kind] = {
            "file": r.file, "status": r.status,
            "rows": None if pd.isna(r.rows) else int(r.rows),
            "first_date": None if pd.isna(r.first_date) else r.first_date.date().isoformat(),
            "last_date": None if pd.isna(r.last_date) else r.last_date.date().isoformat(),
            "n_problems": int(r.n_problems),
            "findings": {str(c): int(n) for c, n in sub.groupby("check").size().items()},
        }
    return out


# ----------------------------------------------------------------------------- tables for charts


def rows_by_month(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per calendar month of every frame with a date column:
    ``kind, month, rows, rows_per_period, missing``.

    Months between a frame's first and last date without any row appear with ``rows`` 0.
    ``rows_per_period`` is the number of rows per period of the input's own frequency in that
    month (the average per week for weekly data, which has four or five weeks a month; the rows of
    the quarter for quarterly data), so that a partial month stands out but the calendar does not.
    ``missing`` marks months in a period of the input's grid without any row.
    """
    parts = []
    for kind, df in frames.items():
        kind = normalise_kind(kind)
        contract = CONTRACTS[kind]
        date_col = contract.date_column
        if not date_col or date_col not in df.columns or df[date_col].notna().sum() == 0:
            continue
        s = rows_per_period(df, date_col, "MS")
        per = s.astype(float)
        missing = (s == 0).to_numpy()
        freq = file_frequency(df, contract)
        if freq and freq.startswith("W"):
            weekly = rows_per_period(df, date_col, freq)
            per = weekly.groupby(weekly.index.to_period("M").to_timestamp()).mean().reindex(s.index, fill_value=0.0)
        elif freq in ("QS", "YS"):  # coarser than a month: judge the month by its quarter (year)
            code = _period_code(freq)
            by_period = df[date_col].dropna().dt.to_period(code).value_counts()
            per = pd.Series([float(by_period.get(m.to_period(code), 0)) for m in s.index], index=s.index)
            missing = (per == 0).to_numpy()
        parts.append(pd.DataFrame({"kind": kind, "month": s.index, "rows": s.to_numpy(),
                                   "rows_per_period": per.to_numpy(dtype=float), "missing": missing}))
    if not parts:
        return pd.DataFrame({"kind": pd.Series(dtype="string"), "month": pd.Series(dtype="datetime64[ns]"),
                             "rows": pd.Series(dtype="int64"), "rows_per_period": pd.Series(dtype="float64"),
                             "missing": pd.Series(dtype="bool")})
    return pd.concat(parts, ignore_index=True)


def missing_matrix(frames: dict[str, FrameAudit]) -> pd.DataFrame:
    """Share of missing values, kinds (rows) by columns; NaN where the file has no such column."""
    parts = {kind: fa.missing.set_index("column")["share"] for kind, fa in frames.items()}
    if not parts:
        return pd.DataFrame()
    m = pd.DataFrame(parts).T
    order = list(dict.fromkeys(c for fa in frames.values() for c in fa.missing["column"]))
    return m.reindex(columns=order)


def overview_table(result: AuditResult) -> pd.DataFrame:
    """The overview with dates as text (for display)."""
    return _dates_as_text(result.overview)


def action_list(result: AuditResult) -> list[str]:
    """What to do about the findings, most urgent first, one sentence each.

    ``Fix`` for failed inputs, duplicated keys and date gaps (they change totals and trends),
    ``Check`` for outliers and unexpected negatives, ``Accept`` for legal returns; a single
    sentence when nothing was found.
    """
    fix, check, accept = [], [], []
    for kind, fa in result.files.items():
        if fa.status == "failed":
            fix.append(f"Fix: {kind} ({fa.file}) cannot be used - {len(fa.problems)} problem(s), see section 6.")
    issues = result.issues()
    for r in issues.itertuples(index=False):
        if r.check in ("duplicate keys", "exact duplicate rows", "date gaps", "series gaps"):
            fix.append(f"Fix: {r.kind} - {r.detail}")
        elif r.check == "zero runs":
            check.append(f"Check: {r.kind} '{r.column}' - {r.detail}")
        elif r.check == "outliers":
            check.append(f"Check: {r.kind} '{r.column}' - {r.detail}")
        elif r.check == "negative values":
            if "allowed" in r.detail:
                accept.append(f"Accept: {r.kind} '{r.column}' - {r.detail}")
            elif "breaks the contract" in r.detail:
                fix.append(f"Fix: {r.kind} '{r.column}' - {r.detail}")
            else:
                accept.append(f"Note: {r.kind} '{r.column}' - {r.detail} (legitimate if the measure can fall)")
        elif r.check == "missing values":
            check.append(f"Check: {r.kind} '{r.column}' - {r.detail}")
    out = fix + check + accept
    return out or ["Nothing to fix: every input loaded and no check found anything."]

"""Value checks of the audit on one loaded frame: missing values, duplicates, robust outliers, negative
values and runs of zeros."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

from marksell.audit.dates import sales_keys, series_keys
from marksell.data.contracts import Contract

#: Columns within which numeric values are comparable, for outlier fences (when present).
OUTLIER_GROUPS = {
    "price_panel": ("store_id", "product_id", "promo"),  # each series, promotion weeks apart
    "marketing_funnel": ("channel",),
    "market_size": ("region",),
}

N_EXAMPLES = 3
_MIN_GROUP = 8  # fewer values than this in a group: no outlier fences


# ----------------------------------------------------------------------------- missing, duplicates


def missing_values(df: pd.DataFrame) -> pd.DataFrame:
    """Missing values per column: ``column, dtype, missing, share`` (share of rows, 0..1)."""
    n = len(df)
    miss = df.isna().sum()
    return pd.DataFrame(
        {
            "column": [str(c) for c in df.columns],
            "dtype": [str(t) for t in df.dtypes],
            "missing": miss.to_numpy(dtype="int64"),
            "share": (miss / n).to_numpy(dtype=float) if n else np.zeros(len(df.columns)),
        }
    )


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
    rows.append(
        {
            "check": "exact duplicate rows",
            "columns": "all columns",
            "count": int(dup.sum()),
            "groups": int(df[involved].drop_duplicates().shape[0]) if involved.any() else 0,
            "examples": "; ".join(_row_label(df, i, ids) for i in df.index[dup][:N_EXAMPLES]),
        }
    )
    kc = key_columns(df, contract, keys)
    if kc:
        kdup = df.duplicated(subset=kc, keep="first")
        kinv = df.duplicated(subset=kc, keep=False)
        rows.append(
            {
                "check": "duplicate keys",
                "columns": ", ".join(kc),
                "count": int(kdup.sum()),
                "groups": int(df.loc[kinv, kc].drop_duplicates().shape[0]) if kinv.any() else 0,
                "examples": "; ".join(_row_label(df, i, kc) for i in df.index[kdup][:N_EXAMPLES]),
            }
        )
    else:
        rows.append(
            {"check": "duplicate keys", "columns": "(no key in the contract)", "count": np.nan, "groups": np.nan, "examples": ""}
        )
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


def outliers(
    df: pd.DataFrame,
    contract: Contract,
    by: list[str] | None = None,
    method: str = "iqr",
    k: float | None = None,
    log_positive: bool = True,
    keys: list[str] | None = None,
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
    Columns that are 0 in over a quarter of the rows (a promotion share, a spend that is often nil)
    are judged on their non-zero values; groups whose fences have no width (over half of the values
    equal) are not judged.

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
    rows = [_column_outliers(df, col, by, ids, method, k, log_positive) for col in numeric_columns(df) if col not in by]
    return pd.DataFrame(
        rows,
        columns=["column", "scale", "n", "median", "low_fence", "high_fence", "n_low", "n_high", "count", "share", "examples"],
    )


def _group_fences(z: pd.Series, keys: list, method: str, k: float) -> tuple[pd.Series, pd.Series]:
    """Low and high fences of every row, computed within its group (groups under ``_MIN_GROUP`` values or
    with fences of no width are not judged: NaN)."""
    lo = pd.Series(np.nan, index=z.index)
    hi = pd.Series(np.nan, index=z.index)
    groups = [g for _, g in z.groupby(keys, dropna=False)] if keys else [z]
    for zg in groups:
        if zg.notna().sum() < _MIN_GROUP:
            continue
        lf, hf = _fences(zg.to_numpy(dtype=float), method, k)
        if not hf > lf:  # over half the values are equal (e.g. a promotion share that is
            continue  # mostly 0): zero spread would flag every other value
        lo.loc[zg.index], hi.loc[zg.index] = lf, hf
    return lo, hi


def _column_outliers(
    df: pd.DataFrame, col: str, by: list[str], ids: list[str], method: str, k: float, log_positive: bool
) -> dict:
    """One row of :func:`outliers`: the scale, fences, counts and most extreme examples of ``col``."""
    x = df[col].astype("float64")
    valid = x.dropna()
    # mostly positive amounts are judged on the log scale; zeros (weeks without sales) are not
    # judged, and negatives (returns, credits) are judged among themselves on the log of |x|
    n_pos = int((valid > 0).sum())
    log = bool(log_positive and n_pos >= _MIN_GROUP and n_pos >= 0.5 * len(valid))
    signed = bool(log and (valid < 0).any())
    sign = np.sign(x)
    # a column that is 0 in over a quarter of the rows (no promotion, no spend) is zero-inflated:
    # the zeros are a state, not a measurement, so only the other values are judged
    zero_heavy = bool(not log and len(valid) and (valid == 0).mean() > 0.25)
    z = np.log(x.abs().where(x != 0)) if log else (x.where(x != 0) if zero_heavy else x)
    lo, hi = _group_fences(z, [df[c] for c in by] + ([sign] if signed else []), method, k)
    below, above = (z < lo).fillna(False), (z > hi).fillna(False)
    neg = (sign < 0).fillna(False)
    low = (below & ~neg) | (above & neg)  # a large return is a low value
    high = (above & ~neg) | (below & neg)
    flagged = low | high
    width = (hi - lo).where(lambda w: w > 0)
    centre = (hi + lo) / 2
    severity = ((z - centre).abs() / width).where(flagged).sort_values(ascending=False)
    examples = "; ".join(f"{_row_label(df, i, ids)}: {df.at[i, col]:,.6g}" for i in severity.index[:N_EXAMPLES] if flagged.loc[i])
    back = np.exp if log else (lambda v: v)
    lo_pos, hi_pos = (lo[sign > 0], hi[sign > 0]) if signed else (lo, hi)
    n = int(valid.size)
    scale = "linear, zeros not judged" if zero_heavy else "linear"
    if log:
        scale = "log, by sign" if signed else ("log, zeros not judged" if (valid == 0).any() else "log")
    return {
        "column": col,
        "scale": scale,
        "n": n,
        "median": float(valid.median()) if n else np.nan,
        "low_fence": float(back(lo_pos.min())) if lo_pos.notna().any() else np.nan,
        "high_fence": float(back(hi_pos.max())) if hi_pos.notna().any() else np.nan,
        "n_low": int(low.sum()),
        "n_high": int(high.sum()),
        "count": int(flagged.sum()),
        "share": float(flagged.sum() / n) if n else 0.0,
        "examples": examples,
    }


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
        returns_in = [
            r.name
            for r in contract.columns
            if r.warn_negative
            and r.name in df.columns
            and r.name != c
            and pd.api.types.is_numeric_dtype(df[r.name].dtype)
            and bool((df[r.name][mask] < 0).fillna(False).all())
        ]
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


def zero_runs(
    df: pd.DataFrame, contract: Contract, value_col: str | None = None, by: list[str] | None = None, min_run: int = 3
) -> pd.DataFrame:
    """Runs of at least ``min_run`` consecutive zero periods within each series.

    A zero week is legitimate, but several in a row usually mean a store closure, a stock-out or a
    delisting - periods an elasticity or a forecast should not read as "no demand". ``value_col``
    defaults to the kind's quantity (``units`` of a price panel, ``sales`` of a sales history);
    ``by`` to the kind's series keys. Columns: [by...], ``start, end, periods``, longest first.
    """
    value_col = value_col or ZERO_COLUMNS.get(contract.kind)
    date_col = contract.date_column
    by = list(by if by is not None else series_keys(df, contract, sales_keys(df, contract)))
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
    agg = z.groupby(run).agg(
        **{c: (c, "first") for c in by}, start=(date_col, "min"), end=(date_col, "max"), periods=(date_col, "size")
    )
    agg = agg[agg["periods"] >= min_run]
    return agg.sort_values(["periods", "start"], ascending=[False, True]).reset_index(drop=True)[cols]

"""Loaders: read an input file (CSV, Parquet or Excel), map its columns, coerce and validate them.

One function per input kind (``load_transactions``, ``load_price_panel``, ...). Each:

1. resolves the path (empty = the sample company's file),
2. reads CSV (delimiter detected among comma, semicolon, tab and pipe; UTF-8, UTF-8 with BOM,
   UTF-16 with BOM, Windows-1252 or Latin-1), Parquet (only the needed columns) or Excel (the
   sheet that holds the contract's columns, or the one named by ``sheet``),
3. renames the user's columns with ``columns={"their name": "contract name"}``; a column whose
   name differs from a contract name only in case, spaces or hyphens ("Order Date") is mapped
   automatically,
4. coerces every contract column to its type and validates the contract with pandera (a clean
   Parquet or UTF-8 CSV file is read by pyarrow, checked on its Arrow arrays instead and converted once,
   see :mod:`marksell.data.arrow`),
5. raises one :class:`~marksell.errors.DataContractError` listing *every* problem found, or warns
   with :class:`DataQualityWarning` about data that is legal but suspicious,
6. attaches provenance (path, sha256, rows) in ``df.attrs["provenance"]``.

Everything is vectorised, so a million-row file costs seconds, not minutes.
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from marksell.data.arrow import clean_frame, duplicate_count, repeated_rows
from marksell.data.columns import check_keys, check_mapping, name_mapping, structure_problems
from marksell.data.contracts import CONTRACTS, Column, Contract
from marksell.data.plausible import isolated_old_dates
from marksell.data.read import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    csv_table,
    display_path,
    file_sha256,
    parquet_columns,
    read_table,
)
from marksell.data.validate import coerce_columns, missing_problems, schema_problems
from marksell.errors import DataContractError, DataQualityWarning
from marksell.paths import resolve_input

_MAGNITUDE_RATIO = 1e6  # a value this many times the median size is flagged
_BLOCK = 1 << 20  # rows per block of the checks that need no full-size temporaries


# ----------------------------------------------------------------------------- public API


def load_transactions(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Transactions: ``customer_id, order_date, revenue`` (+ optional order_id, quantity, channel, region)."""
    return load("transactions", path, columns, **kw)


def load_customers(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Customers: ``customer_id, acquisition_date, channel, region``."""
    return load("customers", path, columns, **kw)


def load_price_panel(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Price panel: ``date, product_id, price, units`` (+ store_id, category, promo, unit_cost, numerics)."""
    return load("price_panel", path, columns, **kw)


def load_sales_history(
    path: str | os.PathLike | None = "",
    columns: dict | None = None,
    keys: list[str] | None = None,
    value_col: str = "sales",
    **kw,
) -> pd.DataFrame:
    """Sales history in long form: ``date``, the ``keys`` columns (text) and the value column.

    ``value_col`` names the value column in the file; it is renamed to ``sales``.
    """
    columns = dict(columns or {})
    if value_col and value_col != "sales":
        columns.setdefault(value_col, "sales")
    return load("sales_history", path, columns, keys=keys, **kw)


def load_sales_plan(
    path: str | os.PathLike | None = "",
    columns: dict | None = None,
    keys: list[str] | None = None,
    **kw,
) -> pd.DataFrame:
    """Sales plan: ``date`` (future periods), the ``keys`` columns (text) and numeric driver
    columns (promotion, price, calendar flags) for the forecast's regression model."""
    return load("sales_plan", path, columns, keys=keys, **kw)


def load_opportunities(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Opportunities: ``opportunity_id, name`` (+ group) and numeric criteria columns."""
    return load("opportunities", path, columns, **kw)


def load_marketing_funnel(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Marketing funnel: ``month, channel, spend, leads, conversions``."""
    return load("marketing_funnel", path, columns, **kw)


def load_market_size(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Market size: ``month, market_size`` (+ region)."""
    return load("market_size", path, columns, **kw)


def load_experiment(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Experiment: unit rows ``unit_id, variant`` (+ timestamp, experiment, numeric metrics and covariates,
    text segments), or a summary table ``variant, metric, n, sum, sum_sq`` when the file has no unit ids.

    ``columns`` is a flat mapping (applied to whichever form the file is) or one mapping per form:
    ``{"experiment": {...}}`` for unit rows, ``{"experiment_summary": {...}}`` for a summary table.
    """
    try:
        return load("experiment", path, columns, **kw)
    except DataContractError as err:
        missing = {p.get("column") for p in err.problems if p.get("expected") == "a required column"}
        if "unit_id" not in missing:
            raise
        if isinstance(columns, dict) and isinstance(columns.get("experiment"), dict) and "experiment_summary" not in columns:
            columns = columns["experiment"]  # the experiment file's mapping, whichever form the file takes
        try:
            return load("experiment_summary", path, columns, **kw)
        except DataContractError as summary_err:
            meant_summary = isinstance(columns, dict) and isinstance(columns.get("experiment_summary"), dict)
            if not meant_summary and any(p.get("expected") == "a required column" for p in summary_err.problems):
                raise err from None  # not a summary table either: the unit-row message is the useful one
            raise


def load_mmm(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Marketing mix series: ``date`` and numeric columns (outcome, spend per channel, controls)."""
    return load("mmm", path, columns, **kw)


def load_lift_tests(path: str | os.PathLike | None, columns: dict | None = None, **kw) -> pd.DataFrame:
    """Lift tests: ``channel, start, end, lift, lift_se`` (one row per experiment)."""
    return load("lift_tests", path, columns, **kw)


def load(
    kind: str,
    path: str | os.PathLike | None = "",
    columns: dict | None = None,
    *,
    keys: list[str] | None = None,
    sheet: str | int | None = None,
    today: datetime | None = None,
) -> pd.DataFrame:
    """Read, map, coerce and validate one input file of ``kind`` (see :mod:`marksell.data.contracts`)."""
    if kind not in CONTRACTS:
        raise ValueError(f"unknown input kind {kind!r}; known kinds: {sorted(CONTRACTS)}")
    contract = CONTRACTS[kind]
    src = resolve_input(path, kind)
    shown = display_path(src)
    columns = check_mapping(columns, shown, contract)
    keys = check_keys(keys, shown, contract)

    fast, sha256 = _load_clean(src, contract, columns, keys, today or datetime.now())
    if fast is not None:
        _warn_suspicious(fast.frame, contract, keys, shown, fast.codes)
        return _with_provenance(fast.frame, kind, shown, sha256, sheet=None)

    raw, row_offset = read_table(src, contract, columns=columns, keys=keys, sheet=sheet)
    df = validate_frame(raw, kind, columns, shown=shown, keys=keys, today=today, row_offset=row_offset, stacklevel=4)
    return _with_provenance(df, kind, shown, sha256 or file_sha256(src), raw.attrs.get("sheet"))


def validate_frame(
    raw: pd.DataFrame,
    kind: str,
    columns: dict | None = None,
    *,
    shown: str = "the table",
    keys: list[str] | None = None,
    today: datetime | None = None,
    row_offset: int = 2,
    optional: tuple[str, ...] = (),
    stacklevel: int = 2,
) -> pd.DataFrame:
    """Map, coerce and validate a frame already in memory as :func:`load` does a file's.

    ``shown`` names the source in messages; ``row_offset`` turns an index into a file row (2: a header
    line, then data); ``optional`` names required contract columns this caller can do without. Raises
    one :class:`DataContractError` listing every problem, e.g. two columns that would carry the same
    contract name after mapping.
    """
    contract = CONTRACTS[kind]
    if optional:
        contract = dataclasses.replace(
            contract, columns=tuple(dataclasses.replace(c, required=False) if c.name in optional else c for c in contract.columns)
        )
    columns = check_mapping(columns, shown, contract)
    keys = check_keys(keys, shown, contract)
    file_columns = list(raw.attrs.get("file_columns", raw.columns))
    mapping = name_mapping(list(raw.columns), contract, keys, columns)
    df = raw.rename(columns=mapping)
    df.attrs = {}
    problems = structure_problems(df, contract, keys, columns, file_columns)
    if problems:
        raise DataContractError(shown, kind, problems)

    notes: list[str] = []
    raw_missing = df.isna()
    df, problems = coerce_columns(df, contract, keys, row_offset, notes)
    problems += missing_problems(df, raw_missing, contract, keys, row_offset)
    problems += schema_problems(df, contract, keys, row_offset, today or datetime.now())
    if problems:
        raise DataContractError(shown, kind, problems)

    for note in notes:
        warnings.warn(f"{shown}: {note}", DataQualityWarning, stacklevel=stacklevel)
    _warn_suspicious(df, contract, keys, shown)
    return df


def _with_provenance(df: pd.DataFrame, kind: str, shown: str, sha256: str, sheet) -> pd.DataFrame:
    df.attrs["provenance"] = {"kind": kind, "path": shown, "sha256": sha256, "rows": int(len(df))}
    if sheet is not None:
        df.attrs["provenance"]["sheet"] = sheet
    return df


def _load_clean(src: Path, contract: Contract, columns: dict, keys: list[str], today: datetime):
    """The fast path for Parquet and clean UTF-8 CSV: the contract checked on the Arrow table
    (:mod:`marksell.data.arrow`) while the file is hashed; Parquet columns are read one at a time, text key
    columns as dictionary codes. Returns (:class:`~marksell.data.arrow.Clean` frame and codes, sha256); the
    first is None when the file needs the general path, which then reports or repairs exactly as before."""
    suffix = src.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        reader = parquet_columns
    elif suffix in CSV_SUFFIXES or suffix == "":
        reader = csv_table
    else:
        return None, None
    if not src.is_file():
        return None, None
    with ThreadPoolExecutor(1) as pool:
        digest = pool.submit(file_sha256, src)
        read = reader(src, contract, columns, keys)
        if read is None:
            return None, digest.result()
        table, file_columns = read
        names = [str(n).strip() for n in table.column_names]
        mapping = name_mapping(names, contract, keys, columns)
        table = table.rename_columns([mapping.get(n, n) for n in names])
        clean = (
            table.num_rows > 0
            and not any(re.fullmatch(r"Unnamed: \d+", n) for n in names)
            and not structure_problems(
                pd.DataFrame(columns=table.column_names, index=range(1)), contract, keys, columns, file_columns
            )
        )
        if not clean:
            return None, digest.result()
        box = [table]
        del table, read  # clean_frame holds the only reference and frees each column once converted
        return clean_frame(box.pop(), contract, keys, today), digest.result()


# ----------------------------------------------------------------------------- warnings


def _n_duplicate_rows(df: pd.DataFrame) -> int:
    """Exact duplicate rows. Rows can only repeat where a cheap key repeats (the order id when
    there is one, else customer and date), so the full-row comparison runs on those rows only."""
    if len(df) < 2:
        return 0
    key = ["order_id"] if "order_id" in df.columns else [c for c in ("customer_id", "order_date") if c in df]
    maybe = repeated_rows(df[key]) if key else np.ones(len(df), bool)
    if not maybe.any():
        return 0
    return int(df[maybe].duplicated().sum())


def _outsized(values: np.ndarray):
    """(count, median size, largest size) of the values over ``_MAGNITUDE_RATIO`` times the median size
    (sizes: absolute values, zeros and non-finite values left out), or None when there are none. The median
    (a partial sort, the costly step on millions of rows) is computed only when the largest size exceeds the
    ratio times the smallest; otherwise no value can exceed the ratio times the median. Count, smallest and
    largest are taken a block at a time (no full-size temporaries: the usual case ends there)."""
    count, smallest, largest = 0, np.inf, 0.0
    for at in range(0, len(values), _BLOCK):
        size = np.abs(values[at : at + _BLOCK])
        ok = np.isfinite(size) & (size != 0)
        count += int(np.count_nonzero(ok))
        smallest = min(smallest, float(size.min(where=ok, initial=np.inf)))
        largest = max(largest, float(size.max(where=ok, initial=0.0)))
    if count < 3 or not largest > _MAGNITUDE_RATIO * smallest:
        return None
    size = np.abs(values)
    size = size[np.isfinite(size) & (size != 0)]
    median = float(np.median(size))
    n = int((size > _MAGNITUDE_RATIO * median).sum())
    return (n, median, size.max()) if n else None


def _warn_suspicious(df: pd.DataFrame, contract: Contract, keys, shown: str, codes: dict | None = None) -> None:
    """Warn about legal but suspicious data; ``codes``: exact codes of text key columns (fast path)."""
    known = {c.name: c for c in contract.columns}
    for name in df.columns:
        col = known.get(name)
        if col is None and contract.extra_numeric and name not in keys:
            col = Column(name, "float", "")
        if col is None or not pd.api.types.is_numeric_dtype(df[name].dtype) or not (col.warn_negative or col.dtype == "float"):
            continue
        values = df[name].to_numpy(dtype="float64", na_value=np.nan)  # float columns: no copy
        if col.warn_negative:
            n = sum(int(np.count_nonzero(values[at : at + _BLOCK] < 0)) for at in range(0, len(values), _BLOCK))
            if n:
                warnings.warn(
                    f"{shown}: {n} row(s) with negative '{col.name}' (treated as returns/credits)",
                    DataQualityWarning,
                    stacklevel=4,
                )
        outsized = _outsized(values) if col.dtype == "float" else None
        if outsized:
            n, median, largest = outsized
            warnings.warn(
                f"{shown}: {n} value(s) of '{col.name}' over a million times the typical size "
                f"(median {median:.3g}, largest {largest:.3g}); check for extra zeros "
                "or mixed units",
                DataQualityWarning,
                stacklevel=4,
            )
        del values
    if contract.date_column in df.columns:
        old = isolated_old_dates(df[contract.date_column])
        if old is not None:
            warnings.warn(
                f"{shown}: {old.describe(contract.date_column)}; placeholders or typos for missing "
                "dates? They stretch every history they are in: correct or remove them",
                DataQualityWarning,
                stacklevel=4,
            )
    if contract.kind == "transactions":
        n = _n_duplicate_rows(df)
        if n:
            warnings.warn(f"{shown}: {n} exact duplicate row(s); kept as separate orders", DataQualityWarning, stacklevel=4)
    if contract.kind == "sales_history" and len(df):
        n = duplicate_count(df, ["date", *keys], codes)
        if n:
            warnings.warn(
                f"{shown}: {n} duplicated date(s) within a series; the forecast aggregates or refuses "
                "them (parameter `duplicates`)",
                DataQualityWarning,
                stacklevel=4,
            )
    if contract.date_freq and contract.date_column in df.columns and len(df):
        dates = pd.DatetimeIndex(df[contract.date_column].dropna().unique()).sort_values()
        if len(dates) > 2:
            step = "7D" if contract.date_freq.startswith("W") else contract.date_freq
            full = pd.date_range(dates[0], dates[-1], freq=step)
            missing = full.difference(dates)
            if len(missing):
                warnings.warn(
                    f"{shown}: {len(missing)} gap(s) in '{contract.date_column}' (first: {missing[0].date()})",
                    DataQualityWarning,
                    stacklevel=4,
                )
            off_grid = dates.difference(full)
            if len(off_grid):
                warnings.warn(
                    f"{shown}: {len(off_grid)} date(s) in '{contract.date_column}' off the "
                    f"{'weekly' if step == '7D' else 'monthly'} grid starting {dates[0].date()} "
                    f"(first: {off_grid[0].date()})",
                    DataQualityWarning,
                    stacklevel=4,
                )

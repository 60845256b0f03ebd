"""The contract checked on Arrow arrays before any conversion: the loaders' fast path for clean files.

The general path (coerce in pandas, validate with pandera) words every problem exactly but makes many
passes over the data. Most large files are clean, so :func:`clean_frame` first checks the contract's rules
on the Arrow table with ``pyarrow.compute`` and numpy (missing values, NA spellings, bounds, dates, whole
numbers, 0/1 flags, duplicate keys) and, when every rule holds, converts each column once to the type the
general path would give it. When any rule fails, or a column needs more than stripping text (text to parse,
time zones, a cut-off date), it returns ``None`` and the loader takes the general path, which then words
the problems: messages and results are the same either way.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from marksell.data.contracts import Column, Contract

NA_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "#N/A"]
_LONGEST_NA_TOKEN = max(len(t) for t in NA_TOKENS)
_MIN_DATE = np.datetime64("1900-01-01", "ns")
_MAX_DATE = np.datetime64("2262-04-11", "ns")
_MAX_EXACT_INT = 2.0**53
_DAY_NS = 86_400 * 10**9
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_LARGE_ROWS = 1_000_000  # from this size on, Arrow's pool hands freed memory back as columns are converted


class _NotClean(Exception):
    """A rule fails or a column needs the general path."""


class Clean(NamedTuple):
    """A frame that passed the contract on the fast path, with the exact codes of its text key columns
    (column name -> (code per row, number of codes)) for the duplicate counts that follow."""

    frame: pd.DataFrame
    codes: dict


def clean_frame(table, contract: Contract, keys: list[str], today: datetime) -> Clean | None:
    """The loaded frame when every column of ``table`` (a ``pyarrow.Table`` or a table read on demand such as
    :class:`marksell.data.read.ParquetColumns`, already renamed to contract names) satisfies the contract
    without repair, else ``None`` (the general path then reports or repairs)."""
    known = {c.name: c for c in contract.columns}
    horizon = np.datetime64(pd.Timestamp(today).normalize() + timedelta(days=1), "ns")
    jobs = {}
    for name in table.column_names:
        col = known.get(name)
        if col is None and name in keys:
            col = Column(name, "string", "")
        elif col is None and contract.extra_numeric:
            col = Column(name, "float", "", required=False, nullable=True)
        if col is not None:
            jobs[name] = col
    coded = set(key_columns(contract, keys))  # text read as dictionary codes: exact duplicate counts, no hashing
    # Arrow kernels and numpy release the GIL: columns are checked side by side
    as_codes = set()  # text columns read as dictionaries although the file stores plain text
    if isinstance(table, pa.Table):
        raw = {name: table.column(name) for name in jobs}
    else:  # read on demand, inside the job: one column in memory per job, not the whole table
        as_codes = {name for name in coded & set(jobs) if table.stored_as_text(name)}
        raw = {name: functools.partial(table.column, name, name in as_codes) for name in jobs}
    large = table.num_rows >= _LARGE_ROWS
    del table  # each file column is freed as soon as it is converted (the caller drops its table too)
    _release_unused(large)  # the reader's decoding buffers
    out, codes = {}, {}
    with ThreadPoolExecutor(max(1, min(len(jobs), os.cpu_count() or 1, 4))) as pool:
        # numbers and dates first, side by side: their conversion copies, which costs least while the frame is still
        # small; then text one column at a time (its transient: the codes and indices of the column in hand)
        order = sorted(jobs, key=lambda name: jobs[name].dtype == "string")
        one_text = threading.Lock()
        futures = {}
        for name in order:
            futures[pool.submit(_convert, raw.pop(name), jobs[name], contract, horizon, name in as_codes, one_text)] = name
        try:
            for f in as_completed(futures):
                name = futures[f]
                out[name], column_codes = f.result()
                if column_codes is not None and name in coded:
                    codes[name] = column_codes
                _release_unused(large)  # the file column just converted
        except _NotClean:
            for f in futures:
                f.cancel()
            return None
    frame = pd.DataFrame({name: out.pop(name) for name in jobs}, copy=False)
    del futures
    unique = [c for c in dict.fromkeys((*contract.unique, *keys)) if c in frame.columns] if contract.unique else []
    if unique and duplicate_count(frame, unique, codes):
        return None
    return Clean(frame, codes)


def key_columns(contract: Contract, keys: list[str]) -> list[str]:
    """The columns whose combinations the loader counts: the contract's unique columns and the series keys."""
    return list(dict.fromkeys((*contract.unique, *keys)))


def _release_unused(large: bool) -> None:
    """Hand the memory Arrow's pool keeps after a large read (decoding buffers, freed file columns) back to the
    system: the numpy arrays made next cannot reuse it, so it would only raise the peak."""
    if large:
        pa.default_memory_pool().release_unused()


def _convert(arr, col: Column, contract: Contract, horizon, plain_text: bool = False, one_text=None):
    """(values, exact codes of a dictionary text column or None); ``arr`` may be a reader to call first;
    ``plain_text``: a dictionary read of a column the file stores as plain text (NA spellings apply);
    ``one_text``: a lock held while a text column is read and converted."""
    if col.dtype == "string" and one_text is not None:
        with one_text:
            return _convert(arr, col, contract, horizon, plain_text)
    if callable(arr):
        try:
            arr = arr()
        except Exception:  # any reader error (as parquet_table's): the general path reads again and words it
            raise _NotClean from None
    codes = None
    if col.dtype == "string" and pa.types.is_dictionary(arr.type):
        handed = [arr]
        del arr  # the only reference is handed on: each file chunk is freed once its text is made
        values, codes = _dictionary_text(handed, plain_text)
    elif col.dtype == "string":
        values = _text(arr)
    elif col.dtype == "datetime":
        values = _dates(arr, col, contract, horizon)
    else:
        values = _numbers(arr, col)
    if not col.nullable and values.isna().any():
        raise _NotClean  # missing values in a required column: the general path words them
    return values, codes


# ----------------------------------------------------------------------------- text


def _text(arr: pa.ChunkedArray) -> pd.Series:
    """Stripped text as pandas' ``string`` dtype; NA spellings become missing."""
    if pa.types.is_integer(arr.type):
        return pd.Series(_string_array(pc.cast(arr, pa.large_string())))
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type)):
        raise _NotClean  # floats (IDs written as 12.0), booleans, dates: the general path's rules
    edges = _edges(arr)
    if edges is None or edges[0]:  # maybe a space at an edge: strip, then compare
        trimmed = pc.utf8_trim_whitespace(arr)
        if pc.sum(pc.binary_length(trimmed)).as_py() == pc.sum(pc.binary_length(arr)).as_py():
            trimmed = arr  # nothing to strip: keep the file's buffers (no second copy of the text)
        shortest = pc.min(pc.binary_length(trimmed)).as_py()
    else:
        trimmed, shortest = arr, edges[1]  # nothing to strip: the file's buffers (no copy of the text)
    if shortest is not None and shortest <= _LONGEST_NA_TOKEN:  # else no NA spelling
        na = pc.is_in(trimmed, value_set=pa.array(NA_TOKENS, trimmed.type))
        if pc.any(na).as_py():
            trimmed = pc.if_else(na, pa.scalar(None, trimmed.type), trimmed)
    return pd.Series(_string_array(trimmed))


def _dictionary_text(handed: list, plain_text: bool) -> tuple[pd.Series, tuple[np.ndarray, int]]:
    """Text and exact codes of the dictionary column in ``handed`` (taken out of it, so that each file chunk is
    freed once its text is made). The few distinct values of each dictionary are stripped (columns the file
    stores as dictionaries keep their NA spellings, as the general path does; ``plain_text``: a dictionary read
    of plain text, whose NA spellings become missing); equal texts get equal codes, missing values one code of
    their own (pandas counts missing keys as equal)."""
    arr = handed.pop()
    value_type = arr.type.value_type
    if not pa.types.is_string(value_type) and not pa.types.is_large_string(value_type):
        raise _NotClean
    n, chunks = len(arr), arr.chunks
    del arr
    cleaned = {}  # the chunks of one row group share its dictionary: each dictionary stripped once
    for c in chunks:
        cleaned.setdefault(_buffer_key(c.dictionary), c.dictionary)
    for key, values in cleaned.items():
        values = pc.utf8_trim_whitespace(values)  # the few categories, not the millions of cells
        if plain_text and len(values):
            na = pc.is_in(values, value_set=pa.array(NA_TOKENS, values.type))
            values = pc.if_else(na, pa.scalar(None, values.type), values)
        cleaned[key] = values
    distinct = pc.drop_null(pc.unique(pa.concat_arrays(list(cleaned.values())))) if cleaned else pa.array([], pa.string())
    n_codes = len(distinct) + 1  # the last code: missing
    code_type = np.min_scalar_type(n_codes)
    remaps = {
        key: np.append(
            pc.index_in(values, value_set=distinct).fill_null(n_codes - 1).to_numpy(zero_copy_only=False), n_codes - 1
        ).astype(code_type)
        for key, values in cleaned.items()
    }  # each dictionary position -> its code; one more position for missing indices
    codes, at, text = np.empty(n, code_type), 0, []
    for i in range(len(chunks)):
        c, chunks[i] = chunks[i], None
        key = _buffer_key(c.dictionary)
        indices = c.indices if not c.indices.null_count else c.indices.cast(pa.int64()).fill_null(len(cleaned[key]))
        np.take(remaps[key], indices.to_numpy(zero_copy_only=False), out=codes[at : at + len(c)])
        at += len(c)
        text.append(pa.DictionaryArray.from_arrays(c.indices, cleaned[key]).cast(pa.large_string()))
        del c, indices
    return pd.Series(_string_array(pa.chunked_array(text, pa.large_string()))), (codes, n_codes)


def _buffer_key(dictionary: pa.Array) -> tuple:
    """Identifies a dictionary by its buffers (row groups read in several batches share one)."""
    return (dictionary.offset, len(dictionary), *(b.address if b is not None else 0 for b in dictionary.buffers()))


def _edges(arr: pa.ChunkedArray) -> tuple[bool, int | None] | None:
    """(whether some cell may start or end with whitespace, the shortest cell's length in bytes) read from the
    offsets and the first and last byte of each cell, without copying the text; None for other layouts.

    A cell may need stripping only when its first or last byte is ASCII whitespace or a control byte
    (<= 0x20) or belongs to a multi-byte character (>= 0x80, possibly a Unicode space): a conservative test,
    the exact stripping decides when it says yes. Cells under nulls count too (only more conservative)."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    maybe, shortest = False, None
    for chunk in arr.chunks:
        n = len(chunk)
        if n == 0:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], width)[chunk.offset : chunk.offset + n + 1]
        lengths = np.diff(offsets)
        low = int(lengths.min())
        shortest = low if shortest is None else min(shortest, low)
        if maybe:
            continue
        data = chunk.buffers()[2]
        if data is None or data.size == 0:
            continue
        text = np.frombuffer(data, np.uint8)
        full = lengths > 0
        start, end = (offsets[:-1], offsets[1:] - 1) if low > 0 else (offsets[:-1][full], offsets[1:][full] - 1)
        first, last = text[start], text[end]
        maybe = bool(((first <= 0x20) | (first >= 0x80)).any() or ((last <= 0x20) | (last >= 0x80)).any())
    return maybe, shortest


def _string_array(arr: pa.ChunkedArray):
    """pandas' default ``string`` array over the Arrow buffers (no copy with pyarrow storage)."""
    if pd.StringDtype().storage == "pyarrow":
        return pd.arrays.ArrowStringArray(pc.cast(arr, pa.large_string()))
    return pd.array(arr.to_pandas(), dtype="string")


# ----------------------------------------------------------------------------- dates


def _dates(arr: pa.ChunkedArray, col: Column, contract: Contract, horizon) -> pd.Series:
    """Calendar days as datetime64[ns] from timestamps without time zone or from dates."""
    t = arr.type
    if pa.types.is_date32(t):
        if arr.null_count or len(arr) == 0:
            raise _NotClean
        days = arr.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
        raw = None
        lo, hi = int(days.min()) * _DAY_NS, int(days.max()) * _DAY_NS  # python ints: no overflow
    elif pa.types.is_timestamp(t) and t.tz is None and t.unit in _NS_PER:
        if arr.null_count:
            raise _NotClean  # missing or unreadable dates: the general path words them
        raw = _own_numpy(arr.cast(pa.int64()))  # a copy of our own: scaled in place below
        if len(raw) == 0:
            raise _NotClean
        per = _NS_PER[t.unit]
        lo_raw, hi_raw = int(raw.min()), int(raw.max())
        lo, hi = lo_raw * per, hi_raw * per  # python ints: no overflow
    else:
        raise _NotClean
    if lo < int(_MIN_DATE.astype("int64")) or hi > int(_MAX_DATE.astype("int64")):
        raise _NotClean
    if raw is None:
        ns = days * _DAY_NS
    else:
        ns = raw
        if _has_time_of_day(raw, _DAY_NS // per):
            ns -= ns % (_DAY_NS // per)  # the calendar day (floor, as pandas' normalize)
            hi -= hi % _DAY_NS  # the floor keeps the order, so the newest day is the newest value's
        if per != 1:
            np.multiply(ns, per, out=ns)
    if col.not_in_future and len(ns) and hi > int(horizon.astype("int64")):
        raise _NotClean
    values = ns.view("datetime64[ns]")
    if contract.date_freq == "MS" and col.name == contract.date_column:
        if (pd.DatetimeIndex(values).day != 1).any():
            raise _NotClean  # moved to the month start, with a note: the general path
    return pd.Series(values, copy=False)


def _own_numpy(arr: pa.ChunkedArray) -> np.ndarray:
    """The values of a chunked array as one writable numpy array of our own (one copy; nulls of a float
    array as NaN)."""
    parts = [c.to_numpy(zero_copy_only=False) for c in arr.chunks]
    return np.concatenate(parts) if parts else np.zeros(0, arr.type.to_pandas_dtype())


def _has_time_of_day(values: np.ndarray, day: int) -> bool:
    """Whether any value is not a multiple of ``day``, read a block at a time (no full-size temporary)."""
    step = 1 << 20
    return any(bool((values[i : i + step] % day).any()) for i in range(0, len(values), step))


# ----------------------------------------------------------------------------- numbers


def _numbers(arr: pa.ChunkedArray, col: Column) -> pd.Series:
    """Numbers: float64, or int64 / int8 for whole-number and 0/1 columns (nullable when missing)."""
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        raise _NotClean
    if pa.types.is_integer(arr.type) and col.dtype in ("int", "flag") and not arr.null_count and len(arr):
        return _whole_numbers(arr, col)
    v = _own_numpy(arr.cast(pa.float64()))  # missing values as NaN
    lo, hi = (v.min(), v.max()) if len(v) else (np.nan, np.nan)
    if np.isfinite(lo) and np.isfinite(hi):  # min and max carry any NaN: every value is present and finite
        present, vals = None, v
    else:
        finite = np.isfinite(v)
        present = ~np.isnan(v)
        if (present & ~finite).any():
            raise _NotClean
        vals = v if present.all() else v[present]
        if len(vals):
            lo, hi = vals.min(), vals.max()
    if len(vals):
        if col.greater_than is not None and lo <= col.greater_than:
            raise _NotClean
        if col.min_value is not None and lo < col.min_value:
            raise _NotClean
        if col.dtype == "flag" and (lo < 0 or hi > 1):
            raise _NotClean
        if col.dtype in ("int", "flag"):
            if max(abs(lo), abs(hi)) > _MAX_EXACT_INT:
                raise _NotClean
            if not pa.types.is_integer(arr.type) and (vals != np.round(vals)).any():
                raise _NotClean
            if col.dtype == "flag" and not np.isin(vals, (0.0, 1.0)).all():
                raise _NotClean
    if col.dtype == "float":
        return pd.Series(v, copy=False)
    num = pd.Series(v, copy=False)
    complete = present is None or present.all()
    if col.dtype == "flag":
        return num.astype("Int8") if not complete else num.astype("int8")
    return num.astype("Int64") if not complete else num.astype("int64")


def _whole_numbers(arr: pa.ChunkedArray, col: Column) -> pd.Series:
    """An integer column without missing values: bounds from min/max, no float round trip."""
    bounds = pc.min_max(arr)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    if max(abs(lo), abs(hi)) > _MAX_EXACT_INT:
        raise _NotClean
    if col.greater_than is not None and lo <= col.greater_than:
        raise _NotClean
    if col.min_value is not None and lo < col.min_value:
        raise _NotClean
    if col.dtype == "flag" and (lo < 0 or hi > 1):
        raise _NotClean
    return pd.Series(_own_numpy(arr).astype("int8" if col.dtype == "flag" else "int64", copy=False), copy=False)


# ----------------------------------------------------------------------------- duplicate keys


def duplicate_count(frame: pd.DataFrame, names: list[str], codes: dict | None = None) -> int:
    """Rows of ``frame`` that repeat an earlier row in the ``names`` columns (as ``frame.duplicated(names).sum()``).

    Exact and without hashing when every column has integer codes: text columns with ``codes`` (from
    :func:`clean_frame`), dates without missing values (their distance to the first date in steps of the
    largest common step, a week for weekly data). The codes combine into one number per row (mixed radix),
    marked a block of rows at a time in a table of seen numbers (or sorted when that table would be large);
    otherwise fingerprints pick candidate rows and pandas counts among them."""
    n = len(frame)
    if n < 2:
        return 0
    parts = _code_parts(frame, names, codes or {})
    n_combined = math.prod(size for _, size in parts) if parts is not None else 0  # python ints: no overflow
    if parts is None or n_combined >= 2**62:
        maybe = repeated_rows(frame[names])  # candidates first: hashing every key costs seconds
        return int(frame.loc[maybe, names].duplicated().sum()) if maybe.any() else 0
    if n_combined <= 4 * n + (1 << 16):  # a table of seen numbers no larger than half the numbers themselves
        seen = np.zeros(n_combined, bool)
        for lo in range(0, n, _BLOCK):  # a block at a time: no full-size temporary
            seen[_combined(parts, lo, min(lo + _BLOCK, n))] = True
        return n - int(np.count_nonzero(seen))
    combined = _combined(parts, 0, n)
    combined.sort()
    return int(np.count_nonzero(combined[1:] == combined[:-1]))


_BLOCK = 1 << 20


def _code_parts(frame: pd.DataFrame, names: list[str], codes: dict) -> list | None:
    """Per column, (codes of rows lo:hi as int64, number of codes); None when a column has no codes."""
    parts = []
    for name in names:
        if name in codes:
            values, size = codes[name]
            parts.append((lambda lo, hi, v=values: v[lo:hi].astype(np.int64), size))
            continue
        part = _date_codes(frame[name])
        if part is None:
            return None
        parts.append(part)
    return parts


def _combined(parts: list, lo: int, hi: int) -> np.ndarray:
    combined = parts[0][0](lo, hi)
    for block, size in parts[1:]:
        combined *= size
        combined += block(lo, hi)
    return combined


def _date_codes(s: pd.Series) -> tuple | None:
    """Dates as 0, 1, ... steps of their largest common step after the first date (a function of the rows lo:hi,
    and the number of steps); None for other columns, missing dates or spans beyond 2**62 ticks."""
    if not (pd.api.types.is_datetime64_dtype(s.dtype) and getattr(s.dtype, "tz", None) is None) or s.isna().any():
        return None
    ticks = s.to_numpy().view(np.int64)
    first, last = int(ticks.min()), int(ticks.max())
    if last - first >= 2**62:  # python ints: no overflow
        return None
    step = 0
    for lo in range(0, len(ticks), _BLOCK):
        step = math.gcd(step, int(np.gcd.reduce(ticks[lo : lo + _BLOCK] - first)))
    step = step or 1
    return (lambda lo, hi: (ticks[lo:hi] - first) // step), (last - first) // step + 1


def repeated_rows(frame: pd.DataFrame) -> np.ndarray:
    """Mask of rows that may repeat another row: rows whose fingerprint (a 64-bit hash of their cells) is
    shared. Every exact duplicate is in the mask; any other row in it is a hash collision, so callers check
    the few candidates exactly. Sorting 64-bit numbers costs far less than hashing millions of strings."""
    n = len(frame)
    if n < 2:
        return np.zeros(n, bool)
    hs = _row_fingerprints(frame)
    hs.sort()  # in place: the fingerprints are computed again only when some repeat (no second copy)
    same = hs[1:] == hs[:-1]
    if not same.any():
        return np.zeros(n, bool)
    return np.isin(_row_fingerprints(frame), np.unique(hs[1:][same]))


def _row_fingerprints(frame: pd.DataFrame) -> np.ndarray:
    h = fingerprint(frame.iloc[:, 0])
    for i in range(1, frame.shape[1]):
        v = fingerprint(frame.iloc[:, i])
        _mix(h, v)
        del v  # freed before the next column's fingerprint
    return h


_K1, _K2, _K3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)
_K12 = np.uint64((0x9E3779B97F4A7C15 * 0xC2B2AE3D27D4EB4F) % 2**64)
_SHORT_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)], dtype=np.uint64)  # the bytes of a k-byte string


def _mix(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``v`` mixed into ``h`` in place (both fresh arrays of :func:`fingerprint`)."""
    step = 1 << 20  # a block at a time: no full-size temporary for the shift
    for i in range(0, len(h), step):
        block = h[i : i + step]
        block ^= v[i : i + step]
        block *= _K1
        block ^= block >> np.uint64(29)
    return h


def fingerprint(s: pd.Series) -> np.ndarray:
    """A 64-bit value per cell; equal cells (pandas' sense: NaN equals NaN, -0.0 equals 0.0) get equal values."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64).view(np.uint64)
    if pd.api.types.is_string_dtype(dtype) and dtype != object:
        return _string_fingerprint(pa.array(s.array, from_pandas=True))
    if pd.api.types.is_datetime64_any_dtype(dtype) and getattr(dtype, "tz", None) is None:
        return s.to_numpy().astype("datetime64[ns]").view(np.int64).view(np.uint64)
    if pd.api.types.is_bool_dtype(dtype) and dtype == bool:
        return s.to_numpy().astype(np.uint64)
    if pd.api.types.is_numeric_dtype(dtype):
        v = s.to_numpy(dtype="float64", na_value=np.nan) + 0.0  # -0.0 -> 0.0
        v[np.isnan(v)] = np.nan  # one NaN pattern
        return v.view(np.uint64)
    codes, _ = pd.factorize(s)  # anything else (object columns): exact codes, slower
    return codes.astype(np.int64).view(np.uint64)


def _string_fingerprint(arr) -> np.ndarray:
    """Length and the first and last 8 bytes of each string (exact for strings up to 16 bytes)."""
    arr = pc.cast(arr, pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        out, at = np.empty(len(arr), np.uint64), 0
        for c in arr.chunks:  # each chunk's values written in place (no list of parts to join)
            out[at : at + len(c)] = _chunk_fingerprint(c)
            at += len(c)
        return out
    return _chunk_fingerprint(arr)


def _chunk_fingerprint(arr: pa.Array) -> np.ndarray:
    n = len(arr)
    if n == 0:
        return np.zeros(0, np.uint64)
    offsets = np.frombuffer(arr.buffers()[1], np.int64)[arr.offset : arr.offset + n + 1]
    data = arr.buffers()[2]
    size = data.size if data is not None else 0
    lengths = np.diff(offsets).view(np.uint64)  # offsets increase: the same bits as a copy
    if size < 16:  # a tiny buffer: a padded copy, so that every 8-byte read stays inside it
        data = pa.py_buffer((data.to_pybytes() if data is not None else b"") + bytes(16))
        size = data.size
    words = np.ndarray(shape=(size - 7,), dtype="<u8", buffer=data, strides=(1,))  # 8 bytes from each offset
    start, end = offsets[:-1], offsets[1:]
    # strings starting in the last 7 bytes of the buffer are read one by one below; offsets increase, so
    # they are the last strings
    first_tail = int(np.searchsorted(start, size - 8, side="right"))
    if first_tail < n:
        at = start.copy()
        at[first_tail:] = 0
        first = words[at]
    else:
        first = words[start]
    last = None  # the last 8 bytes: none for strings under 8 bytes (their first 8 hold them whole)
    if int(lengths.max()) < 8:  # short codes (regions, categories): one mask, no second read
        first &= _SHORT_MASKS[lengths]
    else:
        short = lengths < 8
        if short.any():  # keep only the string's own bytes
            bits = np.where(short, lengths, 0) * np.uint64(8)
            first &= np.where(short, (np.uint64(1) << bits) - np.uint64(1), np.uint64(0xFFFFFFFFFFFFFFFF))
            last = np.where(short, np.uint64(0), words[np.maximum(end - 8, 0)])
        else:
            last = words[end - 8]
    tail = range(first_tail, n)
    raw = data.slice(size - 16).to_pybytes() if len(tail) else b""
    for i in tail:
        first[i] = int.from_bytes(raw[16 - (size - int(start[i])) :][: int(lengths[i])], "little")
    h = first  # mixed in place
    if last is None:
        h *= _K12  # the same as multiplying by _K1 then _K2 (modulo 2**64)
    else:
        h *= _K1
        h ^= last
        h *= _K2
    h += lengths
    if arr.null_count:
        h[~arr.is_valid().to_numpy(zero_copy_only=False)] = _K2
    return h

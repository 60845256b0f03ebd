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

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta

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


def clean_frame(table: pa.Table, contract: Contract, keys: list[str], today: datetime) -> pd.DataFrame | None:
    """The loaded frame when every column of ``table`` (already renamed to contract names) satisfies the
    contract without repair, else ``None`` (the general path then reports or repairs)."""
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
    # Arrow kernels and numpy release the GIL: columns are checked side by side
    raw = {name: table.column(name) for name in jobs}
    large = table.num_rows >= _LARGE_ROWS
    del table  # each file column is freed as soon as it is converted (the caller drops its table too)
    _release_unused(large)  # the reader's decoding buffers
    out = {}
    with ThreadPoolExecutor(max(1, min(len(jobs), os.cpu_count() or 1, 4))) as pool:
        futures = {pool.submit(_convert, raw.pop(name), col, contract, horizon): name for name, col in jobs.items()}
        try:
            for f in as_completed(futures):
                out[futures[f]] = f.result()
                _release_unused(large)  # the file column just converted
        except _NotClean:
            for f in futures:
                f.cancel()
            return None
    frame = pd.DataFrame({name: out.pop(name) for name in jobs}, copy=False)
    del futures
    if _has_duplicate_keys(frame, contract, keys):
        return None
    return frame


def _release_unused(large: bool) -> None:
    """Hand the memory Arrow's pool keeps after a large read (decoding buffers, freed file columns) back to the
    system: the numpy arrays made next cannot reuse it, so it would only raise the peak."""
    if large:
        pa.default_memory_pool().release_unused()


def _convert(arr: pa.ChunkedArray, col: Column, contract: Contract, horizon) -> pd.Series:
    if col.dtype == "string":
        values = _text(arr)
    elif col.dtype == "datetime":
        values = _dates(arr, col, contract, horizon)
    else:
        values = _numbers(arr, col)
    if not col.nullable and values.isna().any():
        raise _NotClean  # missing values in a required column: the general path words them
    return values


# ----------------------------------------------------------------------------- text


def _text(arr: pa.ChunkedArray) -> pd.Series:
    """Stripped text as pandas' ``string`` dtype; NA spellings become missing (dictionary columns keep
    their spellings, as the general path does)."""
    if pa.types.is_dictionary(arr.type):
        if not pa.types.is_string(arr.type.value_type) and not pa.types.is_large_string(arr.type.value_type):
            raise _NotClean
        chunks = [
            pa.DictionaryArray.from_arrays(c.indices, pc.utf8_trim_whitespace(c.dictionary)) for c in arr.chunks
        ]  # strip the few categories, not the millions of cells
        return pd.Series(_string_array(pa.chunked_array(chunks, arr.type).cast(pa.large_string())))
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


def _has_duplicate_keys(frame: pd.DataFrame, contract: Contract, keys: list[str]) -> bool:
    unique = [c for c in (*contract.unique, *keys) if c in frame.columns] if contract.unique else []
    if not unique or len(frame) < 2:
        return False
    return bool(repeated_rows(frame[unique]).any()) and bool(frame.duplicated(unique).any())


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

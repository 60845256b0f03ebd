"""Loaders: read an input file (CSV, Parquet or Excel), map its columns, coerce and validate them.

One function per input kind (``load_transactions``, ``load_price_panel``, ...). Each:

1. resolves the path (empty = the sample company's file),
2. reads CSV (delimiter detected among comma, semicolon, tab and pipe; UTF-8, UTF-8 with BOM,
   UTF-16 with BOM, Windows-1252 or Latin-1), Parquet (only the needed columns) or Excel (the
   sheet that holds the contract's columns, or the one named by ``sheet``),
3. renames the user's columns with ``columns={"their name": "contract name"}``; a column whose
   name differs from a contract name only in case, spaces or hyphens ("Order Date") is mapped
   automatically,
4. coerces every contract column to its type and validates the contract with pandera,
5. raises one :class:`~marksell.errors.DataContractError` listing *every* problem found, or warns
   with :class:`DataQualityWarning` about data that is legal but suspicious,
6. attaches provenance (path, sha256, rows) in ``df.attrs["provenance"]``.

Everything is vectorised, so a million-row file costs seconds, not minutes.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import os
import re
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from marksell.contracts import CONTRACTS, Column, Contract
from marksell.errors import DataContractError
from marksell.paths import PROJ_ROOT, resolve_input

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_N_EXAMPLES = 3
_NA_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "#N/A"]
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_MIN_DATE = pd.Timestamp("1900-01-01")
_MAX_DATE = pd.Timestamp("2262-04-11")  # last day representable in nanoseconds
_MAX_EXACT_INT = 2.0**53  # larger counts are not exact as floats
_MAGNITUDE_RATIO = 1e6  # a value this many times the median size is flagged
_BINARY_MAGIC = {
    b"PK\x03\x04": "a zip archive or Excel workbook (.xlsx)",
    b"PAR1": "a Parquet file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\x1f\x8b": "a gzip archive",
}


class DataQualityWarning(UserWarning):
    """Data that satisfies the contract but looks suspicious (returns, gaps, duplicates)."""


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


def load_opportunities(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Opportunities: ``opportunity_id, name`` (+ group) and numeric criteria columns."""
    return load("opportunities", path, columns, **kw)


def load_marketing_funnel(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Marketing funnel: ``month, channel, spend, leads, conversions``."""
    return load("marketing_funnel", path, columns, **kw)


def load_market_size(path: str | os.PathLike | None = "", columns: dict | None = None, **kw) -> pd.DataFrame:
    """Market size: ``month, market_size`` (+ region)."""
    return load("market_size", path, columns, **kw)


def load(
    kind: str,
    path: str | os.PathLike | None = "",
    columns: dict | None = None,
    *,
    keys: list[str] | None = None,
    sheet: str | int | None = None,
    today: datetime | None = None,
) -> pd.DataFrame:
    """Read, map, coerce and validate one input file of ``kind`` (see :mod:`marksell.contracts`)."""
    if kind not in CONTRACTS:
        raise ValueError(f"unknown input kind {kind!r}; known kinds: {sorted(CONTRACTS)}")
    contract = CONTRACTS[kind]
    src = resolve_input(path, kind)
    shown = display_path(src)
    columns = _check_mapping(columns, shown, contract)
    keys = _check_keys(keys, shown, contract)

    raw, row_offset = read_table(src, contract, columns=columns, keys=keys, sheet=sheet)
    file_columns = list(raw.attrs.get("file_columns", raw.columns))
    mapping = _name_mapping(list(raw.columns), contract, keys, columns)
    df = raw.rename(columns=mapping)
    df.attrs = {}
    problems = _structure_problems(df, contract, keys, columns, file_columns)
    if problems:
        raise DataContractError(shown, kind, problems)

    notes: list[str] = []
    raw_missing = df.isna()
    df, problems = _coerce(df, contract, keys, row_offset, notes)
    problems += _missing_problems(df, raw_missing, contract, keys, row_offset)
    problems += _validate(df, contract, keys, row_offset, today or datetime.now())
    if problems:
        raise DataContractError(shown, kind, problems)

    for note in notes:
        warnings.warn(f"{shown}: {note}", DataQualityWarning, stacklevel=3)
    _warn_suspicious(df, contract, keys, shown)
    df.attrs["provenance"] = {
        "kind": kind,
        "path": shown,
        "sha256": file_sha256(src),
        "rows": int(len(df)),
    }
    if raw.attrs.get("sheet") is not None:
        df.attrs["provenance"]["sheet"] = raw.attrs["sheet"]
    return df


# ----------------------------------------------------------------------------- reading


def display_path(path: Path) -> str:
    """A path safe to print in reports: relative to the project, or with the home folder as ``~``."""
    p = Path(path).expanduser()
    try:
        resolved = p.resolve()
    except (OSError, RuntimeError):
        resolved = p.absolute()
    try:
        return str(resolved.relative_to(PROJ_ROOT))
    except ValueError:
        pass
    home = Path.home()
    if str(home) not in ("", "/"):
        for candidate in (resolved, p.absolute()):
            try:
                return str(Path("~") / candidate.relative_to(home))
            except ValueError:
                continue
    return str(resolved)


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes (read in 1 MB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_table(
    path: Path, contract: Contract, *, columns: dict | None = None, keys: list[str] | None = None,
    sheet: str | int | None = None,
) -> tuple[pd.DataFrame, int]:
    """Read a file (text columns for CSV); returns the frame and the offset from index to a 1-based file row.

    Column names are stripped text; blank cells and the usual "missing" spellings become NA.
    ``df.attrs["file_columns"]`` lists every column of the file (Parquet reads only the needed ones).
    """
    path = Path(path)
    shown = display_path(path)
    if not path.exists():
        raise DataContractError(shown, contract.kind, [_problem(
            None, "an existing file", "no such file",
            fix="check the path (relative paths are resolved from the folder you run in) or leave it empty "
                "for the sample company")])
    if path.is_dir():
        raise DataContractError(shown, contract.kind, [_problem(
            None, "a file", "a folder", fix="point the parameter at a CSV, Parquet or Excel file")])
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        df, offset = _read_parquet(path, contract, columns or {}, keys or []), 1
    elif suffix in EXCEL_SUFFIXES:
        df, offset = _read_excel(path, contract, columns or {}, keys or [], sheet), 2
    elif suffix in CSV_SUFFIXES or suffix == "":
        df, offset = _read_csv(path, contract)
    else:
        raise DataContractError(shown, contract.kind, [_problem(
            None, "a .csv, .tsv, .parquet or .xlsx file", f"a '{suffix}' file",
            fix="export the data as CSV, Parquet or Excel")])
    attrs = dict(df.attrs)
    df = _clean_frame(df)
    df.attrs = attrs
    df.attrs.setdefault("file_columns", list(df.columns))
    return df, offset


def _clean_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Strip column names and text cells; blank cells and NA spellings become missing."""
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    # a trailing delimiter adds an empty, unnamed column: drop it
    empty_unnamed = [c for c in df.columns if re.fullmatch(r"Unnamed: \d+", c) and df[c].isna().all()]
    if empty_unnamed:
        df = df.drop(columns=empty_unnamed)
    for i, name in enumerate(df.columns):
        s = df.iloc[:, i]
        if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
            s = s.str.strip()
            df.isetitem(i, s.mask(s.isin(_NA_TOKENS)))
        elif s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "mixed", "mixed-integer"):
            is_str = s.map(lambda v: isinstance(v, str))
            stripped = s.where(~is_str, s.astype("string").str.strip().astype(object))
            df.isetitem(i, stripped.mask(is_str & stripped.isin(_NA_TOKENS)))
    return df


def _binary_kind(head: bytes) -> str | None:
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return what
    if b"\x00" in head[:4096]:
        return "binary content"
    return None


def _detect_encoding(head: bytes, complete: bool) -> str:
    """The encoding of the file's first bytes: UTF-8 (with or without BOM), Windows-1252 or Latin-1."""
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)  # a cut character is fine
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _detect_delimiter(text: str) -> str | None:
    """The delimiter that splits the header into most columns and every sampled row alike."""
    best, best_score = None, (0.0, 0)
    for d in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=d) if r][:50]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows) / len(rows)
        score = (consistent, width)
        if score > best_score:
            best, best_score = d, score
    return best


def _read_csv(path: Path, contract: Contract) -> tuple[pd.DataFrame, int]:
    shown = display_path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    complete = len(head) >= size
    if not head.strip():
        raise DataContractError(shown, contract.kind, [_problem(
            None, "a header row and data rows", "an empty file",
            fix="export the data again; the file has no content")])
    encoding = _detect_encoding(head, complete)
    binary = None if encoding == "utf-16" else _binary_kind(head)
    if binary:
        raise DataContractError(shown, contract.kind, [_problem(
            None, "a text (CSV) file", binary,
            fix="give the file its real suffix (.xlsx, .parquet) or export the data again as CSV")])
    text = head.decode(encoding, errors="ignore")
    if not complete:  # drop a possibly cut last line
        text = text.rsplit("\n", 1)[0]
    skip = 0
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    hint = re.fullmatch(r'"?sep=(.)"?', first)  # Excel's "sep=;" first line
    if hint:
        sep, skip = hint.group(1), 1
        text = text.split("\n", 1)[1] if "\n" in text else ""
    else:
        sep = _detect_delimiter(text) or ","
    read_kw = dict(sep=sep, dtype=str, keep_default_na=False, na_values=_NA_TOKENS, skiprows=skip,
                   skipinitialspace=True)
    try:
        try:
            df = pd.read_csv(path, encoding=encoding, **read_kw)
        except UnicodeDecodeError:  # the first 64 kB looked like UTF-8, the rest is not
            df = pd.read_csv(path, encoding="cp1252", encoding_errors="replace", **read_kw)
    except pd.errors.EmptyDataError:
        raise DataContractError(shown, contract.kind, [_problem(
            None, "a header row and data rows", "no columns",
            fix="export the data again; the file has no content")]) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataContractError(shown, contract.kind, [_problem(
            None, f"a well-formed file delimited by {_DELIMITER_NAMES.get(sep, repr(sep))}",
            f"unreadable text ({msg})",
            fix="check the delimiter and quoting (a stray quote or an extra delimiter in a row), "
                "or export the data again as CSV")]) from None
    return df, 2 + skip


def _wanted(file_cols: list[str], contract: Contract, keys: list[str], columns: dict) -> list[str]:
    """The file's columns the loader needs (all of them when the contract keeps extra numeric columns)."""
    if contract.extra_numeric:
        return list(file_cols)
    mapping = _name_mapping(file_cols, contract, keys, columns)
    needed = {c.name for c in contract.columns} | set(keys)
    return [n for n in file_cols if mapping.get(n, n) in needed]


def _read_parquet(path: Path, contract: Contract, columns: dict, keys: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    shown = display_path(path)
    try:
        schema_names = [str(n) for n in pq.read_schema(path).names]
        schema_names = [n for n in schema_names if not n.startswith("__index_level_")]
        wanted = _wanted([n.strip() for n in schema_names], contract, keys, columns)
        wanted_raw = [n for n in schema_names if n.strip() in wanted]
        df = pq.read_table(path, columns=wanted_raw).to_pandas()
    except Exception as exc:  # corrupt or truncated file, or a type pandas cannot hold
        raise DataContractError(shown, contract.kind, [_problem(
            None, "a readable Parquet file", f"an unreadable file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else ''})",
            fix="write the file again, e.g. with pandas.DataFrame.to_parquet")]) from None
    df = df.reset_index(drop=True)
    df.attrs["file_columns"] = [n.strip() for n in schema_names]
    return df


def _read_excel(path: Path, contract: Contract, columns: dict, keys: list[str], sheet) -> pd.DataFrame:
    shown = display_path(path)
    try:
        with pd.ExcelFile(path) as book:
            names = list(book.sheet_names)
            if sheet is not None and sheet != "":
                if isinstance(sheet, int) and not isinstance(sheet, bool):
                    if not 0 <= sheet < len(names):
                        raise _SheetMissing(str(sheet))
                    chosen = names[sheet]
                elif str(sheet) in names:
                    chosen = str(sheet)
                else:
                    raise _SheetMissing(str(sheet))
                frame = pd.read_excel(book, sheet_name=chosen, dtype=object)
                frame.attrs["sheet"] = chosen
                return frame
            required = set(contract.required) | set(keys)
            seen = []
            for name in names:
                frame = pd.read_excel(book, sheet_name=name, dtype=object)
                cols = [str(c).strip() for c in frame.columns]
                mapping = _name_mapping(cols, contract, keys, columns)
                if required <= {mapping.get(c, c) for c in cols}:
                    frame.attrs["sheet"] = name
                    return frame
                seen.append(f"'{name}' ({', '.join(cols[:6]) or 'empty'})")
    except _SheetMissing as exc:
        raise DataContractError(shown, contract.kind, [_problem(
            None, f"a sheet named {exc}", f"the sheets {names}",
            fix=f"pass sheet= one of {names} (a name, or a 0-based position)")]) from None
    except Exception as exc:  # not a workbook, corrupt, or a missing engine (.xls needs xlrd)
        raise DataContractError(shown, contract.kind, [_problem(
            None, "a readable Excel workbook", f"an unreadable file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else ''})",
            fix="open and save it again as .xlsx in Excel, or export it as CSV")]) from None
    raise DataContractError(shown, contract.kind, [_problem(
        None, f"a sheet with the columns {sorted(required)}", "sheets without them: " + "; ".join(seen),
        fix="name the sheet to read (sheet=...) or map your column names with `columns`")])


class _SheetMissing(Exception):
    pass


# ----------------------------------------------------------------------------- names and structure


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _name_mapping(file_cols: list[str], contract: Contract, keys: list[str], columns: dict) -> dict:
    """The user's ``columns`` plus automatic mapping of names differing only in case, spaces or hyphens."""
    mapping = dict(columns)
    targets = set(mapping.values())
    present = set(file_cols) | targets
    for name in [c.name for c in contract.columns] + list(keys):
        if name in present:
            continue
        hits = [c for c in file_cols if c not in mapping and _norm_name(c) == _norm_name(name)]
        if len(hits) == 1:
            mapping[hits[0]] = name
            present.add(name)
    return mapping


def _problem(column, expected, found, examples=None, fix=""):
    return {"column": column, "expected": expected, "found": found, "examples": examples, "fix": fix}


def _check_mapping(columns, shown, contract: Contract) -> dict:
    if columns is None or (isinstance(columns, str) and columns.strip() == ""):
        return {}
    if not isinstance(columns, dict):
        raise DataContractError(shown, contract.kind, [_problem(
            None, "`columns` as a mapping {your column: contract column}", f"{type(columns).__name__}",
            fix='pass e.g. columns={"Customer": "customer_id"}')])
    return {str(k).strip(): str(v).strip() for k, v in columns.items()}


def _check_keys(keys, shown, contract: Contract) -> list[str]:
    if keys is None or (isinstance(keys, str) and keys.strip() == ""):
        return []
    if isinstance(keys, str):
        keys = [keys]
    keys = [str(k).strip() for k in keys]
    clash = [k for k in keys if k in {c.name for c in contract.columns}]
    if clash:
        raise DataContractError(shown, contract.kind, [_problem(
            None, "key columns other than the contract's own columns", f"keys {clash}",
            fix=f"leave {clash} out of `keys`")])
    return list(dict.fromkeys(keys))


def _structure_problems(df, contract: Contract, keys, columns, file_columns) -> list[dict]:
    problems = []
    names = [str(c) for c in df.columns]
    file_columns = [str(c) for c in file_columns]
    needed = contract.required + list(keys)
    missing = [n for n in needed if n not in names]
    if len(file_columns) == 1 and missing and re.search(r"[^\w\s\-.()]", file_columns[0]):
        only = file_columns[0]
        return [_problem(None, "columns separated by comma, semicolon, tab or pipe",
                         f"a single column '{only[:60]}' (the delimiter was not recognised)",
                         fix="save the file as CSV with comma, semicolon, tab or pipe delimiters")]
    if len(df) == 0:
        problems.append(_problem(None, "at least one data row", "a header without data rows",
                                 fix="export the data again with its rows"))
    for user_name in columns:
        if user_name not in file_columns:
            close = difflib.get_close_matches(user_name, file_columns, n=1, cutoff=0.6)
            problems.append(_problem(
                user_name, f"column '{user_name}' (named in `columns`)", "no such column in the file",
                examples="the file has " + ", ".join(file_columns[:10]),
                fix=f"correct the name in `columns` (did you mean '{close[0]}'?)" if close
                else "correct the name in `columns`"))
    dupes = sorted({c for c in names if names.count(c) > 1})
    for c in dupes:
        problems.append(_problem(c, "one column of this name", "several columns with this name after mapping",
                                 fix="map only one of your columns onto it, or rename the others"))
    for name in missing:
        candidates = [c for c in file_columns if c not in columns]
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6) or \
            difflib.get_close_matches(_norm_name(name), [_norm_name(c) for c in candidates], n=1, cutoff=0.6)
        if close and close[0] not in candidates:
            close = [candidates[[_norm_name(c) for c in candidates].index(close[0])]]
        hint = f"rename '{close[0]}' to '{name}' or pass columns={{'{close[0]}': '{name}'}}" if close else \
            f"add the column, or map yours with columns={{'your name': '{name}'}}"
        found = "no such column; the file has " + ", ".join(file_columns[:10])
        problems.append(_problem(name, "a required column", found, fix=hint))
    return problems


# ----------------------------------------------------------------------------- coercion


def _fmt_value(v) -> str:
    if v is None or (not isinstance(v, str) and np.ndim(v) == 0 and pd.isna(v)):
        return "missing"
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return repr(str(v).replace("T", " ").split(" ")[0])  # also years outside 1..9999
    if isinstance(v, np.generic):
        v = v.item()
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _examples(values: pd.Series, index, row_offset: int) -> str:
    pairs = [f"row {int(i) + row_offset}: {_fmt_value(v)}" for i, v in zip(index[:_N_EXAMPLES], values[:_N_EXAMPLES])]
    return "; ".join(pairs)


def _coerce(df: pd.DataFrame, contract: Contract, keys: list[str], row_offset: int, notes: list[str]):
    """Coerce every column to its contract type; unparseable cells become problems (and NA)."""
    problems = []
    out = pd.DataFrame(index=df.index)
    known = {c.name: c for c in contract.columns}
    for name in df.columns:
        col = known.get(name)
        s = df[name]
        if col is None:
            if name in keys:
                out[name] = _to_string(s)
            elif contract.extra_numeric:
                num, bad = _to_number(s)
                if bad.any():
                    if bad.sum() == s.notna().sum() and contract.kind != "opportunities":
                        out[name] = _to_string(s)  # a text column (e.g. a label): keep it as text
                        continue
                    problems.append(_problem(
                        name, "numbers", f"{int(bad.sum())} non-numeric value(s)",
                        _examples(s[bad], s.index[bad], row_offset),
                        fix="remove text such as units or thousands separators from the column, or drop it"))
                inf = np.isinf(num.to_numpy())
                if inf.any():
                    problems.append(_problem(name, "finite numbers", f"{int(inf.sum())} infinite value(s)",
                                             _examples(s[inf], s.index[inf], row_offset),
                                             fix="replace infinite values with real figures"))
                out[name] = num
            continue
        if col.dtype == "string":
            out[name] = _to_string(s)
        elif col.dtype == "datetime":
            parsed, bad, outside = _to_datetime(s)
            if bad.any():
                problems.append(_problem(
                    name, "dates as YYYY-MM-DD", f"{int(bad.sum())} value(s) that are not dates in that format",
                    _examples(s[bad], s.index[bad], row_offset),
                    fix="write the dates as YYYY-MM-DD (ISO 8601), one format for the whole column"))
            if outside.any():
                problems.append(_problem(
                    name, f"dates from {_MIN_DATE.date()} on", f"{int(outside.sum())} date(s) outside that range",
                    _examples(s[outside], s.index[outside], row_offset),
                    fix=f"check '{name}' for mistyped years"))
            if contract.date_freq == "MS" and name == contract.date_column:
                off = parsed.notna() & (parsed.dt.day != 1)
                if off.any():
                    parsed = parsed.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
                    notes.append(f"{int(off.sum())} date(s) in '{name}' were not the first of the month "
                                 f"(e.g. row {int(s.index[off][0]) + row_offset}: {_fmt_value(s[off].iloc[0])}); "
                                 "moved to the month start")
            out[name] = parsed
        else:
            num, bad = _to_number(s)
            if bad.any():
                problems.append(_problem(
                    name, "numbers", f"{int(bad.sum())} non-numeric value(s)",
                    _examples(s[bad], s.index[bad], row_offset),
                    fix="remove text such as currency signs, units or thousands separators"))
            inf = np.isinf(num.to_numpy())
            if inf.any():
                problems.append(_problem(name, "finite numbers", f"{int(inf.sum())} infinite value(s)",
                                         _examples(s[inf], s.index[inf], row_offset),
                                         fix="replace infinite values with real figures"))
                num = num.mask(inf)
            if col.dtype in ("int", "flag"):
                frac = num.notna() & (num != np.round(num))
                huge = num.abs() > _MAX_EXACT_INT
                if frac.any():
                    problems.append(_problem(name, "whole numbers", f"{int(frac.sum())} fractional value(s)",
                                             _examples(s[frac], s.index[frac], row_offset),
                                             fix="round the counts or check the column mapping"))
                if huge.any():
                    problems.append(_problem(name, f"whole numbers below {_MAX_EXACT_INT:.0e}",
                                             f"{int(huge.sum())} larger value(s)",
                                             _examples(s[huge], s.index[huge], row_offset),
                                             fix="check the column mapping or the units of the counts"))
                not_flag = col.dtype == "flag" and bool((num.notna() & ~num.isin([0, 1])).any())
                if frac.any() or huge.any() or not_flag:
                    out[name] = num  # reported by the checks; stays float
                elif col.dtype == "flag":
                    out[name] = num.astype("Int8") if num.isna().any() else num.astype("int8")
                else:
                    out[name] = num.astype("Int64") if num.isna().any() else num.astype("int64")
            else:
                out[name] = num
    return out, problems


def _to_string(s: pd.Series) -> pd.Series:
    """Text, with whole floats written without '.0' (IDs read as numbers)."""
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = vals[np.isfinite(vals)]
        if len(finite) == 0 or ((finite == np.round(finite)).all() and (np.abs(finite) < _MAX_EXACT_INT).all()):
            with np.errstate(invalid="ignore"):
                s = s.mask(~np.isfinite(vals)) if len(finite) else s
            if not np.isinf(vals).any():
                s = s.astype("Int64")
    if isinstance(s.dtype, pd.CategoricalDtype):
        # strip the few categories, not the millions of cells
        cats = s.cat.categories.astype("string").str.strip()
        codes = s.cat.codes.to_numpy()
        values = cats.take(np.where(codes < 0, 0, codes)).to_numpy() if len(cats) else np.full(len(s), pd.NA)
        out = pd.Series(pd.array(values, dtype="string"), index=s.index)
        return out.mask(codes < 0) if (codes < 0).any() else out
    out = s.astype("string")
    stripped = out.str.strip()
    return stripped


def _to_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Float values and the mask of cells that are present but not numbers."""
    if pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64") if not s.isna().any() else s.astype("Float64").astype("float64")
        return num, pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s.dtype):
        num = pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index)
        return num, pd.Series(False, index=s.index)
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "boolean":
        s = s.map({True: 1.0, False: 0.0}, na_action="ignore")
        return s.astype("float64"), pd.Series(False, index=s.index)
    if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype):
        return pd.Series(np.nan, index=s.index), s.notna()
    text = s.astype("string").str.strip()
    num = pd.to_numeric(text, errors="coerce")
    num = pd.Series(num.to_numpy(dtype="float64", na_value=np.nan), index=s.index)
    bad = num.isna() & s.notna()
    return num, bad


def _to_datetime(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Day-resolution datetime64[ns]; masks of unparseable cells and of dates outside 1900..2262."""
    present = s.notna()
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
    else:
        if pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype("string")
        elif pd.api.types.is_numeric_dtype(s.dtype):
            s = _to_string(s)  # 20240105 -> '20240105' (ISO basic format)
        elif s.dtype == object:
            inferred = pd.api.types.infer_dtype(s, skipna=True)
            if inferred in ("date", "datetime", "datetime64"):
                try:
                    out = _strip_tz(pd.to_datetime(s, errors="coerce"))
                    return _finish_dates(out, present)
                except (ValueError, TypeError, OverflowError):
                    pass
            if inferred not in ("string", "empty"):
                s = s.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
        text = s.astype("string").str.strip()
        # a bare number like '45' would be read as a year; require at least year-month
        text = text.mask(~text.str.contains(r"^\d{8}$|[-/.: T]", regex=True, na=False) & text.notna(), "#")
        try:
            out = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except (ValueError, TypeError, OverflowError):  # mixed UTC offsets: keep the local wall time
            local = text.str.replace(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", "", regex=True)
            try:
                out = pd.to_datetime(local, format="ISO8601", errors="coerce")
            except (ValueError, TypeError, OverflowError):
                out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        out = _strip_tz(out)
    return _finish_dates(out, present)


def _strip_tz(out: pd.Series) -> pd.Series:
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out


def _finish_dates(out: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    bad = out.isna() & present
    outside = out.notna() & ((out < _MIN_DATE) | (out > _MAX_DATE))
    out = out.mask(outside)
    out = out.dt.normalize().astype("datetime64[ns]")
    return out, bad, outside


def _missing_problems(df: pd.DataFrame, raw_missing: pd.DataFrame, contract: Contract, keys,
                      row_offset: int) -> list[dict]:
    """Missing values in required columns (cells that could not be parsed are reported already)."""
    problems = []
    rules = [(c.name, c.nullable) for c in contract.columns] + [(k, False) for k in keys]
    for name, nullable in rules:
        if nullable or name not in df.columns:
            continue
        miss = raw_missing[name]
        if miss.any():
            problems.append(_problem(name, "a value in every row", f"{int(miss.sum())} missing value(s)",
                                     "; ".join(f"row {int(i) + row_offset}" for i in df.index[miss][:_N_EXAMPLES]),
                                     fix="fill the missing values or drop those rows"))
    return problems


def _validate(df: pd.DataFrame, contract: Contract, keys, row_offset: int, today: datetime) -> list[dict]:
    """Value rules (bounds, future dates, unique keys), via pandera, every failure kept."""
    checks = {}
    horizon = pd.Timestamp(today).normalize() + timedelta(days=1)
    for col in contract.columns:
        if col.name not in df.columns:
            continue
        numeric_ok = col.dtype in ("float", "int", "flag") and pd.api.types.is_numeric_dtype(df[col.name].dtype)
        col_checks = []
        if numeric_ok and col.greater_than is not None:
            col_checks.append(pa.Check.gt(col.greater_than, error=f"values > {col.greater_than:g}"))
        if numeric_ok and col.min_value is not None:
            col_checks.append(pa.Check.ge(col.min_value, error=f"values >= {col.min_value:g}"))
        if col.not_in_future and pd.api.types.is_datetime64_any_dtype(df[col.name].dtype):
            col_checks.append(pa.Check.le(horizon, error="dates not in the future"))
        if numeric_ok and col.dtype == "flag":
            col_checks.append(pa.Check.isin([0, 1], error="0 or 1"))
        checks[col.name] = pa.Column(checks=col_checks, nullable=True, required=False, coerce=False)
    unique = [c for c in (*contract.unique, *keys) if c in df.columns] if contract.unique else []
    if unique and df[unique].isna().any().any():
        unique = []  # missing keys are reported already; duplicates are checked once they are filled
    schema = pa.DataFrameSchema(checks, unique=unique or None, strict=False)
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        return _pandera_problems(err, df, row_offset, unique)
    return []


def _pandera_problems(err, df: pd.DataFrame, row_offset: int, unique: list[str]) -> list[dict]:
    fc = err.failure_cases.copy()
    problems = []
    for (column, check), grp in fc.groupby(["column", "check"], dropna=False, sort=False):
        idx = [i for i in grp["index"].tolist() if i is not None and not (isinstance(i, float) and np.isnan(i))]
        idx = list(dict.fromkeys(idx))
        check = str(check)
        if "unique" in check or column in (None, "") or pd.isna(column) or column not in df.columns:
            cols = ", ".join(unique) or str(column)
            dup = df.duplicated(unique, keep=False) if unique else pd.Series(False, index=df.index)
            rows = df.index[dup]
            example = df.loc[rows[:_N_EXAMPLES], unique] if unique else None
            shown = "; ".join(
                f"row {int(i) + row_offset}: " + ", ".join(_fmt_value(v) for v in example.loc[i])
                for i in example.index) if example is not None else ""
            problems.append(_problem(cols, "one row per " + cols,
                                     f"{int(dup.sum())} rows sharing a value with another row", shown,
                                     fix="remove or aggregate the duplicates"))
            continue
        rows = "; ".join(f"row {int(i) + row_offset}: {_fmt_value(df.at[i, column])}"
                         for i in idx[:_N_EXAMPLES] if i in df.index)
        n = len(idx) or len(grp)
        problems.append(_problem(column, check, f"{n} value(s) breaking the rule", rows,
                                 fix=_fix_for(check, column)))
    return problems


def _fix_for(check: str, column: str) -> str:
    if "future" in check:
        return f"check '{column}' for mistyped years or a clock error; only past dates are accepted"
    if "0 or 1" in check:
        return f"code '{column}' as 1 (yes) or 0 (no)"
    return f"correct or remove the rows with impossible '{column}' values"


# ----------------------------------------------------------------------------- warnings


def _n_duplicate_rows(df: pd.DataFrame) -> int:
    """Exact duplicate rows. Rows can only repeat where a cheap key repeats (the order id when
    there is one, else customer and date), so the full-row comparison runs on those rows only."""
    if len(df) < 2:
        return 0
    key = ["order_id"] if "order_id" in df.columns else [c for c in ("customer_id", "order_date") if c in df]
    maybe = df.duplicated(key, keep=False).to_numpy() if key else np.ones(len(df), bool)
    if not maybe.any():
        return 0
    return int(df[maybe].duplicated().sum())


def _warn_suspicious(df: pd.DataFrame, contract: Contract, keys, shown: str) -> None:
    known = {c.name: c for c in contract.columns}
    for name in df.columns:
        col = known.get(name)
        if col is None and contract.extra_numeric and name not in keys:
            col = Column(name, "float", "")
        if col is None or not pd.api.types.is_numeric_dtype(df[name].dtype):
            continue
        values = df[name].to_numpy(dtype="float64", na_value=np.nan)
        if col.warn_negative:
            n = int((values < 0).sum())
            if n:
                warnings.warn(f"{shown}: {n} row(s) with negative '{col.name}' (treated as returns/credits)",
                              DataQualityWarning, stacklevel=4)
        if col.dtype == "float":
            size = np.abs(values[np.isfinite(values) & (values != 0)])
            if len(size) >= 3:
                median = float(np.median(size))
                n = int((size > _MAGNITUDE_RATIO * median).sum())
                if n:
                    warnings.warn(f"{shown}: {n} value(s) of '{col.name}' over a million times the typical size "
                                  f"(median {median:.3g}, largest {size.max():.3g}); check for extra zeros "
                                  "or mixed units", DataQualityWarning, stacklevel=4)
    if contract.kind == "transactions":
        n = _n_duplicate_rows(df)
        if n:
            warnings.warn(f"{shown}: {n} exact duplicate row(s); kept as separate orders", DataQualityWarning,
                          stacklevel=4)
    if contract.kind == "sales_history" and len(df):
        n = int(df.duplicated(["date", *keys]).sum())
        if n:
            warnings.warn(f"{shown}: {n} duplicated date(s) within a series; the forecast aggregates or refuses "
                          "them (parameter `duplicates`)", DataQualityWarning, stacklevel=4)
    if contract.date_freq and contract.date_column in df.columns and len(df):
        dates = pd.DatetimeIndex(df[contract.date_column].dropna().unique()).sort_values()
        if len(dates) > 2:
            step = "7D" if contract.date_freq.startswith("W") else contract.date_freq
            full = pd.date_range(dates[0], dates[-1], freq=step)
            missing = full.difference(dates)
            if len(missing):
                warnings.warn(f"{shown}: {len(missing)} gap(s) in '{contract.date_column}' "
                              f"(first: {missing[0].date()})", DataQualityWarning, stacklevel=4)
            off_grid = dates.difference(full)
            if len(off_grid):
                warnings.warn(f"{shown}: {len(off_grid)} date(s) in '{contract.date_column}' off the "
                              f"{'weekly' if step == '7D' else 'monthly'} grid starting {dates[0].date()} "
                              f"(first: {off_grid[0].date()})", DataQualityWarning, stacklevel=4)

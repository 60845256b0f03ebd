"""Reading input files: CSV (delimiter and encoding detected), Parquet (only the needed columns) and
Excel (the sheet that holds the contract's columns), plus the path and hash shown in provenance."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
from pathlib import Path

import pandas as pd

from marksell.data.columns import name_mapping, problem
from marksell.data.contracts import Contract
from marksell.errors import DataContractError
from marksell.paths import PROJ_ROOT

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_NA_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "#N/A"]
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_BINARY_MAGIC = {
    b"PK\x03\x04": "a zip archive or Excel workbook (.xlsx)",
    b"PAR1": "a Parquet file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\x1f\x8b": "a gzip archive",
}


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
    path: Path,
    contract: Contract,
    *,
    columns: dict | None = None,
    keys: list[str] | None = None,
    sheet: str | int | None = None,
) -> tuple[pd.DataFrame, int]:
    """Read a file (text columns for CSV); returns the frame and the offset from index to a 1-based file row.

    Column names are stripped text; blank cells and the usual "missing" spellings become NA.
    ``df.attrs["file_columns"]`` lists every column of the file (Parquet reads only the needed ones).
    """
    path = Path(path)
    shown = display_path(path)
    if not path.exists():
        raise DataContractError(
            shown,
            contract.kind,
            [
                problem(
                    None,
                    "an existing file",
                    "no such file",
                    fix="check the path (relative paths are resolved from the folder you run in) or leave it empty "
                    "for the sample company",
                )
            ],
        )
    if path.is_dir():
        raise DataContractError(
            shown, contract.kind, [problem(None, "a file", "a folder", fix="point the parameter at a CSV, Parquet or Excel file")]
        )
    if not path.is_file():  # a FIFO or device: reading would block or never end
        raise DataContractError(
            shown,
            contract.kind,
            [
                problem(
                    None,
                    "a regular file",
                    "a FIFO, socket or device",
                    fix="point the parameter at a CSV, Parquet or Excel file (export the stream to a file first)",
                )
            ],
        )
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        df, offset = _read_parquet(path, contract, columns or {}, keys or []), 1
    elif suffix in EXCEL_SUFFIXES:
        df, offset = _read_excel(path, contract, columns or {}, keys or [], sheet), 2
    elif suffix in CSV_SUFFIXES or suffix == "":
        df, offset = _read_csv(path, contract)
    else:
        raise DataContractError(
            shown,
            contract.kind,
            [
                problem(
                    None,
                    "a .csv, .tsv, .parquet or .xlsx file",
                    f"a '{suffix}' file",
                    fix="export the data as CSV, Parquet or Excel",
                )
            ],
        )
    attrs = dict(df.attrs)
    df = _clean_frame(df)
    df.attrs = attrs
    df.attrs.setdefault("file_columns", list(df.columns))
    return df, offset


def read_header(path: Path, contract: Contract, *, columns: dict | None = None, keys: list[str] | None = None) -> list[str]:
    """The column names of a file without reading its rows (CSV: the header line; Parquet: the schema;
    Excel: the sheet the loader would read). Raises the loader's :class:`DataContractError` for a file
    it could not read either."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_file() and suffix in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        try:
            names = [str(n).strip() for n in pq.read_schema(path).names]
            return [n for n in names if not n.startswith("__index_level_")]
        except Exception:  # noqa: BLE001 - read_table below reports it as the loader does
            pass
    if path.is_file() and (suffix in CSV_SUFFIXES or suffix == ""):
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        encoding = _detect_encoding(head, len(head) < (1 << 16))
        if head.strip() and (encoding == "utf-16" or not _binary_kind(head)):
            text = head.decode(encoding, errors="ignore").lstrip("\ufeff")
            lines = [ln for ln in text.splitlines() if ln.strip()]
            hint = re.fullmatch(r'"?sep=(.)"?', lines[0].strip()) if lines else None
            if hint:
                lines = lines[1:]
            sep = hint.group(1) if hint else (_detect_delimiter("\n".join(lines[:50])) or ",")
            if lines:
                header = next(csv.reader([lines[0]], delimiter=sep, skipinitialspace=True))
                return [c.strip() for c in header if c.strip()]
    raw, _ = read_table(path, contract, columns=columns, keys=keys)
    return list(raw.attrs.get("file_columns", raw.columns))


def _clean_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Strip column names and text cells; blank cells and NA spellings become missing."""
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    # a trailing delimiter adds an empty, unnamed column: drop it
    empty_unnamed = [c for c in df.columns if re.fullmatch(r"Unnamed: \d+", c) and df[c].isna().all()]
    if empty_unnamed:
        df = df.drop(columns=empty_unnamed)
    for i, _name in enumerate(df.columns):
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


def _csv_dialect(path: Path, contract: Contract) -> tuple[str, str, int]:
    """The encoding, delimiter and number of lines before the header (Excel's "sep=;" line) of a CSV file;
    raises the loader's error for an empty or binary file."""
    shown = display_path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    complete = len(head) >= size
    if not head.strip():
        raise DataContractError(
            shown,
            contract.kind,
            [problem(None, "a header row and data rows", "an empty file", fix="export the data again; the file has no content")],
        )
    encoding = _detect_encoding(head, complete)
    binary = None if encoding == "utf-16" else _binary_kind(head)
    if binary:
        raise DataContractError(
            shown,
            contract.kind,
            [
                problem(
                    None,
                    "a text (CSV) file",
                    binary,
                    fix="give the file its real suffix (.xlsx, .parquet) or export the data again as CSV",
                )
            ],
        )
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
    return encoding, sep, skip


def _csv_options(sep: str, skip: int) -> dict:
    return dict(sep=sep, dtype=str, keep_default_na=False, na_values=_NA_TOKENS, skiprows=skip, skipinitialspace=True)


def _read_csv(path: Path, contract: Contract) -> tuple[pd.DataFrame, int]:
    shown = display_path(path)
    encoding, sep, skip = _csv_dialect(path, contract)
    read_kw = _csv_options(sep, skip)
    try:
        try:
            df = pd.read_csv(path, encoding=encoding, **read_kw)
        except UnicodeDecodeError:  # the first 64 kB looked like UTF-8, the rest is not
            df = pd.read_csv(path, encoding="cp1252", encoding_errors="replace", **read_kw)
    except pd.errors.EmptyDataError:
        raise DataContractError(
            shown,
            contract.kind,
            [problem(None, "a header row and data rows", "no columns", fix="export the data again; the file has no content")],
        ) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise _malformed_csv(shown, contract, sep, msg) from None
    if not isinstance(df.index, pd.RangeIndex):  # pandas took the first column(s) as an index
        raise _malformed_csv(shown, contract, sep, f"line {2 + skip} has more fields than the header")
    return df, 2 + skip


def _malformed_csv(shown: str, contract: Contract, sep: str, msg: str) -> DataContractError:
    return DataContractError(
        shown,
        contract.kind,
        [
            problem(
                None,
                f"a well-formed file delimited by {_DELIMITER_NAMES.get(sep, repr(sep))}",
                f"unreadable text ({msg})",
                fix="check the delimiter and quoting (a stray quote or an extra delimiter in a row), "
                "or export the data again as CSV",
            )
        ],
    )


_ARROW_TYPES = {"string": "string", "datetime": "timestamp", "float": "float", "int": "float", "flag": "float"}


def csv_table(path: Path, contract: Contract, columns: dict, keys: list[str]):
    """The columns of a clean UTF-8 CSV file the loader needs, read by pyarrow's reader with each column's
    contract type (text, dates, numbers), and every column name of the file; ``None`` when the file needs
    the general reader (pandas), which then reads or reports it exactly as before: another encoding, an
    unusual header, a cell pyarrow cannot parse as its type, a NaN or infinity spelled as a number, a
    quote left in a text cell (pandas unquotes after a space, pyarrow does not)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    try:
        encoding, sep, skip = _csv_dialect(path, contract)
    except DataContractError:
        return None  # the general reader raises it
    if encoding != "utf-8-sig" or not _header_first(path, skip):
        return None
    try:  # pandas names the columns, so that names (and "a.1" for a repeated "a") are the general path's
        header = [str(c) for c in pd.read_csv(path, encoding=encoding, nrows=0, **_csv_options(sep, skip)).columns]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error):
        return None
    names = [c.strip() for c in header]
    if len(set(names)) < len(names) or any(re.fullmatch(r"Unnamed: \d+", n) for n in names):
        return None
    wanted = set(_wanted(names, contract, keys, columns))
    mapping = name_mapping(names, contract, keys, columns)
    known = {c.name: c.dtype for c in contract.columns}
    # text as large_string, the type of pandas' string arrays: the frame keeps the reader's buffers (no cast)
    arrow = {"string": pa.large_string(), "timestamp": pa.timestamp("us"), "float": pa.float64()}
    types = {}
    for raw, name in zip(header, names, strict=True):
        if name in wanted:
            target = mapping.get(name, name)
            dtype = known.get(target, "string" if target in keys else "float")
            types[raw] = arrow[_ARROW_TYPES[dtype]]
    if not types:  # pyarrow would read every column; the general path names the missing ones
        return None
    # with quotes in the file, every column is read and checked: a quote the readers treat differently (after a
    # space, left open to the end) leaves a quote or a line break in some cell, in any column
    quoted = _has_quote(path)
    include = header if quoted else list(types)
    try:
        table = pcsv.read_csv(
            path,
            # threads only with cores to spare: on two cores the threaded reader took 30-60% more CPU and more wall
            # time (1M rows: 0.29-0.39 s CPU against 0.22-0.25 s), and kept more memory after the read;
            # a line break inside a value needs quotes, so without quotes the faster line splitting is exact
            read_options=pcsv.ReadOptions(column_names=header, skip_rows=skip + 1, use_threads=(os.cpu_count() or 1) > 2),
            parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=quoted),
            convert_options=pcsv.ConvertOptions(
                column_types={c: types.get(c, pa.string()) for c in include},
                include_columns=include,
                null_values=_NA_TOKENS,
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid:  # a cell that is not its type, a row of another width, invalid UTF-8
        return None
    for name, arr in zip(table.column_names, table.columns, strict=True):
        if types.get(name) == pa.float64() and pc.any(pc.is_nan(arr)).as_py():
            return None  # 'NAN' or '-nan' spelled out: the general path decides
        text = pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
        if quoted and text and pc.any(pc.match_substring_regex(arr, '["\\r\\n]')).as_py():
            return None
    table = table.select(list(types))
    return table.rename_columns([n.strip() for n in table.column_names]), names


def _has_quote(path: Path) -> bool:
    """Whether the file holds a double quote anywhere (one pass over its bytes, stopping at the first)."""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 23), b""):
            if b'"' in chunk:
                return True
    return False


def _header_first(path: Path, skip: int) -> bool:
    """Whether the header is line ``skip`` of the file, whole (pandas skips blank lines before it, pyarrow
    counts them; a quote open across lines would make the lines differ)."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16).decode("utf-8", errors="ignore").lstrip("\ufeff")
    lines = head.split("\n", skip + 1)
    if len(lines) <= skip + 1:  # the header is not complete within the first 64 kB (or no data)
        return False
    line = lines[skip]
    return bool(line.strip()) and line.count('"') % 2 == 0 and "\r" not in line.rstrip("\r")


def _wanted(file_cols: list[str], contract: Contract, keys: list[str], columns: dict) -> list[str]:
    """The file's columns the loader needs (all of them when the contract keeps extra numeric columns)."""
    if contract.extra_numeric:
        return list(file_cols)
    mapping = name_mapping(file_cols, contract, keys, columns)
    needed = {c.name for c in contract.columns} | set(keys)
    return [n for n in file_cols if mapping.get(n, n) in needed]


def parquet_table(path: Path, contract: Contract, columns: dict, keys: list[str]):
    """The columns of a Parquet file the loader needs, as an Arrow table, and every column name of the file."""
    import pyarrow.parquet as pq

    try:
        schema_names = [str(n) for n in pq.read_schema(path).names]
        schema_names = [n for n in schema_names if not n.startswith("__index_level_")]
        wanted = _wanted([n.strip() for n in schema_names], contract, keys, columns)
        wanted_raw = [n for n in schema_names if n.strip() in wanted]
        table = pq.read_table(path, columns=wanted_raw)
    except Exception as exc:  # corrupt or truncated file
        raise _unreadable_parquet(path, contract, exc) from None
    return table, [n.strip() for n in schema_names]


class ParquetColumns:
    """The columns of a Parquet file the loader needs, each read only when asked for (the fast path converts
    and frees one column before the next is read, so the whole Arrow table never sits beside the frame).

    Offers what the fast path uses of a ``pyarrow.Table``: ``column_names``, ``num_rows``,
    ``rename_columns`` and ``column``; ``column(name, dictionary=True)`` reads a text column as dictionary
    indices and its distinct values (what the file stores for repeated codes: no per-row strings to hash)."""

    def __init__(self, path: Path, names: list[str], schema, metadata):
        self.path, self._file_names, self._schema, self._metadata = path, list(names), schema, metadata
        self.column_names = list(names)
        self.num_rows = metadata.num_rows

    def rename_columns(self, names: list[str]) -> ParquetColumns:
        renamed = ParquetColumns(self.path, self._file_names, self._schema, self._metadata)
        renamed.column_names = list(names)
        return renamed

    def stored_as_text(self, name: str) -> bool:
        """Whether the file stores the column as plain text (not as an Arrow dictionary)."""
        import pyarrow as pa

        kind = self._schema.field(self._file_names[self.column_names.index(name)]).type
        return pa.types.is_string(kind) or pa.types.is_large_string(kind)

    def column(self, name: str, dictionary: bool = False):
        """One column as a chunked array (one chunk per row group); an error of the reader propagates."""
        import pyarrow.parquet as pq

        raw = self._file_names[self.column_names.index(name)]
        as_dictionary = dictionary and self.stored_as_text(name)
        # read_table, as the general path: batches of the dataset reader (a chunk per batch, not one per column)
        return pq.read_table(self.path, columns=[raw], read_dictionary=[raw] if as_dictionary else None).column(0)


def parquet_columns(path: Path, contract: Contract, columns: dict, keys: list[str]):
    """As :func:`parquet_table`, with the columns read on demand (:class:`ParquetColumns`); None when the file's
    column names repeat (the general path then reads and words it)."""
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as f:
            metadata, schema = f.metadata, f.schema_arrow
        schema_names = [str(n) for n in schema.names if not str(n).startswith("__index_level_")]
        wanted = _wanted([n.strip() for n in schema_names], contract, keys, columns)
        wanted_raw = [n for n in schema_names if n.strip() in wanted]
    except Exception as exc:  # corrupt or truncated file
        raise _unreadable_parquet(path, contract, exc) from None
    if len(set(schema.names)) != len(schema.names):
        return None
    return ParquetColumns(path, wanted_raw, schema, metadata), [n.strip() for n in schema_names]


def _read_parquet(path: Path, contract: Contract, columns: dict, keys: list[str]) -> pd.DataFrame:
    table, file_columns = parquet_table(path, contract, columns, keys)
    try:
        df = table.to_pandas()
    except Exception as exc:  # a type pandas cannot hold
        raise _unreadable_parquet(path, contract, exc) from None
    df = df.reset_index(drop=True)
    df.attrs["file_columns"] = file_columns
    return df


def _unreadable_parquet(path: Path, contract: Contract, exc: Exception) -> DataContractError:
    return DataContractError(
        display_path(path),
        contract.kind,
        [
            problem(
                None,
                "a readable Parquet file",
                f"an unreadable file ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})",
                fix="write the file again, e.g. with pandas.DataFrame.to_parquet",
            )
        ],
    )


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
                mapping = name_mapping(cols, contract, keys, columns)
                if required <= {mapping.get(c, c) for c in cols}:
                    frame.attrs["sheet"] = name
                    return frame
                seen.append(f"'{name}' ({', '.join(cols[:6]) or 'empty'})")
    except _SheetMissing as exc:
        raise DataContractError(
            shown,
            contract.kind,
            [
                problem(
                    None,
                    f"a sheet named {exc}",
                    f"the sheets {names}",
                    fix=f"pass sheet= one of {names} (a name, or a 0-based position)",
                )
            ],
        ) from None
    except Exception as exc:  # not a workbook, corrupt, or a missing engine (.xls needs xlrd)
        raise DataContractError(
            shown,
            contract.kind,
            [
                problem(
                    None,
                    "a readable Excel workbook",
                    f"an unreadable file ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})",
                    fix="open and save it again as .xlsx in Excel, or export it as CSV",
                )
            ],
        ) from None
    raise DataContractError(
        shown,
        contract.kind,
        [
            problem(
                None,
                f"a sheet with the columns {sorted(required)}",
                "sheets without them: " + "; ".join(seen),
                fix="name the sheet to read (sheet=...) or map your column names with `columns`",
            )
        ],
    )


class _SheetMissing(Exception):
    pass


def file_names(path, kind: str, mapping: dict, keys: list[str] | None = None) -> tuple[list[str], dict, str] | None:
    """(the user's ``kind`` file header, the mapping as the loader applies it — ``mapping``, the user's
    ``columns`` for this input, plus the automatic case/space matches —, the path as shown), or ``None`` when
    the file cannot be read here (the path checks and the loader report that in full). Reads the header
    only: the checks that run before any kernel use it."""
    from marksell.data.columns import name_mapping
    from marksell.data.contracts import CONTRACTS
    from marksell.paths import resolve_input

    src = resolve_input(path or "", kind)
    if not src.is_file():
        return None
    try:
        header = read_header(src, CONTRACTS[kind])
    except DataContractError:
        return None
    return header, name_mapping(header, CONTRACTS[kind], list(keys or []), mapping), display_path(src)


def mapped_header(path, kind: str, mapping: dict, keys: list[str] | None = None) -> tuple[list[str], str] | None:
    """The column names of the user's ``kind`` file as the loader will name them, and the path as shown
    (see :func:`file_names`)."""
    found = file_names(path, kind, mapping, keys)
    if found is None:
        return None
    header, names, shown = found
    return [names.get(c, c) for c in header], shown

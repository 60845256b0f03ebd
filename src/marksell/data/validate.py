"""Coercion and validation of the contract columns: every column to its type (unparseable cells become
problems), missing values in required columns, and the value rules checked with pandera."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pandera.pandas as pa

from marksell.data.columns import problem
from marksell.data.contracts import Contract

_N_EXAMPLES = 3
_MIN_DATE = pd.Timestamp("1900-01-01")
_MAX_DATE = pd.Timestamp("2262-04-11")  # last day representable in nanoseconds
_MAX_EXACT_INT = 2.0**53  # larger counts are not exact as floats


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


def _number_problems(name: str, s: pd.Series, bad: pd.Series, num: pd.Series, row_offset: int, fix: str) -> list[dict]:
    """Problems of a column read as numbers: non-numeric values (with ``fix``) and infinities."""
    problems = []
    if bad.any():
        problems.append(
            problem(
                name, "numbers", f"{int(bad.sum())} non-numeric value(s)", _examples(s[bad], s.index[bad], row_offset), fix=fix
            )
        )
    inf = np.isinf(num.to_numpy())
    if inf.any():
        problems.append(
            problem(
                name,
                "finite numbers",
                f"{int(inf.sum())} infinite value(s)",
                _examples(s[inf], s.index[inf], row_offset),
                fix="replace infinite values with real figures",
            )
        )
    return problems


def coerce_columns(df: pd.DataFrame, contract: Contract, keys: list[str], row_offset: int, notes: list[str]):
    """Coerce every column to its contract type; unparseable cells become problems (and NA)."""
    problems = []
    out = pd.DataFrame(index=df.index)
    known = {c.name: c for c in contract.columns}
    for name in df.columns:
        col = known.get(name)
        s = df[name]
        if col is None:
            coerced, found = _coerce_extra(name, s, contract, keys, row_offset)
        elif col.dtype == "string":
            coerced, found = _to_string(s), []
        elif col.dtype == "datetime":
            coerced, found = _coerce_dates(name, s, contract, row_offset, notes)
        else:
            coerced, found = _coerce_numbers(name, s, col.dtype, row_offset)
        problems += found
        if coerced is not None:
            out[name] = coerced
    return out, problems


def _coerce_extra(name: str, s: pd.Series, contract: Contract, keys: list[str], row_offset: int):
    """A column outside the contract: text for keys, numbers where the contract takes extra numeric columns (a column
    of text only stays text, e.g. a label), otherwise dropped (``None``)."""
    if name in keys:
        return _to_string(s), []
    if not contract.extra_numeric:
        return None, []
    num, bad = _to_number(s)
    if bad.any() and bad.sum() == s.notna().sum() and contract.kind != "opportunities":
        return _to_string(s), []
    fix = "remove text such as units or thousands separators from the column, or drop it"
    return num, _number_problems(name, s, bad, num, row_offset, fix)


def _coerce_dates(name: str, s: pd.Series, contract: Contract, row_offset: int, notes: list[str]):
    """Dates as YYYY-MM-DD within the representable range; monthly contracts move dates to the month start (noted)."""
    problems = []
    parsed, bad, outside = _to_datetime(s)
    if bad.any():
        problems.append(
            problem(
                name,
                "dates as YYYY-MM-DD",
                f"{int(bad.sum())} value(s) that are not dates in that format",
                _examples(s[bad], s.index[bad], row_offset),
                fix="write the dates as YYYY-MM-DD (ISO 8601), one format for the whole column",
            )
        )
    if outside.any():
        problems.append(
            problem(
                name,
                f"dates from {_MIN_DATE.date()} on",
                f"{int(outside.sum())} date(s) outside that range",
                _examples(s[outside], s.index[outside], row_offset),
                fix=f"check '{name}' for mistyped years",
            )
        )
    if contract.date_freq == "MS" and name == contract.date_column:
        off = parsed.notna() & (parsed.dt.day != 1)
        if off.any():
            parsed = parsed.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
            notes.append(
                f"{int(off.sum())} date(s) in '{name}' were not the first of the month "
                f"(e.g. row {int(s.index[off][0]) + row_offset}: {_fmt_value(s[off].iloc[0])}); "
                "moved to the month start"
            )
    return parsed, problems


def _coerce_numbers(name: str, s: pd.Series, dtype: str, row_offset: int):
    """Numbers (infinities become NA); counts and flags become integer columns when every value is a whole number
    in range (and 0/1 for flags), otherwise they stay float and the checks report them."""
    num, bad = _to_number(s)
    fix = "remove text such as currency signs, units or thousands separators"
    problems = _number_problems(name, s, bad, num, row_offset, fix)
    num = num.mask(np.isinf(num.to_numpy()))
    if dtype not in ("int", "flag"):
        return num, problems
    whole = _whole_number_problems(name, s, num, row_offset)
    not_flag = dtype == "flag" and bool((num.notna() & ~num.isin([0, 1])).any())
    if whole or not_flag:
        return num, problems + whole  # reported by the checks; stays float
    if dtype == "flag":
        return (num.astype("Int8") if num.isna().any() else num.astype("int8")), problems
    return (num.astype("Int64") if num.isna().any() else num.astype("int64")), problems


def _whole_number_problems(name: str, s: pd.Series, num: pd.Series, row_offset: int) -> list[dict]:
    """Fractional values and values too large to be exact as floats, in a count or flag column."""
    problems = []
    frac = num.notna() & (num != np.round(num))
    huge = num.abs() > _MAX_EXACT_INT
    if frac.any():
        problems.append(
            problem(
                name,
                "whole numbers",
                f"{int(frac.sum())} fractional value(s)",
                _examples(s[frac], s.index[frac], row_offset),
                fix="round the counts or check the column mapping",
            )
        )
    if huge.any():
        problems.append(
            problem(
                name,
                f"whole numbers below {_MAX_EXACT_INT:.0e}",
                f"{int(huge.sum())} larger value(s)",
                _examples(s[huge], s.index[huge], row_offset),
                fix="check the column mapping or the units of the counts",
            )
        )
    return problems


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


def missing_problems(df: pd.DataFrame, raw_missing: pd.DataFrame, contract: Contract, keys, row_offset: int) -> list[dict]:
    """Missing values in required columns (cells that could not be parsed are reported already)."""
    problems = []
    rules = [(c.name, c.nullable) for c in contract.columns] + [(k, False) for k in keys]
    for name, nullable in rules:
        if nullable or name not in df.columns:
            continue
        miss = raw_missing[name]
        if miss.any():
            problems.append(
                problem(
                    name,
                    "a value in every row",
                    f"{int(miss.sum())} missing value(s)",
                    "; ".join(f"row {int(i) + row_offset}" for i in df.index[miss][:_N_EXAMPLES]),
                    fix="fill the missing values or drop those rows",
                )
            )
    return problems


def schema_problems(df: pd.DataFrame, contract: Contract, keys, row_offset: int, today: datetime) -> list[dict]:
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
            shown = (
                "; ".join(
                    f"row {int(i) + row_offset}: " + ", ".join(_fmt_value(v) for v in example.loc[i]) for i in example.index
                )
                if example is not None
                else ""
            )
            problems.append(
                problem(
                    cols,
                    "one row per " + cols,
                    f"{int(dup.sum())} rows sharing a value with another row",
                    shown,
                    fix="remove or aggregate the duplicates",
                )
            )
            continue
        rows = "; ".join(f"row {int(i) + row_offset}: {_fmt_value(df.at[i, column])}" for i in idx[:_N_EXAMPLES] if i in df.index)
        n = len(idx) or len(grp)
        problems.append(problem(column, check, f"{n} value(s) breaking the rule", rows, fix=_fix_for(check, column)))
    return problems


def _fix_for(check: str, column: str) -> str:
    if "future" in check:
        return f"check '{column}' for mistyped years or a clock error; only past dates are accepted"
    if "0 or 1" in check:
        return f"code '{column}' as 1 (yes) or 0 (no)"
    return f"correct or remove the rows with impossible '{column}' values"

"""The notebook's inputs fitted to the data: the sales history, the plan, and the defaults that name
the sample company's columns (``keys``, ``exog_cols``) applied only where the data has them.

A default that does not fit is replaced by what the data shows (the file's text columns as keys, no
drivers without a plan) and a one-line note says so; a value the user gave is used as given, so a
wrong one still fails with the loader's message. Levels are derived from the keys when left empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from marksell.data.columns import input_columns
from marksell.data.read import file_names
from marksell.errors import ParameterError
from marksell.forecasting.exog import load_plan

#: The notebook's defaults that name the sample company's columns.
SAMPLE_KEYS = ("region", "category")
SAMPLE_DRIVERS = ("promo", "easter")


@dataclass
class ForecastInputs:
    """The history and plan to forecast, with the keys, drivers and levels that fit them."""

    sales: pd.DataFrame
    plan: pd.DataFrame | None
    keys: list[str]
    exog_cols: list[str]
    levels: list
    notes: list[str] = field(default_factory=list)


def default_levels(keys) -> list[str]:
    """``total``, then each leading group of keys (``region``, ``region x category``...)."""
    keys = list(keys)
    return ["total"] + [" x ".join(keys[:i]) for i in range(1, len(keys) + 1)] if keys else ["total"]


def _mapped_names(sales_path: str, columns: dict | None, value_col: str) -> list[str]:
    """The history's column names after the user's mapping (header only)."""
    from marksell.data.contracts import CONTRACTS
    from marksell.data.read import read_header
    from marksell.paths import resolve_input

    mapping = dict(columns or {})
    if value_col and value_col != "sales":
        mapping.setdefault(value_col, "sales")
    names = read_header(resolve_input(sales_path, "sales_history"), CONTRACTS["sales_history"])
    return [mapping.get(n, n) for n in names]


def fit_keys(keys, names: list[str]) -> tuple[list[str] | None, str | None]:
    """``keys`` when given or present in ``names``; None (derive from the loaded data) with a note
    when they are the sample's defaults and the file lacks them."""
    keys = list(keys or [])
    if keys != list(SAMPLE_KEYS) or set(keys) <= set(names):
        return keys, None
    missing = [k for k in keys if k not in names]
    return None, f"no {', '.join(f'`{k}`' for k in missing)} column"


def text_columns(sales: pd.DataFrame, exclude=()) -> list[str]:
    """Columns of a loaded history that are not numbers (nor the date): the series' identifiers."""
    skip = {"date", "sales", *exclude}
    return [
        c
        for c in sales.columns
        if c not in skip and not pd.api.types.is_numeric_dtype(sales[c]) and not pd.api.types.is_datetime64_any_dtype(sales[c])
    ]


def fit_drivers(exog_cols, sales: pd.DataFrame, sales_path: str, future_path: str) -> tuple[list[str], str | None]:
    """``exog_cols`` as given, unless they are the sample's default drivers and the user's history
    lacks them or has no plan (then the ones that can be used, with a note)."""
    exog = list(exog_cols or [])
    if exog != list(SAMPLE_DRIVERS) or not str(sales_path or "").strip():
        return exog, None
    present = [c for c in exog if c in sales.columns]
    absent = [c for c in exog if c not in sales.columns]
    if present and str(future_path or "").strip():
        note = (
            (
                f"drivers: {', '.join(f'`{c}`' for c in absent)} not in the history, so the regression "
                f"uses {', '.join(f'`{c}`' for c in present)} only."
            )
            if absent
            else None
        )
        return present, note
    why = (
        "no sales plan (`future_path`) with their future values"
        if present
        else f"the history has no {' or '.join(f'`{c}`' for c in exog)} column"
    )
    return [], (
        f"no drivers: {why}, so the forecast runs without a regression on drivers; name your "
        "driver columns in `exog_cols` and give their plan in `future_path` to add one."
    )


def load_inputs(
    sales_path: str = "",
    future_path: str = "",
    columns: dict | None = None,
    keys=SAMPLE_KEYS,
    value_col: str = "sales",
    exog_cols=SAMPLE_DRIVERS,
    levels=(),
) -> ForecastInputs:
    """Load the history (and the plan when drivers are used), fitting the sample-named defaults to the
    data: keys from the file's text columns, drivers only when present and planned, levels from the
    keys. Returns the frames, the keys/drivers/levels used and one note per default that did not fit."""
    from marksell.data.loaders import load_sales_history

    notes = []
    fitted, why = fit_keys(keys, _mapped_names(sales_path, columns, value_col))
    if fitted is None:
        sales = load_sales_history(sales_path, columns=columns or None, keys=[], value_col=value_col)
        fitted = text_columns(sales, exclude=SAMPLE_DRIVERS)
        for k in fitted:
            sales[k] = sales[k].astype("string")
        shown = ", ".join(f"`{k}`" for k in fitted)
        notes.append(
            f"keys: {why}; "
            + (
                f"the series are identified by the file's text columns {shown} (set `keys` to choose others)."
                if fitted
                else "the file is one series (set `keys` to split it)."
            )
        )
    else:
        sales = load_sales_history(sales_path, columns=columns or None, keys=fitted, value_col=value_col)
    exog, note = fit_drivers(exog_cols, sales, sales_path, future_path)
    if note:
        notes.append(note)
    plan = load_plan(future_path, sales_path, exog, fitted, columns)
    levels = list(levels) if levels else default_levels(fitted)
    return ForecastInputs(sales, plan, fitted, exog, levels, notes)


# --------------------------------------------------------------------------- checks before any kernel
def _kind_mapping(columns, kind: str) -> dict[str, str]:
    """``columns`` for one input: its own mapping when given per input, else the flat mapping."""
    return input_columns(columns, {"sales_history": True, "sales_plan": False})[kind]


def _plan_mapping(columns, history_mapping: dict) -> dict[str, str]:
    """The mapping :func:`~marksell.forecasting.exog.load_plan` applies to the plan."""
    if isinstance(columns, dict) and any(isinstance(v, dict) for v in columns.values()):
        return _kind_mapping(columns, "sales_plan")
    return {k: v for k, v in history_mapping.items() if v == "date"}


def _series_ids(path, mapping: dict, keys: list[str], levels) -> set[str]:
    """The series ids a forecast of this history has: ``total`` and the key values joined per level
    (reads the file; used only when ``show_series`` names series)."""
    from marksell.data.contracts import CONTRACTS
    from marksell.data.read import read_table
    from marksell.forecasting.series import joined_keys, parse_levels
    from marksell.paths import resolve_input

    raw, _ = read_table(resolve_input(path or "", "sales_history"), CONTRACTS["sales_history"], columns=mapping, keys=keys)
    frame = raw.rename(columns=mapping)[keys].dropna().astype(str).apply(lambda s: s.str.strip())
    ids = {"total"}
    for level in parse_levels(list(levels) or default_levels(keys), keys):
        if level:
            ids.update(joined_keys(frame.drop_duplicates(list(level)), list(level)))
    return ids


def _listed(names, n: int = 12) -> str:
    names = [str(x) for x in names]
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _given_keys(given: dict) -> list[str]:
    from marksell.data.columns import check_keys
    from marksell.data.contracts import CONTRACTS
    from marksell.errors import DataContractError

    keys = given.get("keys")
    keys = list(SAMPLE_KEYS) if keys is None else [keys] if isinstance(keys, str) else list(keys)
    try:
        return check_keys(keys, "the sales history", CONTRACTS["sales_history"])
    except DataContractError:
        raise ParameterError(
            f"keys: {keys} include the date or value column; name only the columns that identify a series (e.g. region, product)."
        ) from None


def _column_problems(given: dict, header: list[str], names: set[str], shown: str, value_col: str, keys: list[str]) -> list[str]:
    """What the date, value, key and driver columns the user named lack in the history."""
    problems = []
    bad_value = value_col != "sales" and value_col not in header
    if bad_value:
        problems.append(f"value_col: `{value_col}` is not a column of {shown}")
    if str(given.get("sales_path") or "").strip():
        for col, what, example in (("date", "date", "Month"), ("sales", "value (sales)", "Revenue")):
            if col not in names and not (col == "sales" and bad_value):
                problems.append(
                    f"{shown} has no {what} column `{col}` after `columns`; map yours with "
                    f'`columns` (e.g. {{"{example}": "{col}"}})' + (" or name it in `value_col`" if col == "sales" else "")
                )
    problems += [f"keys: `{k}` is not a column of {shown}" for k in keys if k not in names]
    exog = [str(c).strip() for c in (given.get("exog_cols") or [])]
    if "exog_cols" in given and exog != list(SAMPLE_DRIVERS):
        problems += [f"exog_cols: `{c}` is not a column of {shown}" for c in exog if c not in names]
    return problems


def _plan_problems(given: dict, mapping: dict, keys: list[str]) -> list[str]:
    """Explicit drivers need a plan with their future values, holding those columns."""
    exog = [str(c).strip() for c in (given.get("exog_cols") or [])]
    if not exog or exog == list(SAMPLE_DRIVERS):
        return []
    future = str(given.get("future_path") or "").strip()
    if str(given.get("sales_path") or "").strip() and not future:
        return [
            f"exog_cols: {exog} need the drivers' future values: set `future_path` to a file with the date, "
            "the key columns and those columns for the periods to forecast, or set exog_cols to [] to "
            "forecast without drivers"
        ]
    plan = file_names(future, "sales_plan", _plan_mapping(given.get("columns"), mapping), keys)
    if plan is None:
        return []
    header, full, shown = plan
    have = [full.get(n, n) for n in header]
    missing = [c for c in exog if c not in have]
    return (
        [
            f"exog_cols: {_listed(f'`{c}`' for c in missing)} {'is not a column' if len(missing) == 1 else 'are not columns'} "
            f"of the plan {shown} (its columns: {_listed(have)}); add the drivers' future values to the plan"
        ]
        if missing
        else []
    )


def check_run_parameters(given: dict) -> None:
    """The runner's check of a forecasting run before any kernel starts.

    ``given`` holds the parameters the user set. Values that name columns or series of the history
    (``value_col``, ``keys``, ``exog_cols``, ``levels``, ``show_series``) must fit the file, the history
    must have a date and a value column after ``columns``, and explicit drivers must be in the plan. Only
    headers are read, except for ``show_series`` (the key columns' values). Sample-named defaults are not
    checked here: :func:`load_inputs` fits them to the data. Raises one :class:`ParameterError` naming the
    parameter, the column or series, the file and the fix.
    """
    from marksell.forecasting.series import parse_levels

    value_col = str(given.get("value_col") or "sales").strip()
    mapping = _kind_mapping(given.get("columns"), "sales_history")
    if value_col != "sales":
        mapping.setdefault(value_col, "sales")
    keys = _given_keys(given)
    found = file_names(given.get("sales_path"), "sales_history", mapping, keys)
    if found is None:
        return
    header, full, shown = found
    names = [full.get(n, n) for n in header]
    # the sample's default keys, where the file lacks them, are derived from its text columns instead
    fitted = keys if ("keys" in given and keys != list(SAMPLE_KEYS)) or set(keys) <= set(names) else None
    problems = _column_problems(given, header, set(names), shown, value_col, fitted or [])
    levels = list(given.get("levels") or [])
    if levels:
        try:  # with derived keys a level must at least name columns of the file
            parse_levels(levels, fitted if fitted is not None else [n for n in names if n not in ("date", "sales")])
        except ParameterError as exc:
            problems.append(f"levels: {str(exc).rstrip('.')}")
    if problems:
        problems[-1] += (
            f". The columns of {shown} (after `columns`) are {_listed(names)}; name one of them, map "
            "yours with `columns`, or leave the parameter at its default"
        )
    problems += _plan_problems(given, mapping, fitted or [])
    if problems:
        raise ParameterError("; ".join(problems) + ".")
    wanted = [str(s).strip() for s in (given.get("show_series") or [])]
    if wanted and fitted is not None:
        ids = _series_ids(given.get("sales_path"), full, fitted, levels)
        unknown = [s for s in wanted if s not in ids]
        if unknown:
            verb = "is not a series" if len(unknown) == 1 else "are not series"
            raise ParameterError(
                f"show_series: {_listed(unknown, 5)} {verb} of {shown}; its series are named "
                f"like {_listed(sorted(ids), 8)} (key values joined by ' / '); name those, or "
                "leave show_series empty for the largest."
            )

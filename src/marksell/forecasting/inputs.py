"""The notebook's inputs fitted to the data: the sales history, the plan, and the defaults that name
the sample company's columns (``keys``, ``exog_cols``) applied only where the data has them.

A default that does not fit is replaced by what the data shows (the file's text columns as keys, no
drivers without a plan) and a one-line note says so; a value the user gave is used as given, so a
wrong one still fails with the loader's message. Levels are derived from the keys when left empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

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
    return [c for c in sales.columns if c not in skip and not pd.api.types.is_numeric_dtype(sales[c])
            and not pd.api.types.is_datetime64_any_dtype(sales[c])]


def fit_drivers(exog_cols, sales: pd.DataFrame, sales_path: str, future_path: str) -> tuple[list[str], str | None]:
    """``exog_cols`` as given, unless they are the sample's default drivers and the user's history
    lacks them or has no plan (then the ones that can be used, with a note)."""
    exog = list(exog_cols or [])
    if exog != list(SAMPLE_DRIVERS) or not str(sales_path or "").strip():
        return exog, None
    present = [c for c in exog if c in sales.columns]
    absent = [c for c in exog if c not in sales.columns]
    if present and str(future_path or "").strip():
        note = (f"drivers: {', '.join(f'`{c}`' for c in absent)} not in the history, so the regression "
                f"uses {', '.join(f'`{c}`' for c in present)} only.") if absent else None
        return present, note
    why = ("no sales plan (`future_path`) with their future values" if present
           else f"the history has no {' or '.join(f'`{c}`' for c in exog)} column")
    return [], (f"no drivers: {why}, so the forecast runs without a regression on drivers; name your "
                "driver columns in `exog_cols` and give their plan in `future_path` to add one.")


def load_inputs(sales_path: str = "", future_path: str = "", columns: dict | None = None, keys=SAMPLE_KEYS,
                value_col: str = "sales", exog_cols=SAMPLE_DRIVERS, levels=()) -> ForecastInputs:
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
        notes.append(f"keys: {why}; " + (f"the series are identified by the file's text columns {shown} "
                                         "(set `keys` to choose others)." if fitted
                                         else "the file is one series (set `keys` to split it)."))
    else:
        sales = load_sales_history(sales_path, columns=columns or None, keys=fitted, value_col=value_col)
    exog, note = fit_drivers(exog_cols, sales, sales_path, future_path)
    if note:
        notes.append(note)
    plan = load_plan(future_path, sales_path, exog, fitted, columns)
    levels = list(levels) if levels else default_levels(fitted)
    return ForecastInputs(sales, plan, fitted, exog, levels, notes)

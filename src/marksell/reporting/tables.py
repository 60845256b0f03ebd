"""Tables for people: one display helper that every notebook uses for the tables a reviewer reads.

``table(df)`` returns an object that JupyterLab, nbval and the HTML report show the same way: no positional
index, thousands separators, money with the run's currency, shares as percentages, one number of decimals per
column, missing values as "—", long tables cut with a note that names the artifact holding all rows, and wide
tables that scroll inside the page instead of pushing it sideways. Column kinds are inferred from names and
values; pass ``kinds`` to say them where a name misleads.
"""

from __future__ import annotations

import hashlib
import html
import re

import numpy as np
import pandas as pd

from marksell.reporting import numbers

MISSING = numbers.MISSING
KINDS = ("money", "count", "number", "share", "percent", "ratio", "estimate", "figure", "text", "date", "flag")

_SHARE = re.compile(
    r"(^|[_\s])(share|rate|conversion|retention|churn|prob|probability|p_first|p_top_k|p_alive|coverage)"
    r"($|[_\s])"
)
_PERCENT = re.compile(r"(_pct$|^pct_|_pct_|percent)")
_MONEY = re.compile(
    r"(^|[_\s])(revenue|spend|sales|value|clv|cac|price|cost|profit|budget|contribution|monetary|"
    r"margin_value|arpu|aov|ltv|amount|uplift|forecast|gross_margin)($|[_\s])"
)
_COUNT = re.compile(r"(^|[_\s])(n|count|customers|orders|units|rows|rank|frequency|members|size|leads|days|weeks)($|[_\s])")
_RATIO = re.compile(r"(^|[_\s])(roas|roi|mroas|ratio|lift_x|multiple|elasticity|mase|tau|rho)($|[_\s])")


def infer_kind(name: str, values: pd.Series) -> str:
    """The display kind of one column, from its name and values."""
    if pd.api.types.is_bool_dtype(values):
        return "flag"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    if not pd.api.types.is_numeric_dtype(values):
        return "text"
    lower = str(name).lower()
    if _PERCENT.search(lower):
        return "percent"
    if _SHARE.search(lower):
        return "share"
    if _RATIO.search(lower):
        return "ratio"
    if _MONEY.search(lower):
        return "money"
    finite = values[np.isfinite(values.astype(float))] if len(values) else values
    whole = len(finite) > 0 and bool((finite.astype(float) % 1 == 0).all())
    if pd.api.types.is_integer_dtype(values) or (whole and _COUNT.search(lower)):
        return "count"
    return "number"


def decimals_for(values: pd.Series, kind: str) -> int:
    """One number of decimals for a whole column, from the size of its typical value."""
    if kind in ("count", "flag", "text", "date", "estimate", "figure"):
        return 0
    if kind == "share":  # a part of a whole: a real, small part must not read 0.0 %
        return _percent_places(values, 100)
    if kind == "percent":  # changes and rates already in %: one decimal
        return 1
    finite = pd.to_numeric(values, errors="coerce").astype(float)
    finite = finite[np.isfinite(finite)]
    if finite.empty:
        return 0
    if kind == "money":
        return 0 if finite.abs().median() >= 100 else 2
    if kind == "ratio":
        return 2
    if (finite % 1 == 0).all():
        return 0
    typical = finite.abs().median()
    if typical >= 1000:
        return 0
    if typical >= 10:
        return 1
    if typical >= 0.1:
        return 2
    return 3


def _percent_places(values: pd.Series, scale: float) -> int:
    """One decimal, or up to three when the smallest non-zero percentage would otherwise read as 0.0 %."""
    shown = pd.to_numeric(values, errors="coerce").astype(float).abs() * scale
    shown = shown[np.isfinite(shown) & (shown > 0)]
    places = 1
    while places < 3 and len(shown) and round(float(shown.min()), places) == 0:
        places += 1
    return places


def format_value(value, kind: str, decimals: int, currency: str = "") -> str:
    """``value`` as text for a person: separators, currency, %, "—" for missing."""
    if numbers.is_missing(value):
        return MISSING
    if kind in ("text", "figure"):  # figure: a number already written as text ("4.22x", "≥ 10.0%"), right-aligned
        return str(value)
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind == "flag":
        return "yes" if bool(value) else "no"
    if kind == "share":
        return numbers.share(value, decimals)
    if kind == "percent":
        return numbers.percent(value, decimals)
    if kind == "money":
        return numbers.money(value, currency, decimals)
    if kind == "estimate":  # model parameters of very different sizes in one column
        return numbers.significant(value, 3)
    return numbers.fixed(value, decimals)


def _heading(name) -> str:
    text = str(name)
    return text.replace("_", " ") if re.fullmatch(r"[a-z0-9_]+", text) else text


class Table:
    """A formatted table: ``_repr_html_`` for notebooks and reports, ``__repr__`` for text and nbval."""

    def __init__(self, shown: pd.DataFrame, kinds: dict[str, str], *, caption: str = "", note: str = ""):
        self.frame = shown  # formatted strings, one column per source column
        self.kinds = kinds
        self.caption = caption
        self.note = note

    def __repr__(self) -> str:
        body = self.frame.to_string(index=False) if len(self.frame.columns) else "(no columns)"
        parts = [self.caption] if self.caption else []
        parts.append(body)
        if self.note:
            parts.append(self.note)
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        e = lambda v: html.escape(str(v), quote=True)  # noqa: E731 - text from data is escaped
        numeric = {c for c, k in self.kinds.items() if k not in ("text", "date", "flag")}
        # inline, whatever the page's table style says: numbers right (digits line up) and never broken over
        # lines, text left; headings unbroken, so that a wide table scrolls instead of squeezing its columns
        # text up to _SHORT_TEXT characters stays on one line too; longer text wraps at words, never narrower
        # than a readable column
        cell = {
            c: (
                "class='ms-num' style='text-align:right;white-space:nowrap'"
                if c in numeric
                else "style='text-align:left;white-space:nowrap'"
                if _longest(self.frame[c]) <= _SHORT_TEXT
                else "style='text-align:left;min-width:16em;word-break:normal;overflow-wrap:normal'"
            )
            for c in self.frame.columns
        }
        head = "".join(
            f"<th {cell[c]}>{e(_heading(c))}</th>"
            if "nowrap" in cell[c]
            else f"<th {cell[c][:-1]};white-space:nowrap'>{e(_heading(c))}</th>"
            for c in self.frame.columns
        )
        rows = "".join(
            "<tr>" + "".join(f"<td {cell[c]}>{e(v)}</td>" for c, v in zip(self.frame.columns, row)) + "</tr>"
            for row in self.frame.itertuples(index=False, name=None)
        )
        caption = f"<caption>{e(self.caption)}</caption>" if self.caption else ""
        note = f"<p class='ms-table-note'>{e(self.note)}</p>" if self.note else ""
        digest = hashlib.sha1((head + rows).encode()).hexdigest()[:8]
        return (
            f"<div class='ms-table-wrap' id='t{digest}' style='overflow-x:auto;max-width:100%'>"
            f"<table class='ms-table' style='border-collapse:collapse'>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>{note}</div>"
        )


def table(
    df: pd.DataFrame | pd.Series,
    *,
    kinds: dict[str, str] | None = None,
    currency: str = "",
    max_rows: int = 25,
    artifact: str = "",
    caption: str = "",
    missing_reason: str = "",
    keep_index: bool | None = None,
    decimals: int | None = None,
) -> Table:
    """``df`` formatted for a reviewer.

    ``kinds`` overrides the inferred kind of named columns (one of ``KINDS``); ``currency`` prefixes money
    (a symbol such as "€" or a code such as "EUR"); tables longer than ``max_rows`` are cut with a note naming
    ``artifact`` (the file that holds every row); ``missing_reason`` explains the "—" cells in the note;
    ``decimals`` fixes the decimals of every plain-number and ratio column (a matrix of correlations).
    A meaningful index (named, or not 0..n-1) becomes the first column; a positional one is dropped.
    """
    frame = df.to_frame() if isinstance(df, pd.Series) else df
    unknown = sorted(set(kinds or {}) - set(map(str, frame.columns)) - set(map(str, frame.index.names)))
    if unknown:
        raise ValueError(f"table(): kinds names columns that are not in the table: {unknown}")
    bad = sorted(k for k in (kinds or {}).values() if k not in KINDS)
    if bad:
        raise ValueError(f"table(): unknown kind(s) {bad}; use one of {list(KINDS)}")
    if keep_index is None:
        keep_index = not _positional(frame.index)
    if keep_index:
        frame = frame.reset_index()
    frame = frame.copy()
    frame.columns = [_flat(c) for c in frame.columns]
    total = len(frame)
    shown = frame.head(max_rows) if max_rows and total > max_rows else frame
    resolved = {c: (kinds or {}).get(c) or infer_kind(c, frame[c]) for c in frame.columns}
    out = pd.DataFrame(index=range(len(shown)))
    for col in frame.columns:
        kind = resolved[col]
        places = decimals if decimals is not None and kind in ("number", "ratio") else decimals_for(frame[col], kind)
        out[col] = [format_value(v, kind, places, currency) for v in shown[col].tolist()]
    notes = []
    if len(shown) < total:
        where = f"; every row is in `{artifact}`" if artifact else ""
        notes.append(f"Showing the first {len(shown):,} of {total:,} rows{where}.")
    if missing_reason and (shown.isna().any().any()):
        notes.append(f"{MISSING}: {missing_reason}")
    return Table(out, resolved, caption=caption, note=" ".join(notes))


_SHORT_TEXT = 60


def _longest(column: pd.Series) -> int:
    return int(column.astype(str).str.len().max()) if len(column) else 0


def _positional(index: pd.Index) -> bool:
    if isinstance(index, pd.MultiIndex) or any(n is not None for n in index.names):
        return False
    # an unnamed integer index is a row number, also after sorting or filtering (0, 3, 7, ...)
    return isinstance(index, pd.RangeIndex) or pd.api.types.is_integer_dtype(index)


def _flat(column) -> str:
    if isinstance(column, tuple):
        return " ".join(str(part) for part in column if str(part))
    return str(column)

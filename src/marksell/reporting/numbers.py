"""Numbers as text for people: one place that decides separators, decimals, k/m/bn, %, currency and "—".

Tables (``reporting.tables``), executive summaries (``reporting.brief``), chart ticks (``marksell.plots``) and
the reports index (``reporting.index_page``) all format through these functions, so that a figure reads the same
wherever a reviewer meets it: "1,234", "€1.23 m", "14.1 %", "-€950", "—".
"""

from __future__ import annotations

import math

import pandas as pd

MISSING = "—"
_SUFFIXES = ((1e9, " bn"), (1e6, " m"), (1e3, " k"))


def is_missing(value) -> bool:
    """True for None, NaN, ``pd.NA`` and ``pd.NaT``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def is_number(value) -> bool:
    """True for a real, finite-or-infinite number that is not a bool and not missing."""
    if isinstance(value, bool) or is_missing(value):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, str)


def fixed(value: float, places: int = 0) -> str:
    """1234.5 -> "1,234.5" with ``places`` decimals; never "-0" for a value that rounds to zero."""
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    text = f"{abs(number):,.{places}f}"
    negative = number < 0 and float(text.replace(",", "")) != 0
    return ("-" if negative else "") + text


def significant(value: float, digits: int = 3) -> str:
    """A model estimate with ``digits`` significant digits: 0.0671 -> "0.0671", 1761.6 -> "1,762", 5.003 -> "5.00"."""
    number = float(value)
    if number == 0 or math.isinf(number):
        return fixed(number, 0)
    places = max(0, digits - 1 - math.floor(math.log10(abs(number))))
    return fixed(number, places)


def compact(value: float, places: int = 2) -> str:
    """1234567 -> "1.23 m" (``places`` decimals, trailing zeros dropped), 350000 -> "350 k", 950 -> "950".

    Below a thousand: whole numbers and values of 100 or more without decimals, smaller ones with two.
    """
    number = float(value)
    size = abs(number)
    for limit, suffix in _SUFFIXES:
        if size >= limit:
            return fixed(number / limit, places).rstrip("0").rstrip(".") + suffix
    return fixed(number, 0 if size >= 100 or number.is_integer() else 2)


def with_currency(text: str, currency: str = "") -> str:
    """Put ``currency`` in front of a formatted number: a symbol touches it ("€12"), a code does not ("EUR 12").

    A minus sign stays in front of the currency ("-€12").
    """
    if not currency:
        return text
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}{currency}{body}" if len(currency) == 1 else f"{sign}{currency} {body}"


def money(value: float, currency: str = "", places: int = 0) -> str:
    """A money amount in full: 407778.75 -> "€407,779"."""
    return with_currency(fixed(value, places), currency)


def amount(value: float, currency: str = "") -> str:
    """A money amount in short: 1234567 -> "€1.23 m"."""
    return with_currency(compact(value, 2), currency)


def share(value: float, places: int = 0) -> str:
    """A fraction as a percentage: 0.1234 -> "12 %"."""
    return fixed(float(value) * 100, places) + " %"


def percent(value: float, places: int = 0) -> str:
    """A value already in percent: 12.34 -> "12 %"."""
    return fixed(value, places) + " %"


def plain(value) -> str:
    """Any value as short text: floats with two decimals below 100 and none above, ints with separators."""
    if is_missing(value):
        return MISSING
    if isinstance(value, float):
        return fixed(value, 2 if abs(value) < 100 else 0)
    if isinstance(value, int) and not isinstance(value, bool):
        return fixed(value, 0)
    return str(value)

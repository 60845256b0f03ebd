"""One way to write numbers for people, shared by tables, briefs, chart ticks and the index."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell import plots
from marksell.reporting import brief, index_page, numbers, tables


def test_fixed_uses_separators_and_never_shows_minus_zero():
    assert numbers.fixed(1234567.891, 2) == "1,234,567.89"
    assert numbers.fixed(-0.004, 2) == "0.00"
    assert numbers.fixed(-1234.5, 0) == "-1,234"
    assert numbers.fixed(float("inf")) == "∞" and numbers.fixed(-np.inf) == "−∞"


def test_significant_digits_for_estimates_of_any_size():
    assert [numbers.significant(v) for v in (0.0671, 1761.612, 5.003, -0.4561, 0.0)] == ["0.0671", "1,762", "5.00", "-0.456", "0"]
    assert tables.table(pd.DataFrame({"estimate": [0.067, 1761.6]}), kinds={"estimate": "estimate"}).frame[
        "estimate"
    ].tolist() == ["0.0670", "1,762"]


def test_compact_suffixes_and_small_values():
    assert numbers.compact(1_234_567) == "1.23 m"
    assert numbers.compact(1_234_567, 1) == "1.2 m"
    assert numbers.compact(350_000) == "350 k"
    assert numbers.compact(2_000_000_000) == "2 bn"
    assert numbers.compact(950.4) == "950"
    assert numbers.compact(50.0) == "50"
    assert numbers.compact(12.5) == "12.50"
    assert numbers.compact(-1_500) == "-1.5 k"


def test_currency_goes_after_the_sign_symbol_touching_code_spaced():
    assert numbers.with_currency("-1.5 k", "€") == "-€1.5 k"
    assert numbers.money(-1234.5, "EUR") == "-EUR 1,234"
    assert numbers.amount(1_234_567, "€") == "€1.23 m"
    assert numbers.amount(950, "") == "950"


def test_shares_and_percent_and_missing():
    assert numbers.share(0.1234) == "12 %" and numbers.share(0.141, 1) == "14.1 %"
    assert numbers.percent(11.44, 1) == "11.4 %"
    assert numbers.plain(float("nan")) == numbers.MISSING and numbers.plain(pd.NA) == numbers.MISSING
    assert numbers.plain(12.345) == "12.35" and numbers.plain(4077.8) == "4,078" and numbers.plain(3000) == "3,000"
    assert not numbers.is_number(True) and not numbers.is_number("3") and numbers.is_number(np.float64(2.5))


def test_every_formatter_agrees_with_numbers(tmp_path):
    """Tables, briefs, chart ticks and the index page write the same figure the same way."""
    value = -1_234_567.0
    assert brief.amount(value, "€") == numbers.amount(value, "€") == "-€1.23 m"
    assert brief.share(0.25) == "25 %" == tables.format_value(0.25, "share", 0)
    assert plots.money_formatter("€")(value, 0) == "-€1.2 m"
    assert plots.count_formatter()(350_000, 0) == "350 k"
    assert tables.format_value(value, "money", 0, "€") == "-€1,234,567" == numbers.money(value, "€")
    assert tables.format_value(None, "count", 0) == numbers.MISSING
    (tmp_path / "summary.json").write_text('{"headline": {"CLV total": 1234.0, "MASE": 0.8765}}')
    assert index_page.headline("any", tmp_path) == {"CLV total": numbers.plain(1234.0), "MASE": "0.88"}
    assert numbers.plain(1234.0) == "1,234"

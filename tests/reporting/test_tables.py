"""The display helper formats tables for people, the same way in HTML and in text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marksell.reporting.tables import MISSING, decimals_for, format_value, infer_kind, table


def test_positional_index_dropped_and_named_index_kept():
    plain = table(pd.DataFrame({"revenue": [407778.75, 12.5]}))
    assert list(plain.frame.columns) == ["revenue"]
    named = table(pd.DataFrame({"revenue": [1.0]}, index=pd.Index(["OPP-1"], name="opportunity_id")))
    assert list(named.frame.columns) == ["opportunity_id", "revenue"]
    sorted_rows = pd.DataFrame({"group": ["a", "b", "c"], "share_revenue": [0.1, 0.6, 0.3]}).sort_values(
        "share_revenue", ascending=False
    )
    assert list(table(sorted_rows).frame.columns) == ["group", "share_revenue"]  # row numbers, not an index


def test_kinds_inferred_from_names_and_values():
    frame = pd.DataFrame(
        {
            "customers": [3000.0, 12.0],
            "share_of_spend": [0.141, 0.5],
            "growth_pct": [11.4, 2.0],
            "revenue": [407778.75, 5.0],
            "roas": [4.2, 1.0],
            "name": ["a", "b"],
            "beta": [0.5, 0.25],
        }
    )
    kinds = {c: infer_kind(c, frame[c]) for c in frame.columns}
    assert kinds == {
        "customers": "count",
        "share_of_spend": "share",
        "growth_pct": "percent",
        "revenue": "money",
        "roas": "ratio",
        "name": "text",
        "beta": "number",
    }


def test_values_formatted_for_people():
    t = table(pd.DataFrame({"customers": [3000.0], "share_of_spend": [0.141], "revenue": [407778.75]}), currency="€")
    assert t.frame.iloc[0].tolist() == ["3,000", "14.1 %", "€407,779"]
    assert format_value(-1234.5, "money", 0, "EUR") == "-EUR 1,234"
    assert format_value(float("nan"), "number", 2) == MISSING
    assert format_value(pd.NA, "count", 0) == MISSING
    assert format_value(np.inf, "ratio", 2) == "∞"


def test_one_number_of_decimals_per_column():
    assert decimals_for(pd.Series([0.0123, 0.05]), "number") == 3
    assert decimals_for(pd.Series([12.34, 56.2]), "number") == 1
    assert decimals_for(pd.Series([12.5, 7.25]), "money") == 2
    assert decimals_for(pd.Series([0.141, 0.5]), "share") == 1
    assert decimals_for(pd.Series([0.000237, 0.0069]), "share") == 2  # not "0.0 %" for a real, small share
    assert decimals_for(pd.Series([0.000041, 0.0]), "share") == 3
    corr = pd.DataFrame({"a": [1.0, 0.08], "b": [0.08, 1.0]}, index=pd.Index(["a", "b"], name="channel"))
    assert table(corr, decimals=2).frame["a"].tolist() == ["1.00", "0.08"]
    shown = table(pd.DataFrame({"beta": [0.5, 0.123456]})).frame["beta"].tolist()
    assert shown == ["0.50", "0.12"]


def test_long_tables_cut_with_a_note_naming_the_artifact():
    t = table(pd.DataFrame({"n": range(100)}), max_rows=10, artifact="ranking.csv")
    assert len(t.frame) == 10
    assert t.note == "Showing the first 10 of 100 rows; every row is in `ranking.csv`."
    assert t.note in repr(t) and "ranking.csv" in t._repr_html_()


def test_missing_values_explained():
    t = table(pd.DataFrame({"x": [1.0, None]}), missing_reason="not identified")
    assert t.frame["x"].tolist() == ["1", MISSING] and "not identified" in t.note


def test_html_escapes_data_and_scrolls_inside_the_page():
    t = table(pd.DataFrame({"name": ["<script>alert(1)</script>"]}))
    out = t._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "overflow-x:auto" in out
    numbers = table(pd.DataFrame({"name": ["a"], "revenue": [1.0]}))._repr_html_()
    assert "<td style='text-align:left;white-space:nowrap'>a</td>" in numbers
    assert "white-space:nowrap'>1.00</td>" in numbers and "<th style='text-align:left;white-space:nowrap'>name</th>" in numbers
    prose = table(pd.DataFrame({"reason": ["word " * 30]}))._repr_html_()  # long text wraps at words, readably
    assert "min-width:16em;word-break:normal" in prose
    assert t._repr_html_() == out  # deterministic, no random ids (nbval compares it)


def test_unknown_kind_or_column_is_a_clear_error():
    with pytest.raises(ValueError, match="not in the table: \\['nope'\\]"):
        table(pd.DataFrame({"a": [1]}), kinds={"nope": "money"})
    with pytest.raises(ValueError, match="unknown kind"):
        table(pd.DataFrame({"a": [1]}), kinds={"a": "euros"})


def test_multiindex_columns_flattened():
    frame = pd.DataFrame([[1.0, 2.0]], columns=pd.MultiIndex.from_tuples([("wsum", "p_first"), ("topsis", "p_first")]))
    t = table(frame)
    assert list(t.frame.columns) == ["wsum p_first", "topsis p_first"]
    assert t.kinds == {"wsum p_first": "share", "topsis p_first": "share"}  # kinds read through the flattening


def test_brief_reads_answer_first_and_escapes_data():
    from marksell.reporting.brief import Brief, amount, share

    b = Brief(
        ["Grow <b>email</b>.", " "],
        confidence="Intervals exclude zero.",
        action="Shift 10 % of display.",
        skipped=["No cost column: margin not computed."],
    )
    assert repr(b).splitlines() == [
        "In short: Grow <b>email</b>.",
        "How sure: Intervals exclude zero.",
        "What to do: Shift 10 % of display.",
        "Not covered: No cost column: margin not computed.",
    ]
    assert "&lt;b&gt;email" in b._repr_html_() and "<b>email" not in b._repr_html_()
    assert b.as_dict()["answer"] == ["Grow <b>email</b>."]
    assert amount(1_234_567, "€") == "€1.23 m" and amount(950, "EUR") == "EUR 950" and share(0.1234) == "12 %"
    with pytest.raises(ValueError, match="at least one answer"):
        Brief([""])

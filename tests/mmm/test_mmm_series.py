"""Input checks: every bad table gets one message naming the column, the problem and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marksell import mmm
from marksell.errors import DataContractError


@pytest.fixture()
def table(generate_mix):
    return generate_mix(seed=11)[0]["mmm"]


def _message(table, **kw) -> str:
    with pytest.raises(DataContractError) as err:
        mmm.prepare_series(table, source="mix.csv", **kw)
    return str(err.value)


def test_sample_table_is_accepted_with_defaults(table):
    s = mmm.prepare_series(table, controls=["price_index", "promo"])
    assert s.freq == "W" and s.holdout == 13 and s.recent == 13
    assert s.channels == ["search", "social", "email", "affiliate", "display"]
    assert s.spend.shape == (156, 5) and s.controls.shape == (156, 2)


def test_too_short_history_names_the_need_and_the_fix(table):
    msg = _message(table.iloc[:100])
    assert "mix.csv" in msg and "column 'date'" in msg
    assert "117 weeks" in msg and "found 100 weeks" in msg and "lower `holdout_weeks`" in msg


def test_negative_spend_names_the_column_and_dates(table):
    bad = table.copy()
    bad.loc[[5, 9], "spend_social"] = -10.0
    msg = _message(bad)
    assert "column 'spend_social'" in msg and "2 negative values" in msg
    assert f"{bad.loc[5, 'date']:%Y-%m-%d}" in msg and "Fix:" in msg


def test_all_zero_channel_is_refused_with_the_fix(table):
    bad = table.assign(spend_tv=0.0)
    msg = _message(bad)
    assert "column 'spend_tv'" in msg and "zero in every period" in msg and "remove the channel" in msg


def test_outcome_gaps_and_missing_weeks_are_refused(table):
    bad = table.copy()
    bad.loc[[20, 21], "sales"] = np.nan
    msg = _message(bad)
    assert "column 'sales'" in msg and "2 empty values (gaps)" in msg
    msg = _message(table.drop(index=[30, 31, 32]))
    assert "3 missing weeks" in msg and "add the missing periods" in msg


def test_missing_columns_are_listed_together(table):
    msg = _message(table, target="revenue", channels=["spend_tv"], controls=["price"])
    assert "column 'revenue'" in msg and "column 'spend_tv'" in msg and "column 'price'" in msg
    assert "set `target` to one of" in msg


def test_monthly_data_are_inferred_and_the_holdout_converted(table):
    monthly = table.assign(date=pd.date_range("2020-01-01", periods=len(table), freq="MS"))
    s = mmm.prepare_series(monthly, holdout_weeks=13)
    assert s.freq == "M" and s.holdout == 3 and s.recent == 3 and s.period == "month"


def test_constant_control_is_left_out_with_a_note(table):
    s = mmm.prepare_series(table.assign(flat=1.0), controls=["promo", "flat"])
    assert s.control_names == ["promo"] and "`flat`" in s.notes[0]


def test_default_controls_missing_from_the_data_are_skipped_with_a_note(table):
    s = mmm.prepare_series(table.drop(columns=["promo"]), controls=["price_index", "promo"], optional_controls=True)
    assert s.control_names == ["price_index"] and s.notes == ["control `promo` is not in the data and was skipped."]
    assert "column 'promo'" in _message(table.drop(columns=["promo"]), controls=["promo"])

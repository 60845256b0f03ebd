"""One form of `columns` in every notebook, and the loaders accept it."""

import pandas as pd
import pytest

from marksell.data import input_columns, load_transactions
from marksell.errors import ParameterError


def test_flat_mapping_is_for_the_main_input_or_the_one_file_given():
    inputs = {"transactions": False, "marketing_funnel": False}
    assert input_columns({"A": "revenue"}, inputs) == {"transactions": {"A": "revenue"}, "marketing_funnel": {}}
    one = {"transactions": False, "marketing_funnel": True}
    assert input_columns({"M": "month"}, one)["marketing_funnel"] == {"M": "month"}
    with pytest.raises(ParameterError, match="give one mapping per input"):
        input_columns({"M": "month"}, {"transactions": False, "marketing_funnel": True, "market_size": True})


def test_nested_mapping_per_input():
    got = input_columns({"marketing_funnel": {" M ": "month"}}, {"transactions": True, "marketing_funnel": True})
    assert got == {"transactions": {}, "marketing_funnel": {"M": "month"}}
    with pytest.raises(ParameterError, match=r"\['funnel'\] are not inputs"):
        input_columns({"funnel": {"M": "month"}}, {"transactions": True, "marketing_funnel": True})
    with pytest.raises(ParameterError, match="mixes mappings per input"):
        input_columns({"transactions": {"A": "revenue"}, "B": "order_date"}, {"transactions": True})


def test_loaders_take_the_nested_form(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"Client": ["a"], "Day": ["2024-01-02"], "Amount": [1.0]}).to_csv(path, index=False)
    df = load_transactions(path, columns={"transactions": {"Client": "customer_id", "Day": "order_date",
                                                           "Amount": "revenue"}, "market_size": {"x": "month"}})
    assert list(df.columns[:3]) == ["customer_id", "order_date", "revenue"]

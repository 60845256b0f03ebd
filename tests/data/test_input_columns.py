"""One form of `columns` in every notebook, and the loaders accept it."""

import pandas as pd
import pytest

from marksell.data import input_columns, load_marketing_funnel, load_transactions
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
    with pytest.raises(
        ParameterError,
        match=r"\['funnels'\] are not inputs of this notebook; its inputs are "
        r"transactions, funnel \(or marketing_funnel\)\.",
    ):
        input_columns({"funnels": {"M": "month"}}, {"transactions": True, "marketing_funnel": True})
    with pytest.raises(ParameterError, match="mixes mappings per input"):
        input_columns({"transactions": {"A": "revenue"}, "B": "order_date"}, {"transactions": True})


def test_loaders_take_the_nested_form(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"Client": ["a"], "Day": ["2024-01-02"], "Amount": [1.0]}).to_csv(path, index=False)
    df = load_transactions(
        path,
        columns={
            "transactions": {"Client": "customer_id", "Day": "order_date", "Amount": "revenue"},
            "market_size": {"x": "month"},
        },
    )
    assert list(df.columns[:3]) == ["customer_id", "order_date", "revenue"]


def test_an_input_is_named_by_its_parameter_or_its_contract():
    inputs = {"transactions": True, "marketing_funnel": True, "market_size": False}
    by_name = input_columns({"funnel": {"M": "month"}, "market": {"R": "region"}}, inputs)
    assert by_name == {"transactions": {}, "marketing_funnel": {"M": "month"}, "market_size": {"R": "region"}}
    assert input_columns({"marketing_funnel": {"M": "month"}}, inputs)["marketing_funnel"] == {"M": "month"}
    with pytest.raises(ParameterError, match="the funnel input is mapped twice"):
        input_columns({"funnel": {"M": "month"}, "marketing_funnel": {"X": "channel"}}, inputs)


def test_path_parameters_and_contracts_share_the_input_names():
    from marksell.data.contracts import CONTRACTS, INPUT_NAMES, contract_kind, input_name
    from marksell.reporting.inputs import PATH_KINDS

    assert set(INPUT_NAMES.values()) <= set(CONTRACTS)
    assert all(PATH_KINDS[f"{name}_path"] == kind for name, kind in INPUT_NAMES.items())
    assert contract_kind("funnel") == "marketing_funnel" and contract_kind("price_panel") == "price_panel"
    assert input_name("sales_history") == "sales" and input_name("experiment_summary") == "experiment_summary"


def test_loaders_find_their_mapping_under_the_input_name(tmp_path):
    path = tmp_path / "f.csv"
    pd.DataFrame({"Month": ["2024-01-01"], "channel": ["search"], "spend": [1.0], "leads": [2], "conversions": [1]}).to_csv(
        path, index=False
    )
    df = load_marketing_funnel(path, columns={"transactions": {"A": "revenue"}, "funnel": {"Month": "month"}})
    assert "month" in df.columns and "Month" not in df.columns

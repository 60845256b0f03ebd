"""Input data: the contracts every input file must meet, and one loader per input kind.

``contracts`` declares each kind's columns; ``read`` reads CSV, Parquet and Excel files; ``columns``
maps the user's column names; ``validate`` coerces and checks them (``arrow``: the same checks on the Arrow
arrays of a clean Parquet file); ``loaders`` puts the steps together.
"""

from marksell.data.columns import input_columns
from marksell.data.contracts import CONTRACTS, Column, Contract, contract_table_markdown, contracts_markdown
from marksell.data.loaders import (
    load,
    load_customers,
    load_experiment,
    load_lift_tests,
    load_market_size,
    load_marketing_funnel,
    load_mmm,
    load_opportunities,
    load_price_panel,
    load_sales_history,
    load_sales_plan,
    load_transactions,
)
from marksell.data.read import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    display_path,
    file_sha256,
    read_header,
    read_table,
)
from marksell.errors import DataContractError, DataQualityWarning
from marksell.paths import sample_path

__all__ = [
    "CONTRACTS",
    "CSV_SUFFIXES",
    "EXCEL_SUFFIXES",
    "PARQUET_SUFFIXES",
    "Column",
    "Contract",
    "DataContractError",
    "DataQualityWarning",
    "contract_table_markdown",
    "contracts_markdown",
    "display_path",
    "file_sha256",
    "input_columns",
    "load",
    "load_customers",
    "load_experiment",
    "load_lift_tests",
    "load_market_size",
    "load_marketing_funnel",
    "load_mmm",
    "load_opportunities",
    "load_price_panel",
    "load_sales_history",
    "load_sales_plan",
    "load_transactions",
    "read_header",
    "read_table",
    "sample_path",
]

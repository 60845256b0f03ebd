"""Bad paths and column mappings stop a run before any kernel starts: exit 2, one message naming the
parameter, the file or column and the fix, and nothing filed (no report folder, no index entry)."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import marksell_command


def _run(tmp_path, notebook: str, *params: str) -> subprocess.CompletedProcess:
    args = [*marksell_command(), "run", notebook, "--reports-dir", str(tmp_path / "reports")]
    for i in range(0, len(params), 2):
        args += ["-p", params[i], params[i + 1]]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def _prepare_error(notebook: str, **params) -> str:
    """The message with which the runner refuses these parameters (no kernel, no process)."""
    from marksell.errors import ParameterError
    from marksell.reporting.runner import RunSpec, prepare

    with pytest.raises(ParameterError) as err:
        prepare(RunSpec(notebook=notebook, parameters=params))
    return str(err.value)


def _refused(proc, tmp_path, *words) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "reports").exists()  # no report folder, no index


@pytest.fixture
def orders(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("Client,Day,Amount,price\nK1,2024-01-02,10.5,3\n")
    return path


def test_missing_file(tmp_path):
    proc = _run(tmp_path, "customer_segmentation", "transactions_path", "exports/none.csv")
    _refused(proc, tmp_path, "transactions_path", "exports/none.csv", "does not exist")


def test_folder_instead_of_a_file(tmp_path):
    msg = _prepare_error("sales_forecasting", sales_path=str(tmp_path), exog_cols=[])
    assert msg.startswith("sales_path:") and "is a folder" in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path, orders):
    orders.chmod(0)
    assert "cannot be read" in _prepare_error("kpi_scorecard", transactions_path=str(orders))


def test_mapping_onto_a_name_that_is_not_a_contract_column(tmp_path, orders):
    proc = _run(
        tmp_path,
        "customer_segmentation",
        "transactions_path",
        str(orders),
        "columns",
        "{Client: customer, Day: order_date, Amount: revenue}",
    )
    _refused(proc, tmp_path, "`customer` is not a column of transactions; did you mean `customer_id`?")


def test_mapping_that_collides_with_a_column_of_the_file(tmp_path):
    panel = tmp_path / "panel.csv"
    panel.write_text("date,product_id,price,real_price,units\n2024-01-01,A,2.0,1.8,10\n")
    msg = _prepare_error("pricing_elasticity", panel_path=str(panel), columns={"real_price": "price"})
    assert "`real_price` is mapped onto `price`" in msg and "already has a column `price`" in msg


def test_two_columns_mapped_onto_one(tmp_path, orders):
    msg = _prepare_error("kpi_scorecard", transactions_path=str(orders), columns={"Client": "customer_id", "Day": "customer_id"})
    assert "`Client` and `Day` are both mapped onto `customer_id`" in msg


def test_mapping_per_input_names_inputs_of_the_notebook(tmp_path, orders):
    msg = _prepare_error("data_audit", transactions_path=str(orders), columns={"orders": {"Client": "customer_id"}})
    assert "['orders'] are not inputs of this notebook" in msg


def test_flat_mapping_with_several_files_must_say_which(tmp_path, orders):
    msg = _prepare_error("data_audit", sales_path=str(orders), funnel_path=str(orders), columns={"Day": "date"})
    assert "give one mapping per input" in msg


def test_names_of_other_parameters_are_valid_targets(tmp_path):
    """A sales history keeps other columns: mapping onto a key or driver named in the run is fine."""
    from marksell.reporting.inputs import check_inputs

    hist = tmp_path / "h.csv"
    hist.write_text("Month,Country,Revenue,Promo flag\n2024-01-01,X,1,0\n")
    check_inputs(
        {
            "sales_path": str(hist),
            "future_path": "",
            "keys": ["country"],
            "exog_cols": ["promo"],
            "columns": {"Month": "date", "Revenue": "sales", "Country": "country", "Promo flag": "promo"},
        }
    )


def test_calibration_mapping_is_checked_under_the_input_name(tmp_path):
    """06's lift-test file takes a mapping under its input name; a typo stops the run before a kernel."""
    lifts = tmp_path / "lifts.csv"
    lifts.write_text("medium,from,to,lift,lift_se\nsearch,2024-01-01,2024-02-01,100,20\n")
    msg = _prepare_error(
        "marketing_mix",
        calibration_path=str(lifts),
        columns={"calibration": {"medium": "channel", "from": "start", "to": "ends"}},
    )
    assert "`ends` is not a column of lift_tests; did you mean `end`?" in msg

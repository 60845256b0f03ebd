"""Forecasting parameters the user gave that do not fit their file stop the run before any kernel starts:
exit 2, one message naming the parameter, the column or series, the file and the fix, nothing filed."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import marksell_command

from marksell.errors import ParameterError


@pytest.fixture
def revenue(tmp_path):
    """Two monthly series keyed by Market x Line, with the user's own names and one driver (`Ads`)."""
    months = pd.period_range("2021-01", "2024-12", freq="M").to_timestamp().strftime("%Y-%m-%d")
    frames = [
        pd.DataFrame({"Period": months, "Market": m, "Line": line, "Net revenue": np.arange(48) + 100.0, "Ads": 1.0})
        for m, line in [("Alpha", "basic"), ("Beta", "premium")]
    ]
    path = tmp_path / "revenue.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def _given(revenue, **extra) -> dict:
    return {
        "sales_path": str(revenue),
        "columns": {"Period": "date", "Net revenue": "sales"},
        "keys": ["Market", "Line"],
        **extra,
    }


def _refusal(**given) -> str:
    """The message with which the runner refuses these parameters (no kernel, no process)."""
    from marksell.reporting.runner import RunSpec, prepare

    with pytest.raises(ParameterError) as err:
        prepare(RunSpec(notebook="sales_forecasting", parameters=given))
    return str(err.value)


def _cli(tmp_path, params: dict) -> subprocess.CompletedProcess:
    import yaml

    file = tmp_path / "params.yaml"
    file.write_text(yaml.safe_dump(params))
    return subprocess.run(
        [*marksell_command(), "run", "sales_forecasting", "-f", str(file), "--reports-dir", str(tmp_path / "reports")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def _refused(proc, tmp_path) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "reports").exists()  # nothing filed, no index
    return proc.stderr


def test_a_key_that_is_not_a_column_is_refused_by_the_command(tmp_path, revenue):
    err = _refused(_cli(tmp_path, _given(revenue, keys=["Market", "Store"])), tmp_path)
    assert "keys: `Store` is not a column of" in err and "revenue.csv" in err
    assert "date, Market, Line, sales, Ads" in err  # the file's columns after the mapping: the fix


def test_a_series_to_chart_that_does_not_exist_is_refused_by_the_command(tmp_path, revenue):
    err = _refused(_cli(tmp_path, _given(revenue, show_series=["Alpha / basic", "Gamma"])), tmp_path)
    assert "show_series: Gamma is not a series of" in err
    assert "Alpha, Alpha / basic, Beta, Beta / premium, total" in err  # the names it could have used


def test_a_driver_without_a_plan_is_refused_by_the_command(tmp_path, revenue):
    err = _refused(_cli(tmp_path, _given(revenue, exog_cols=["Ads"])), tmp_path)
    assert "exog_cols: ['Ads'] need the drivers' future values: set `future_path`" in err


def test_value_and_date_columns(revenue):
    msg = _refusal(**_given(revenue, value_col="Revenue", columns={"Period": "date"}))
    assert msg.startswith("value_col: `Revenue` is not a column of ") and "Net revenue" in msg
    msg = _refusal(**_given(revenue, columns={"Net revenue": "sales"}))
    assert "has no date column `date` after `columns`" in msg and '{"Month": "date"}' in msg
    msg = _refusal(**_given(revenue, columns={"Period": "date"}))
    assert "has no value (sales) column `sales`" in msg and "`value_col`" in msg


def test_drivers_levels_and_keys(tmp_path, revenue):
    assert _refusal(**_given(revenue, exog_cols=["Price"], future_path=str(revenue))).startswith(
        "exog_cols: `Price` is not a column of "
    )
    plan = tmp_path / "plan.csv"
    plan.write_text("Period,Market,Line,Promo\n2025-01-01,Alpha,basic,1\n")
    msg = _refusal(**_given(revenue, exog_cols=["Ads"], future_path=str(plan)))
    assert msg.startswith("exog_cols: `Ads` is not a column of the plan ") and "Promo" in msg
    msg = _refusal(**_given(revenue, levels=["total", "Market x Brand"]))
    assert msg.startswith("levels: Hierarchy level 'Market x Brand' uses ['Brand']")
    assert "key columns [" in _refusal(**_given(revenue, keys=[], levels=["Market"]))  # one series: no levels
    assert "include the date or value column" in _refusal(**_given(revenue, keys=["date"]))


def test_sample_defaults_and_fitting_values_pass(revenue):
    from marksell.forecasting import check_run_parameters

    check_run_parameters(_given(revenue, show_series=["Alpha", "total", "Beta / premium"], levels=["Market"]))
    check_run_parameters(_given(revenue, value_col="Net revenue", columns={"Period": "date"}, keys=[]))
    check_run_parameters({"sales_path": str(revenue), "columns": {"Period": "date", "Net revenue": "sales"}})
    check_run_parameters({"keys": ["region", "category"], "show_series": ["North", "North / home"]})  # sample
    assert "`store` is not a column of data/sample/sales_history.csv" in _refusal(keys=["store"])

"""Bad input gives one clear message naming the column, the problem and the fix."""

from __future__ import annotations

import pandas as pd
import pytest

from marksell.errors import DataContractError
from marksell.experiments import run_experiment


@pytest.fixture
def units(simulated_units):
    return simulated_units(1, n=400)


def _message(units, **kwargs) -> str:
    with pytest.raises(DataContractError) as err:
        run_experiment(units, source="tests.csv", **{"control": "control", "metrics": ["converted", "y"], **kwargs})
    return str(err.value)


def test_one_variant_only(units):
    msg = _message(units[units["variant"] == "control"])
    assert "tests.csv" in msg and "'variant'" in msg and "at least two variants" in msg and "Fix:" in msg


def test_control_name_absent(units):
    msg = _message(units, control="baseline")
    assert "'baseline'" in msg and "set the `control` parameter to one of ['control', 'treatment']" in msg


def test_metric_without_variance(units):
    msg = _message(units.assign(y=3.0))
    assert "column 'y'" in msg and "the same value 3 for every unit" in msg and "remove it from `metrics`" in msg


def test_unit_in_two_variants(units):
    twice = pd.concat(
        [units, units.iloc[:2].assign(variant=lambda f: f["variant"].map({"control": "treatment", "treatment": "control"}))],
        ignore_index=True,
    )
    msg = _message(twice)
    assert "column 'unit_id'" in msg and "2 units in more than one variant" in msg and "drop_crossovers" in msg
    run = run_experiment(twice, "control", metrics=["y"], drop_crossovers=True)
    row = run.health.set_index("check").loc["units_in_several_variants"]
    assert row["value"] == 2 and row["status"] == "warning"
    assert run.results["n"].sum() + run.results["control_n"].iloc[0] == len(units) - 2


def test_non_binary_values_in_a_binary_metric(units):
    msg = _message(units.assign(converted=units["converted"] * 2), metrics={"converted": "binary"})
    assert "column 'converted'" in msg and "0 or 1" in msg and "declare it a 'mean' metric" in msg


def test_missing_metric_column_lists_the_columns(units):
    msg = _message(units, metrics=["clicks"])
    assert "column 'clicks'" in msg and "columns present" in msg and "`columns` parameter" in msg


def test_every_problem_at_once(units):
    msg = _message(units.assign(y=1.0), control="baseline")
    assert "2 problem(s)" in msg

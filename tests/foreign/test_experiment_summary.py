"""An A/B test given as a summary table with the user's own column names (no unit rows): the mapping is
given like any other input's (flat, or under ``experiment_summary``), checked before any kernel starts,
and the run's lifts are exactly those of the sums in the file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_ok_run, run_notebook, sample_words_in

from marksell.data import load_experiment
from marksell.errors import ParameterError

MAPPING = {"Arm": "variant", "KPI": "metric", "Users": "n", "Total": "sum", "Total sq": "sum_sq"}


@pytest.fixture
def aggregates(tmp_path):
    """Three arms, a 0/1 metric (sum of squares = sum) and a spend metric; variants and metrics of the user."""
    rows = [
        ("Baseline", "Signed up", 4000, 320.0, 320.0),
        ("Bold CTA", "Signed up", 4050, 405.0, 405.0),
        ("Quiet CTA", "Signed up", 3980, 330.0, 330.0),
        ("Baseline", "Basket CHF", 4000, 86000.0, 4.1e6),
        ("Bold CTA", "Basket CHF", 4050, 88500.0, 4.3e6),
        ("Quiet CTA", "Basket CHF", 3980, 84900.0, 4.0e6),
    ]
    path = tmp_path / "ab_totals.csv"
    pd.DataFrame(rows, columns=list(MAPPING)).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("columns", [MAPPING, {"experiment_summary": MAPPING}, {"experiment": MAPPING}])
def test_the_loader_takes_the_mapping_in_every_form(aggregates, columns):
    got = load_experiment(aggregates, columns=columns)
    assert list(got.columns) == ["variant", "metric", "n", "sum", "sum_sq"]
    assert got.attrs["provenance"]["kind"] == "experiment_summary" and got["n"].sum() == 24060


def _refusal(**given) -> str:
    from marksell.reporting.runner import RunSpec, prepare

    with pytest.raises(ParameterError) as err:
        prepare(RunSpec(notebook="campaign_experiments", parameters=given))
    return str(err.value)


def test_a_summary_mapping_is_checked_against_the_summary_contract_before_the_kernel(aggregates):
    wrong = {**MAPPING, "Users": "count"}
    for columns in (wrong, {"experiment_summary": wrong}):
        msg = _refusal(experiment_path=str(aggregates), columns=columns)
        assert msg == "columns: `count` is not a column of experiment_summary; its columns are variant, metric, n, sum, sum_sq."
    msg = _refusal(experiment_path=str(aggregates), columns={"experiment_summary": {**MAPPING, "Arm": "sum"}})
    assert msg == "columns: `Arm` and `Total` are both mapped onto `sum` of experiment_summary; map only one of them."
    msg = _refusal(experiment_path=str(aggregates), columns={"summary": MAPPING})
    assert "['summary'] are not inputs of this notebook; its inputs are experiment, experiment_summary." in msg


def test_a_unit_row_file_still_hears_about_unit_ids(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("Visitor,Arm,Bought\nv1,a,1\nv2,b,0\n")
    with pytest.raises(Exception) as err:
        load_experiment(path, columns={"Arm": "variant"})
    assert "'unit_id': expected a required column" in str(err.value) and "experiment file" in str(err.value)


@pytest.mark.slow
def test_a_run_on_the_users_summary_table(tmp_path, aggregates, sample_words):
    proc, out = run_notebook(
        "campaign_experiments",
        {
            "experiment_path": str(aggregates),
            "columns": {"experiment_summary": MAPPING},
            "control": "Baseline",
            "metrics": {"Signed up": "binary", "Basket CHF": "mean"},
            "primary_metric": "Signed up",
            "guardrails": {"Basket CHF": 0.05},
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)
    results = pd.read_csv(out / "results.csv").set_index(["variant", "metric"])
    assert set(results.index) == {(v, m) for v in ("Bold CTA", "Quiet CTA") for m in ("Signed up", "Basket CHF")}
    assert results.loc[("Bold CTA", "Signed up"), "abs_lift"] == pytest.approx(405 / 4050 - 320 / 4000, rel=1e-5)
    assert results.loc[("Quiet CTA", "Basket CHF"), "abs_lift"] == pytest.approx(84900 / 3980 - 86000 / 4000, rel=1e-5)
    # a binary metric's standard error from the counts alone: sqrt(p(1-p)/n) per arm
    p1, p0 = 405 / 4050, 320 / 4000
    se = np.sqrt(p1 * (1 - p1) / 4050 + p0 * (1 - p0) / 4000)
    assert results.loc[("Bold CTA", "Signed up"), "se"] == pytest.approx(se, rel=1e-3)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["decisions"]) == {"Bold CTA", "Quiet CTA"}
    assert sample_words_in((out / "report.html").read_text(encoding="utf-8"), sample_words) == []

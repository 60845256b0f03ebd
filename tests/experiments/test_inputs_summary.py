"""Parameters fitted to the data (what is skipped is said), aggregate input, artifacts and sentences."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from marksell.errors import DataContractError
from marksell.experiments import HEALTH_COLUMNS, POWER_COLUMNS, RESULT_COLUMNS, run_experiment
from marksell.experiments import summary as exsum
from marksell.experiments.inputs import select_inputs


def test_defaults_naming_absent_columns_are_skipped_with_a_note(simulated_units):
    units = simulated_units(2, n=2000)
    got = select_inputs(
        units,
        "",
        {"converted": "binary", "y": "mean", "revenue/clicks": "ratio"},
        "clicks",
        {"margin": 0.1, "y": 0.05},
        {"y": "pre", "converted": "pre_conv"},
        ["segment", "region"],
    )
    assert list(got.metrics) == ["converted", "y"]
    assert got.primary_metric == "converted" and got.guardrails == {"y": 0.05} and got.covariates == {"y": "pre"}
    assert got.segments == ["segment"]
    text = " ".join(got.notes)
    for word in ("revenue/clicks", "'clicks'", "margin", "converted <- pre_conv", "region"):
        assert word in text


def test_experiment_column_selects_one_and_says_so(simulated_units):
    a, b = simulated_units(3, n=500), simulated_units(4, n=300)
    both = pd.concat([a.assign(experiment="first"), b.assign(experiment="second")], ignore_index=True)
    got = select_inputs(both, "", ["y"])
    assert len(got.units) == 500 and got.experiment == "first" and "2 experiments" in got.notes[0]
    assert len(select_inputs(both, "second", ["y"]).units) == 300
    with pytest.raises(DataContractError, match="set `experiment` to one of"):
        select_inputs(both, "third", ["y"])


def test_no_requested_metric_is_an_error_naming_the_fix(simulated_units):
    with pytest.raises(DataContractError, match="name your metric columns in `metrics`"):
        select_inputs(simulated_units(5, n=100), "", {"clicks": "binary"})


def test_aggregate_input_runs_without_unit_level_parts(simulated_units):
    units = simulated_units(6, n=3000)
    agg = pd.concat(
        [
            units.groupby("variant")[m].agg(n="size", sum="sum", sum_sq=lambda s: (s**2).sum()).reset_index().assign(metric=m)
            for m in ("converted", "y")
        ],
        ignore_index=True,
    )
    run = run_experiment(agg, "control", primary_metric="converted")
    assert set(run.results["metric"]) == {"converted", "y"}
    assert run.results.set_index("metric").loc["converted", "kind"] == "binary"
    assert run.looks is None and run.segment_effects is None
    assert any("Summary table input" in n for n in run.notes)


@pytest.fixture(scope="module")
def run(simulated_units):
    units = simulated_units(7, n=6000, lift=0.4, variants=("control", "b", "c"))
    units["timestamp"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(len(units)) % 10, unit="D")
    return run_experiment(
        units,
        "control",
        metrics={"converted": "binary", "y": "mean", "revenue/orders": "ratio"},
        primary_metric="y",
        guardrails={"converted": 0.5},
        covariates={"y": "pre"},
        segment_cols=["segment"],
        seed=3,
    )


def test_artifacts_have_the_issue_columns(run):
    results = exsum.results_table(run)
    assert list(results.columns[: len(RESULT_COLUMNS)]) == RESULT_COLUMNS
    assert len(results) == 6 and results["p_adjusted"].notna().all()
    assert results["prob_beat_control"].between(0, 1).all()
    assert list(exsum.health_table(run).columns) == HEALTH_COLUMNS
    assert list(exsum.power_table(run).columns) == POWER_COLUMNS
    summary = exsum.summary(run)
    json.dumps(summary, default=float)
    assert set(summary["decisions"]) == {"b", "c"} and 0 <= summary["srm_p_value"] <= 1
    assert summary["units"]["control"] + summary["units"]["b"] + summary["units"]["c"] == 6000


def test_findings_are_built_from_the_numbers(run):
    text = "\n".join(exsum.findings(run))
    r = run.results[(run.results["metric"] == "y") & (run.results["variant"] == "b")].iloc[0]
    assert f"{r['rel_lift']:+.1%}" in text
    assert "CUPED on y" in text and "Cochran's Q" in text and "Looking daily at y" in text
    assert "nan" not in text.lower()
    for d in run.decisions.itertuples():
        assert f"{d.variant}: {d.decision.upper()}" in text


def test_brief_gives_the_decision_how_sure_and_what_to_do(run):
    from marksell.experiments import brief

    b = brief(json.loads(json.dumps(exsum.summary(run), default=float)))  # as the runner reads summary.json
    for d in run.decisions.itertuples():
        assert any(s.startswith(f"{d.variant} vs control: {d.decision};") for s in b.answer)
    assert "adjusted p =" in b.confidence and "always-valid interval" in b.confidence
    assert b.action


def test_brief_of_an_invalid_test_says_not_to_act(simulated_units):
    units = simulated_units(21, n=4000)
    units = units[~((units["variant"] == "treatment") & (units.index % 4 == 0))]  # a quarter of one arm lost
    from marksell.experiments import brief

    b = brief(exsum.summary(run_experiment(units, "control", metrics=["y"])))
    assert b.answer[0].startswith("The test is not sound") and b.action.startswith("Do not act")


def test_out_of_range_parameters_fail_before_any_kernel_starts():
    from marksell.errors import ParameterError
    from marksell.reporting import runner

    spec = runner.RunSpec("campaign_experiments", {"alpha": 1.5, "guardrails": {"revenue": 5}, "power": 0.8})
    with pytest.raises(ParameterError) as err:
        runner.prepare(spec)
    msg = str(err.value)
    assert "`alpha` = 1.5" in msg and "between 0 and 0.5" in msg and "`guardrails`" in msg and "`power`" not in msg
    runner.prepare(runner.RunSpec("campaign_experiments", {"alpha": 0.1}))  # sound values pass


def test_display_kinds_cover_the_headline_columns_whose_names_mislead():
    import pandas as pd

    from marksell.experiments.summary import display_kinds
    from marksell.reporting.tables import table

    frame = pd.DataFrame(
        {
            "metric": ["revenue"],
            "control": [17.9997],
            "lift_%": [39.5],
            "rel_lift": [0.3952],
            "p_adjusted": ["0.012"],
            "days_needed": [14906],
        }
    )
    shown = table(frame, kinds=display_kinds(frame))
    assert shown.frame.iloc[0].tolist() == ["revenue", "18.0", "39.5 %", "39.5 %", "0.012", "14,906"]
    assert "text-align:right;white-space:nowrap'>0.012<" in shown._repr_html_()

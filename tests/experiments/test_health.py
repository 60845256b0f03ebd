"""Health checks on the sample experiments: the planted sample ratio mismatch is flagged, the others not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from marksell.experiments import SRM_ALPHA, run_experiment, sample_ratio
from marksell.experiments.health import exposure_balance
from marksell.experiments.summary import summary


@pytest.mark.parametrize("name", ["free_shipping", "subject_line", "landing_page", "loyalty_reminder"])
def test_srm_flagged_only_where_planted(sample_experiments, one_experiment, name):
    table, truth = sample_experiments
    units = one_experiment(table, name)
    run = run_experiment(
        units, truth[name]["control"], metrics=["converted", "revenue"], expected_split=truth[name]["planned_split"], seed=1
    )
    srm = run.health.set_index("check").loc["sample_ratio_mismatch"]
    assert (srm["status"] == "failed") is truth[name]["srm"]
    decisions = set(run.decisions["decision"])
    assert (decisions == {"test invalid"}) is truth[name]["srm"]
    # a mismatch makes every lift untrustworthy: summary.json's warnings mark the run `warning`
    warned = summary(run)["warnings"]
    assert (len(warned) == 1 and warned[0].startswith("SAMPLE RATIO MISMATCH: the variants hold ")) is truth[name]["srm"]


def test_srm_equals_scipy_chisquare_with_unequal_split():
    got = sample_ratio({"control": 9000, "b": 1200}, {"control": 0.9, "b": 0.1})
    ref = sps.chisquare([9000, 1200], [0.9 * 10200, 0.1 * 10200])
    assert got["p_value"] == pytest.approx(ref.pvalue)
    assert got["flagged"] == bool(ref.pvalue < SRM_ALPHA)


def test_exposure_drift_is_flagged():
    rng = np.random.default_rng(0)
    days = np.repeat(pd.date_range("2025-01-01", periods=10), 1000)
    share = np.where(days < pd.Timestamp("2025-01-06"), 0.5, 0.4)  # treatment throttled after day 5
    variant = np.where(rng.random(len(days)) < share, "t", "c")
    assert exposure_balance(pd.Series(days), pd.Series(variant))["flagged"]
    balanced = np.where(rng.random(len(days)) < 0.5, "t", "c")
    assert not exposure_balance(pd.Series(days), pd.Series(balanced))["flagged"]


def test_cuped_on_the_sample_removes_about_half_the_variance(sample_experiments, one_experiment):
    table, truth = sample_experiments
    info = truth["loyalty_reminder"]
    units = one_experiment(table, "loyalty_reminder")
    run = run_experiment(units, "control", metrics=["revenue"], covariates={"revenue": info["covariate"]}, seed=1)
    r = run.results.iloc[0]
    assert r["variance_reduction"] == pytest.approx(info["expected_variance_reduction"], abs=0.08)
    planted = info["effects"]["revenue"]["treatment"]["abs_lift"]
    assert r["ci_low"] < planted < r["ci_high"]
    assert r["ci_high"] - r["ci_low"] < 0.8 * (r["raw_ci_high"] - r["raw_ci_low"])

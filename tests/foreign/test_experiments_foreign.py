"""The campaign experiments notebook on a stranger's file: other column and variant names, no timestamps,
no covariate, no segments; the artifacts have the issue's columns and the report no sample words."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_ok_run, run_notebook, sample_words_in

from marksell.experiments import HEALTH_COLUMNS, POWER_COLUMNS, RESULT_COLUMNS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def foreign_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("experiments_foreign")
    rng = np.random.default_rng(11)
    n = 6000
    arm = rng.choice(["Old page", "New page", "Short form"], n)
    frame = pd.DataFrame(
        {
            "Visitor": [f"v-{i:06d}" for i in range(n)],
            "Arm": arm,
            "Purchased": (rng.random(n) < np.where(arm == "New page", 0.09, 0.06)).astype(int),
            "Spend EUR": np.round(rng.gamma(1.2, 30.0, n) * (rng.random(n) < 0.3), 2),
        }
    )
    path = tmp / "ab_test.csv"
    frame.to_csv(path, index=False)
    params = {
        "experiment_path": str(path),
        "columns": {"Visitor": "unit_id", "Arm": "variant"},
        "control": "Old page",
        "metrics": {"Purchased": "binary", "Spend EUR": "mean"},
        "primary_metric": "Purchased",
        "guardrails": {"Spend EUR": 0.1},
    }
    proc, out = run_notebook("campaign_experiments", params, tmp / "report")
    return proc, out, frame


def test_runs_and_writes_the_issue_columns(foreign_run):
    proc, out, frame = foreign_run
    assert_ok_run(proc, out)
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns[: len(RESULT_COLUMNS)]) == RESULT_COLUMNS
    assert set(results["variant"]) == {"New page", "Short form"}
    assert set(results["metric"]) == {"Purchased", "Spend EUR"}
    new = results[(results["variant"] == "New page") & (results["metric"] == "Purchased")].iloc[0]
    want = frame.loc[frame["Arm"] == "New page", "Purchased"].mean() - frame.loc[frame["Arm"] == "Old page", "Purchased"].mean()
    assert new["abs_lift"] == pytest.approx(want, rel=1e-5)  # artifacts keep 6 significant digits
    health = pd.read_csv(out / "health.csv")
    assert list(health.columns) == HEALTH_COLUMNS
    assert health.set_index("check").loc["exposure_balance_over_time", "status"] == "skipped"
    assert list(pd.read_csv(out / "power.csv").columns) == POWER_COLUMNS
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["decisions"]) == {"New page", "Short form"} and 0 <= summary["srm_p_value"] <= 1


def test_report_says_what_was_skipped_and_holds_no_sample_words(foreign_run, sample_words):
    proc, out, _ = foreign_run
    assert_ok_run(proc, out)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert sample_words_in(html, sample_words) == []
    for skipped in ("CUPED covariates not in the data", "Segment columns not in the data", "no exposure timestamps"):
        assert skipped in html

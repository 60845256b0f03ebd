"""Opportunity prioritisation on a stranger's options: any criteria set, a handful of options.

Two runs through the ``marksell`` command: five options on two criteria of the user's own (no groups, no
market size: the portfolio and expected-value views are left out with a note), and the published TOPSIS
example of Tzeng & Huang (2011) with its three criteria through ``criteria_path``, which the report must
reproduce to three decimals.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import assert_ok_run, run_notebook, sample_words_in

pytestmark = pytest.mark.slow

#: ranking.csv columns as documented (summary.ranking_table); expected_value only when it can be computed.
RANKING_COLUMNS = [
    "opportunity_id",
    "name",
    "score_wsum",
    "rank_wsum",
    "score_topsis",
    "rank_topsis",
    "dominated",
    "dominated_by",
    "p_first",
    "p_top_k",
    "rank_min",
    "rank_max",
    "attractiveness",
    "ability_to_win",
    "zone",
]
WEIGHTS_COLUMNS = ["criterion", "direction", "group", "weight", "source", "entropy_weight"]


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_two_criteria_and_five_options(tmp_path, sample_words):
    options = pd.DataFrame(
        {
            "code": ["ch-1", "ch-2", "ch-3", "ch-4", "ch-5"],
            "title": ["Kiosk network", "Webinar series", "Trade fair", "Reseller pilot", "Field team"],
            "reach_k": [10.0, 20.0, 15.0, 8.0, 30.0],
            "cost_keur": [5.0, 9.0, 4.0, 3.0, 12.0],
        }
    )
    options.to_csv(tmp_path / "channels.csv", index=False)
    proc, out = run_notebook(
        "opportunity_prioritisation",
        {
            "opportunities_path": str(tmp_path / "channels.csv"),
            "columns": {"code": "opportunity_id", "title": "name"},
            "criteria": {"reach_k": {"weight": 3, "direction": "benefit"}, "cost_keur": {"weight": 2, "direction": "cost"}},
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)

    ranking = pd.read_csv(out / "ranking.csv").set_index("opportunity_id")
    assert ranking.reset_index().columns.tolist() == RANKING_COLUMNS
    # weighted sum of min-max scores, computed here independently: 0.6 reach + 0.4 (cheapness)
    reach, cost = options["reach_k"], options["cost_keur"]
    wsum = 0.6 * (reach - reach.min()) / np.ptp(reach) + 0.4 * (cost.max() - cost) / np.ptp(cost)
    np.testing.assert_allclose(ranking.loc[options["code"], "score_wsum"], wsum, atol=1e-6)  # CSV keeps 6 decimals
    assert ranking["rank_wsum"].idxmin() == options["code"][wsum.idxmax()]
    weights = pd.read_csv(out / "weights.csv")
    assert weights.columns.tolist() == WEIGHTS_COLUMNS
    assert weights.set_index("criterion")["weight"].round(6).to_dict() == {"reach_k": 0.6, "cost_keur": 0.4}

    html = (out / "report.html").read_text()
    assert sample_words_in(html, sample_words) == []
    text = _plain(html)
    assert "GE-McKinsey matrix left out" in text and "expected-value view left out" in text
    assert "Kiosk network" in text or "Field team" in text  # the recommendation names the user's options


def test_published_topsis_example_through_criteria_path(tmp_path, sample_words):
    """Tzeng & Huang (2011), TOPSIS example: closeness 0.5037, 0.6581, 0.7482, 0.3340 (vector
    normalisation, weights 0.3/0.4/0.3, three benefit criteria). Groups put the first criterion on the
    attractiveness axis, so the GE-McKinsey matrix is drawn while the expected value is left out."""
    pd.DataFrame(
        {
            "alt": ["A1", "A2", "A3", "A4"],
            "label": ["Plan A1", "Plan A2", "Plan A3", "Plan A4"],
            "quality": [5, 7, 8, 7],
            "service": [8, 6, 8, 4],
            "delivery": [4, 8, 6, 6],
        }
    ).to_csv(tmp_path / "alternatives.csv", index=False)
    pd.DataFrame(
        {
            "criterion": ["quality", "service", "delivery"],
            "weight": [0.3, 0.4, 0.3],
            "direction": ["benefit"] * 3,
            "group": ["attractiveness", "ability", "ability"],
        }
    ).to_csv(tmp_path / "criteria.csv", index=False)
    proc, out = run_notebook(
        "opportunity_prioritisation",
        {
            "opportunities_path": str(tmp_path / "alternatives.csv"),
            "columns": {"alt": "opportunity_id", "label": "name"},
            "criteria_path": str(tmp_path / "criteria.csv"),
            "top_k": 2,
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)

    ranking = pd.read_csv(out / "ranking.csv").set_index("opportunity_id")
    assert ranking.reset_index().columns.tolist() == RANKING_COLUMNS
    assert ranking.loc[["A1", "A2", "A3", "A4"], "score_topsis"].round(3).tolist() == [0.504, 0.658, 0.748, 0.334]
    assert ranking.loc[["A1", "A2", "A3", "A4"], "rank_topsis"].tolist() == [3, 2, 1, 4]
    assert ranking["zone"].isin(["invest", "selective", "harvest"]).all()

    html = (out / "report.html").read_text()
    assert sample_words_in(html, sample_words) == []
    text = _plain(html)
    assert "expected-value view left out" in text and "GE-McKinsey matrix left out" not in text

"""Exactly two opportunities (issue 19 reported an IndexError there): the analysis, its texts and charts work
for both methods and any shortlist size, and the notebook runs through the command on a two-row file with a
two-row criteria file."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

from marksell.prioritisation import plots as pplots
from marksell.prioritisation import sensitivity as ps
from marksell.prioritisation import summary as rp

matplotlib.use("Agg")

TWO = pd.DataFrame({"opportunity_id": ["A", "B"], "name": ["Alpha", "Beta"], "reach": [10.0, 7.0], "cost": [1.5, 1.0]})
CRITERIA = {"reach": {"weight": 0.7, "direction": "benefit"}, "cost": {"weight": 0.3, "direction": "cost"}}


@pytest.mark.parametrize("methods", [["wsum", "topsis"], ["topsis"]])
@pytest.mark.parametrize("top_k", [1, 2, 3])
def test_two_options_through_every_step(methods, top_k):
    import matplotlib.pyplot as plt

    names = TWO.set_index("opportunity_id")["name"]
    res = rp.run_prioritisation(TWO, CRITERIA, methods=methods, top_k=top_k, n_draws=400, seed=3)
    mc = res.monte_carlo[methods[0]]
    texts = [
        rp.agreement_text(res.agreement, res.scores, names),
        rp.stability_text(mc, names),
        rp.flips_text(res.flips, names),
        rp.portfolio_text(res.portfolio, names),
        rp.views_text(rp.weighting_views(res.x, res.spec, None, methods, top_k, names)),
        rp.recommendation_text(res.ranking, res.summary, res.x, res.spec),
    ]
    pplots.ranking_comparison(res.scores, names)
    pplots.rank_stability(mc, names)
    pplots.sweep_chart(ps.oat_sweeps(res.x, res.spec, method=methods[0], track=5), names)
    plt.close("all")
    # reach 10 vs 7 weighs 0.7, cost 1.5 vs 1 weighs 0.3: A leads under both methods
    assert list(res.ranking["opportunity_id"]) == ["A", "B"] and "Alpha" in texts[-1]
    assert mc.table["p_first"].sum() == pytest.approx(1.0)
    assert (mc.table["p_top_k"] == 1.0).all() if top_k >= 2 else mc.table["p_top_k"].sum() == pytest.approx(1.0)
    assert not res.dominance["dominated"].any()  # each is better on one criterion


@pytest.mark.slow
def test_two_options_and_two_criteria_through_the_command(tmp_path):
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1] / "foreign"))
    from conftest import assert_ok_run, run_notebook

    TWO.rename(columns={"opportunity_id": "id", "name": "title"}).to_csv(tmp_path / "two.csv", index=False)
    (tmp_path / "criteria.csv").write_text("criterion,weight,direction\nreach,0.7,benefit\ncost,0.3,cost\n")
    proc, out = run_notebook(
        "opportunity_prioritisation",
        {
            "opportunities_path": str(tmp_path / "two.csv"),
            "columns": {"id": "opportunity_id", "title": "name"},
            "criteria_path": str(tmp_path / "criteria.csv"),
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)
    ranking = pd.read_csv(out / "ranking.csv")
    assert list(ranking["opportunity_id"]) == ["A", "B"]
    assert list(ranking["score_wsum"].round(6)) == [0.7, 0.3]  # min-max normalised weighted sums

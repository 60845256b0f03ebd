"""Tests of opportunity prioritisation: published examples, planted truth, sensitivity, bad input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from marksell.errors import AnalysisError
from marksell.prioritisation import plots as pplots
from marksell.prioritisation import scoring as pr
from marksell.prioritisation import sensitivity as ps
from marksell.prioritisation import summary as rp
from marksell.sample import opportunities as sample


def _table(values, directions, weights=None, ids=None):
    """Opportunities table + spec from a plain matrix (criteria c1, c2, ...)."""
    v = np.asarray(values, dtype=float)
    crits = [f"c{j + 1}" for j in range(v.shape[1])]
    ids = ids or [f"A{i}" for i in range(len(v))]
    opps = pd.DataFrame(v, columns=crits).assign(opportunity_id=ids, name=[f"option {i}" for i in ids])
    w = weights if weights is not None else [1.0] * len(crits)
    spec = pr.criteria_spec({c: (wi, d) for c, wi, d in zip(crits, w, directions)})
    return opps, spec, pr.decision_matrix(opps, spec)


@pytest.fixture(scope="module", params=[0, 11, 2024])
def company(request):
    tables, truth = sample.generate(np.random.default_rng(request.param))
    return tables["opportunities"], truth


# --------------------------------------------------------------------------- published examples
def test_topsis_reproduces_tzeng_huang_2011():
    """Tzeng, G.-H. & Huang, J.-J. (2011) Multiple Attribute Decision Making: Methods and Applications,
    CRC Press - TOPSIS example (4 alternatives, 3 benefit criteria, weights 0.3/0.4/0.3, vector
    normalisation); the same numbers are in scikit-criteria's tests
    (tests/agg/test_similarity.py::test_TOPSIS_tzeng2011multiple): 0.5037, 0.6581, 0.7482, 0.3340."""
    _, spec, x = _table([[5, 8, 4], [7, 6, 8], [8, 8, 6], [7, 4, 6]], ["benefit"] * 3, [0.3, 0.4, 0.3])
    c = pr.topsis(x, spec)
    assert np.round(c.to_numpy(), 3).tolist() == [0.504, 0.658, 0.748, 0.334]
    assert pr.score_methods(x, spec, ["topsis"])["rank_topsis"].tolist() == [3, 2, 1, 4]


def test_topsis_with_cost_criterion_matches_pymcdm_when_installed():
    """Optional cross-check against pymcdm's TOPSIS with vector normalisation (skipped without it)."""
    pymcdm = pytest.importorskip("pymcdm")
    from pymcdm import normalizations

    v = np.array([[250, 16, 12, 5], [200, 16, 8, 3], [300, 32, 16, 4], [275, 32, 8, 4], [225, 16, 16, 2]], float)
    _, spec, x = _table(v, ["cost", "benefit", "benefit", "benefit"], [0.25, 0.25, 0.25, 0.25])
    ref = pymcdm.methods.TOPSIS(normalization_function=normalizations.vector_normalization)(
        v, np.full(4, 0.25), np.array([-1, 1, 1, 1])
    )
    # pymcdm's vector normalisation of a cost criterion is 1 - x/||x||; TOPSIS distances are the same
    np.testing.assert_allclose(pr.topsis(x, spec).to_numpy(), ref, atol=1e-9)


def test_ahp_reproduces_saaty_2008_drinks_example():
    """Saaty, T. L. (2008) Decision making with the analytic hierarchy process. Int. J. Services
    Sciences 1(1), 83-98: 'which drink is consumed more in the U.S.' - derived priorities
    coffee .177, wine .019, tea .042, beer .116, sodas .190, milk .129, water .327; C.R. = .022."""
    names = ["coffee", "wine", "tea", "beer", "soda", "milk", "water"]
    upper = {
        ("coffee", "wine"): 9,
        ("coffee", "tea"): 5,
        ("coffee", "beer"): 2,
        ("coffee", "soda"): 1,
        ("coffee", "milk"): 1,
        ("coffee", "water"): 1 / 2,
        ("wine", "tea"): 1 / 3,
        ("wine", "beer"): 1 / 9,
        ("wine", "soda"): 1 / 9,
        ("wine", "milk"): 1 / 9,
        ("wine", "water"): 1 / 9,
        ("tea", "beer"): 1 / 3,
        ("tea", "soda"): 1 / 4,
        ("tea", "milk"): 1 / 3,
        ("tea", "water"): 1 / 9,
        ("beer", "soda"): 1 / 2,
        ("beer", "milk"): 1,
        ("beer", "water"): 1 / 3,
        ("soda", "milk"): 2,
        ("soda", "water"): 1 / 2,
        ("milk", "water"): 1 / 3,
    }
    a = np.ones((7, 7))
    for (r, c), v in upper.items():
        a[names.index(r), names.index(c)] = v
        a[names.index(c), names.index(r)] = 1 / v
    res = pr.ahp_weights({"criteria": names, "matrix": a.tolist()})
    assert np.round(res.weights.to_numpy(), 3).tolist() == [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
    assert round(res.consistency_ratio, 3) == 0.022
    assert res.random_index == 1.32 and res.consistent


def test_ahp_reproduces_leader_example_weights():
    """Wikipedia, 'Analytic hierarchy process - leader example': criteria experience, education,
    charisma, age weighted .547, .127, .270, .056 (published to 3 decimals, rounding differs by
    at most 0.001 from the exact eigenvector)."""
    a = [[1, 4, 3, 7], [1 / 4, 1, 1 / 3, 3], [1 / 3, 3, 1, 5], [1 / 7, 1 / 3, 1 / 5, 1]]
    res = pr.ahp_weights(a, ["experience", "education", "charisma", "age"])
    np.testing.assert_allclose(res.weights.to_numpy(), [0.547, 0.127, 0.270, 0.056], atol=1e-3)
    assert res.consistent and res.consistency_ratio < 0.10


def test_ahp_inconsistent_matrix_is_flagged_with_the_comparison_to_revisit():
    # a cycle: growth > risk > margin > growth
    a = [[1, 5, 1 / 5], [1 / 5, 1, 5], [5, 1 / 5, 1]]
    res = pr.ahp_weights(a, ["growth", "risk", "margin"])
    assert not res.consistent and res.consistency_ratio > 0.10
    assert "> 0.10" in res.message and "Revisit the comparison of" in res.message
    assert any(f"'{c}'" in res.message for c in ["growth", "risk", "margin"])


@pytest.mark.parametrize(
    "matrix, criteria, fragment",
    [
        ([[1, 2, 3], [1 / 2, 1, 2]], ["a", "b", "c"], "AHP matrix is 2 x 3; it must be square"),
        ([[1, 2], [2, 1]], ["a", "b"], "not reciprocal: (a, b) = 2 but (b, a) = 2"),
        ([[1, -2], [-0.5, 1]], ["a", "b"], "entry (a, b) = -2"),
        ([[1, 2], [0.5, 1]], ["a", "b", "c"], "AHP matrix is 2 x 2 but 3 criteria are named"),
    ],
)
def test_ahp_bad_matrix_messages(matrix, criteria, fragment):
    with pytest.raises(AnalysisError) as err:
        pr.ahp_weights(matrix, criteria)
    assert fragment in str(err.value)


def test_ahp_criteria_must_match_the_specification():
    spec = pr.criteria_spec({})
    res = pr.ahp_weights([[1, 3], [1 / 3, 1]], ["market_size", "reach"])
    with pytest.raises(AnalysisError, match=r"not in the specification \['reach'\]"):
        pr.apply_ahp(spec, res)


def test_inconsistent_ahp_is_flagged_in_summary_and_recommendation(opps):
    crits = ["market_size", "growth_pct", "risk"]
    a = [[1, 5, 1 / 5], [1 / 5, 1, 5], [5, 1 / 5, 1]]
    res = rp.run_prioritisation(
        opps,
        criteria={c: (1, "cost" if c == "risk" else "benefit") for c in crits},
        ahp_matrix={"criteria": crits, "matrix": a},
        n_draws=100,
        seed=1,
    )
    assert res.summary["ahp"]["consistent"] is False and res.summary["ahp"]["consistency_ratio"] > 0.10
    assert "Caution: the weights come from AHP judgements" in rp.recommendation_text(res.ranking, res.summary)


def test_missing_specification_file_is_named(tmp_path):
    with pytest.raises(AnalysisError, match="criteria specification file not found: nope.yaml"):
        pr.criteria_spec(str(tmp_path / "nope.yaml"))


# --------------------------------------------------------------------------- weights and scores
def test_entropy_weights_match_shannon_entropy_by_hand():
    opps, spec, x = _table([[0, 0], [1, 0], [2, 0], [3, 7]], ["benefit", "benefit"])
    w = pr.entropy_weights(x, spec)
    r1, r2 = np.array([0, 1, 2, 3]) / 3, np.array([0, 0, 0, 1.0])
    d = [1 - stats.entropy(r1 / r1.sum()) / np.log(4), 1 - stats.entropy(r2 / r2.sum()) / np.log(4)]
    np.testing.assert_allclose(w.to_numpy(), np.array(d) / sum(d), atol=1e-12)
    assert w["c2"] > w["c1"]  # the criterion concentrated on one option separates most


def test_weighted_sum_uses_min_max_with_cost_reversed():
    _, spec, x = _table([[10, 5], [20, 1], [15, 3]], ["benefit", "cost"], [0.75, 0.25])
    # r: c1 -> 0, 1, .5 ; c2 (cost) -> 0, 1, .5
    np.testing.assert_allclose(pr.weighted_sum(x, spec).to_numpy(), [0.0, 1.0, 0.5])


def test_rank_agreement_kendall_and_spearman():
    scores = pd.DataFrame({"rank_wsum": [1, 2, 3, 4], "rank_topsis": [4, 3, 2, 1], "rank_x": [1, 2, 3, 4]})
    agr = pr.rank_agreement(scores).set_index(["method_a", "method_b"])
    assert agr.loc[("wsum", "topsis"), "kendall_tau"] == pytest.approx(-1.0)
    assert agr.loc[("wsum", "x"), "spearman_rho"] == pytest.approx(1.0)
    assert not agr.loc[("wsum", "topsis"), "same_top_choice"]


def test_pareto_dominance_names_the_dominating_options():
    # A1 beats A0 everywhere (c2 is a cost); A2 equals A1 on c1 and is worse on c2; A3 = A1 copy
    _, spec, x = _table([[1, 5], [3, 2], [3, 4], [3, 2], [4, 9]], ["benefit", "cost"])
    dom = pr.pareto_dominance(x, spec, chunk=2)
    assert dom["dominated"].tolist() == [True, False, True, False, False]
    assert dom.loc["A0", "dominated_by"] == "A1;A2;A3"
    assert dom.loc["A2", "dominated_by"] == "A1;A3"


# --------------------------------------------------------------------------- planted truth
def test_planted_leader_ranks_first_under_every_method_and_most_weightings(company):
    opps, truth = company
    res = rp.run_prioritisation(opps, n_draws=1000, top_k=3, seed=5)
    lead = truth["leader_id"]
    assert res.scores.loc[lead, "rank_wsum"] == 1 and res.scores.loc[lead, "rank_topsis"] == 1
    assert res.summary["top_choice"] == {"wsum": lead, "topsis": lead}
    for m in ("wsum", "topsis"):
        assert res.monte_carlo[m].table.loc[lead, "p_first"] >= 0.9
    assert res.ranking["opportunity_id"].iloc[0] == lead
    assert res.portfolio.loc[lead, "zone"] == "invest"


def test_planted_dominated_options_are_flagged_with_their_dominator(company):
    opps, truth = company
    spec = pr.criteria_spec({})
    dom = pr.pareto_dominance(pr.decision_matrix(opps, spec), spec)
    for bad, good in truth["dominated_by"].items():
        assert dom.loc[bad, "dominated"]
        assert good in dom.loc[bad, "dominated_by"].split(";")
    assert not dom.loc[truth["leader_id"], "dominated"]


def test_ahp_example_weights_keep_the_leader_first(company):
    opps, truth = company
    res = rp.run_prioritisation(opps, ahp_matrix=pr.EXAMPLE_AHP, n_draws=300, seed=1)
    assert res.summary["ahp"]["consistent"] and res.summary["ahp"]["consistency_ratio"] < 0.02
    assert set(res.weights["source"]) == {"ahp"}
    assert res.summary["top_choice"]["wsum"] == truth["leader_id"]


# --------------------------------------------------------------------------- sensitivity
def test_batch_scorer_equals_the_per_draw_methods():
    rng = np.random.default_rng(3)
    opps, spec, x = _table(rng.uniform(1, 10, (30, 5)), ["benefit", "cost", "benefit", "cost", "benefit"])
    draws = ps.draw_weights(spec["weight"].to_numpy(), 7, 20.0, rng)
    for method, func in (("wsum", pr.weighted_sum), ("topsis", pr.topsis)):
        batch = ps.BatchScorer(x, spec, method)(draws)
        for d in range(len(draws)):
            one = func(x, spec.assign(weight=draws[d]))
            np.testing.assert_allclose(batch[d], one.to_numpy(), rtol=1e-10, atol=1e-12)


def test_monte_carlo_probabilities_are_consistent_with_a_naive_loop():
    rng = np.random.default_rng(8)
    opps, spec, x = _table(rng.uniform(0, 1, (12, 4)), ["benefit"] * 4, [0.4, 0.3, 0.2, 0.1])
    mc = ps.monte_carlo_ranks(x, spec, n_draws=200, top_k=3, seed=9, chunk=64)
    assert mc.table["p_first"].sum() == pytest.approx(1.0)
    assert mc.table["p_top_k"].sum() == pytest.approx(3.0)
    # the same draws (drawn in the same chunk sizes), scored one at a time
    g = np.random.default_rng(9)
    draws = np.vstack([ps.draw_weights(spec["weight"].to_numpy(), c, 50.0, g) for c in [64] * 3 + [8]])
    ranks = np.array([pr.weighted_sum(x, spec.assign(weight=w)).rank(ascending=False).to_numpy() for w in draws])
    np.testing.assert_allclose(mc.table["p_first"].to_numpy(), (ranks == 1).mean(axis=0))
    np.testing.assert_array_equal(mc.table["rank_max"].to_numpy(), ranks.max(axis=0))
    assert mc.rank_counts.sum(axis=1).round(9).eq(1.0).all()


def test_weight_change_to_flip_finds_the_exact_tipping_weight():
    # scores: A0 = .6 c1 ... wsum A0 = 0.6, A1 = 0.4, A2 = 0.5 -> c2 must rise from 0.4 to 0.5
    _, spec, x = _table([[1, 0], [0, 1], [0.5, 0.5]], ["benefit", "benefit"], [0.6, 0.4])
    flips = ps.weight_change_to_flip(x, spec).set_index("criterion")
    assert flips.loc["c2", "change"] == pytest.approx(0.1, abs=1e-4)
    assert flips.loc["c1", "change"] == pytest.approx(-0.1, abs=1e-4)
    assert flips.loc["c2", "new_top"] == "A1"


def test_oat_weights_keep_proportions_and_sum_to_one():
    w = ps.oat_weights(np.array([0.5, 0.3, 0.2]), 0, np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w[0], [0.0, 0.6, 0.4])
    np.testing.assert_allclose(w[2], [1.0, 0.0, 0.0])


def test_oat_sweeps_report_the_top_choice_at_each_weight(company):
    opps, truth = company
    spec = pr.criteria_spec({})
    sw = ps.oat_sweeps(pr.decision_matrix(opps, spec), spec, n_points=11, track=3)
    assert set(sw["criterion"]) == set(spec["criterion"])
    at_base = sw[(sw["criterion"] == "capability_fit") & (sw["weight"].round(2) == 0.2)]
    assert (at_base["top_id"] == truth["leader_id"]).all()


# --------------------------------------------------------------------------- portfolio
def test_ge_zones_cover_the_nine_cells():
    grid = [[pr.ge_zone(a, b) for b in (0.1, 0.5, 0.9)] for a in (0.9, 0.5, 0.1)]
    assert grid == [["selective", "invest", "invest"], ["harvest", "selective", "invest"], ["harvest", "harvest", "selective"]]


def test_expected_value_multiplies_size_growth_share_margin():
    opps = pd.DataFrame(
        {"market_size": [100.0], "growth_pct": [10.0], "achievable_share_pct": [5.0], "margin_pct": [40.0], "investment": [2.0]}
    )
    ev = pr.expected_value(opps, horizon_years=2)
    assert ev["expected_value"].iloc[0] == pytest.approx(100 * 1.21 * 0.05 * 0.4)
    assert ev["value_per_investment"].iloc[0] == pytest.approx(100 * 1.21 * 0.05 * 0.4 / 2)
    only_size = pr.expected_value(opps[["market_size"]])
    assert only_size.attrs["factors"] == ["market_size"]


# --------------------------------------------------------------------------- specification
def test_criteria_spec_from_csv_and_yaml_equals_dict(tmp_path):
    d = {"growth_pct": {"weight": 2, "direction": "benefit"}, "risk": {"weight": 1, "direction": "cost"}}
    (tmp_path / "spec.csv").write_text("criterion,weight,direction\ngrowth_pct,2,benefit\nrisk,1,Cost\n")
    (tmp_path / "spec.yaml").write_text(
        "- {criterion: growth_pct, weight: 2, direction: benefit}\n- {criterion: risk, weight: 1, direction: cost}\n"
    )
    ref = pr.criteria_spec(d)
    for f in ("spec.csv", "spec.yaml"):
        got = pr.criteria_spec(str(tmp_path / f))
        np.testing.assert_allclose(got["weight"], ref["weight"])
        assert got["direction"].tolist() == ["benefit", "cost"]
    np.testing.assert_allclose(ref["weight"], [2 / 3, 1 / 3])
    assert pr.criteria_spec({})["criterion"].tolist() == list(pr.DEFAULT_CRITERIA)


# --------------------------------------------------------------------------- bad input
@pytest.fixture
def opps():
    tables, _ = sample.generate(np.random.default_rng(1))
    return tables["opportunities"]


def test_missing_required_column_is_named(opps):
    with pytest.raises(AnalysisError, match=r"missing required column\(s\) \['opportunity_id'\]"):
        pr.decision_matrix(opps.drop(columns="opportunity_id"), pr.criteria_spec({}))


def test_missing_criterion_column_is_named(opps):
    with pytest.raises(AnalysisError, match=r"criterion \['risk'\] in the criteria specification is not a column"):
        pr.decision_matrix(opps.drop(columns="risk"), pr.criteria_spec({}))


def test_spec_criterion_not_in_table_is_named(opps):
    spec = pr.criteria_spec({"growth_pct": (1, "benefit"), "brand_fit": (1, "benefit")})
    with pytest.raises(AnalysisError, match=r"\['brand_fit'\]"):
        pr.decision_matrix(opps, spec)


@pytest.mark.parametrize(
    "criteria, fragment",
    [
        ({"growth_pct": (-1, "benefit"), "risk": (1, "cost")}, "criterion 'growth_pct': weight -1 is negative"),
        ({"growth_pct": (0, "benefit"), "risk": (0, "cost")}, "all criteria weights are zero"),
        ({"growth_pct": ("high", "benefit")}, "criterion 'growth_pct': weight 'high' is not a number"),
        ({"risk": (1, "minimise")}, "criterion 'risk': direction 'minimise' must be 'benefit'"),
    ],
)
def test_bad_weights_and_directions(criteria, fragment):
    with pytest.raises(AnalysisError) as err:
        pr.criteria_spec(criteria)
    assert fragment in str(err.value)


def test_constant_criterion_is_named(opps):
    with pytest.raises(AnalysisError, match="criterion 'risk' has the same value .5. for every opportunity"):
        pr.decision_matrix(opps.assign(risk=5.0), pr.criteria_spec({}))


def test_non_numeric_value_names_criterion_and_row(opps):
    bad = opps.astype({"margin_pct": object})
    bad.loc[3, "margin_pct"] = "30%"
    expected = r"criterion 'margin_pct' has non-numeric value\(s\) for \[\"OPP-04: '30%'\"\]"
    with pytest.raises(AnalysisError, match=expected):
        pr.decision_matrix(bad, pr.criteria_spec({}))


def test_duplicated_ids_are_named(opps):
    dup = opps.assign(opportunity_id=opps["opportunity_id"].replace({"OPP-02": "OPP-01"}))
    with pytest.raises(AnalysisError, match=r"duplicated: \['OPP-01'\]"):
        pr.decision_matrix(dup, pr.criteria_spec({}))


def test_unknown_method_is_named(opps):
    spec = pr.criteria_spec({})
    with pytest.raises(AnalysisError, match=r"unknown method\(s\) \['vikor'\]"):
        pr.score_methods(pr.decision_matrix(opps, spec), spec, ["wsum", "vikor"])


# --------------------------------------------------------------------------- outputs and charts
def test_ranking_table_summary_and_recommendation(opps):
    res = rp.run_prioritisation(opps, n_draws=200, top_k=3, seed=2)
    need = [
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
        "attractiveness",
        "ability_to_win",
    ]
    assert all(c in res.ranking.columns for c in need)
    assert res.ranking["rank_wsum"].is_monotonic_increasing
    assert set(res.weights.columns) >= {"criterion", "direction", "weight", "source"}
    text = rp.recommendation_text(res.ranking, res.summary, res.x, res.spec)
    assert "Nordic mid-market expansion (OPP-07)" in text and "Trade-off: the best-ranked option" in text


def test_charts_return_figures(opps):
    res = rp.run_prioritisation(opps, n_draws=100, seed=2)
    names = opps.set_index("opportunity_id")["name"]
    sw = ps.oat_sweeps(res.x, res.spec, n_points=5, track=3)
    figs = [
        pplots.ranking_comparison(res.scores, names),
        pplots.rank_stability(res.monte_carlo["wsum"], names),
        pplots.ge_bubble_matrix(res.portfolio, names),
        pplots.sweep_chart(sw, names),
    ]
    assert all(len(f.axes) >= 1 for f in figs)
    plt.close("all")


# --------------------------------------------------------------------------- any criteria set
def test_portfolio_views_come_from_the_criteria_that_exist():
    opps, spec, x = _table([[10, 5], [20, 9], [15, 4]], ["benefit", "cost"])
    both_out = rp.portfolio_view(opps.set_index("opportunity_id"), x, spec)
    assert both_out["zone"].eq("not available").all() and "expected_value" not in both_out
    assert [n.split(":")[0] for n in both_out.attrs["notes"]] == ["GE-McKinsey matrix left out", "expected-value view left out"]
    assert rp.expected_value_table(both_out, opps.set_index("opportunity_id")["name"]) is None
    grouped = pr.criteria_spec({"c1": (1, "benefit", "attractiveness"), "c2": (1, "cost", "ability")})
    sized = opps.assign(market_size=[5.0, 8.0, 2.0]).set_index("opportunity_id")
    view = rp.portfolio_view(sized, x, grouped)
    assert view["zone"].isin(["invest", "selective", "harvest"]).all() and view.attrs["notes"] == []
    assert view.attrs["axes"] == {"attractiveness": ["c1"], "ability": ["c2"]}
    assert view["expected_value"].tolist() == [5.0, 8.0, 2.0]  # size only: no growth, share or margin column
    table = rp.expected_value_table(view, sized["name"])
    assert table.index.tolist() == ["A1", "A0", "A2"] and "value_per_investment" not in table


def test_ranking_and_texts_with_two_criteria_and_no_groups():
    opps, spec, x = _table([[10, 5], [20, 9], [15, 4], [8, 3]], ["benefit", "cost"], [3, 2])
    res = rp.run_prioritisation(opps, criteria={"c1": (3, "benefit"), "c2": (2, "cost")}, n_draws=200, seed=1)
    assert {"attractiveness", "ability_to_win", "zone"} <= set(res.ranking.columns)
    assert "expected_value" not in res.ranking.columns
    names = opps.set_index("opportunity_id")["name"]
    assert rp.ahp_view(None, res.spec) is None  # the workshop example covers the default criteria only
    assert rp.ahp_view(None, pr.criteria_spec(None)) is not None
    views = rp.weighting_views(res.x, res.spec, None, ["wsum"], 3, names)
    assert views.columns.tolist() == ["weights used", "entropy weights"] and len(views) == 3
    assert rp.weights_text(res.weights).startswith("The largest weight is on c1 (60%).")
    top = names[res.summary["top_choice"]["wsum"]]
    assert rp.agreement_text(res.agreement, res.scores, names).startswith("The weighted sum and TOPSIS:")
    assert rp.stability_text(res.monte_carlo["wsum"], names).startswith(top)
    assert rp.portfolio_text(res.portfolio, names) == ""


def test_dominated_by_lists_are_capped_in_the_ranking():
    """Issue 19: a chain of 5,000 options listed n^2/2 ids in ranking.csv (225 MB); now at most 20 per row."""
    from marksell.prioritisation.summary import capped_dominators

    ids = [f"O{i:03d}" for i in range(30)]
    rank = pd.Series(range(30, 0, -1), index=ids)  # O029 ranks first
    by = pd.Series({"X": ";".join(ids), "Y": "O001;O002"})
    capped = capped_dominators(by, rank)
    assert capped["Y"] == "O001;O002"  # short lists unchanged
    listed = capped["X"].split(";")
    assert listed[0] == "O029" and len(listed) == 21 and listed[-1] == "+10 more"


def test_default_criteria_apply_only_where_the_table_has_them(tmp_path):
    spec, notes = pr.resolve_criteria({}, ["opportunity_id", "name", "market_size", "risk", "reach"])
    assert spec["criterion"].tolist() == ["market_size", "risk"] and set(spec["source"]) == {"default"}
    assert spec["weight"].tolist() == pytest.approx([0.6, 0.4])  # 0.15 and 0.10 rescaled
    assert notes == [
        "default criteria not in the table left out: growth_pct, margin_pct, competitive_intensity, "
        "achievable_share_pct, capability_fit, investment; weights rescaled over market_size, risk"
    ]
    full, none_left = pr.resolve_criteria("", list(pr.DEFAULT_CRITERIA))
    assert none_left == [] and full["criterion"].tolist() == list(pr.DEFAULT_CRITERIA)
    with pytest.raises(AnalysisError, match=r"none of the default criteria .* for your criterion columns \(reach\)"):
        pr.resolve_criteria(None, ["opportunity_id", "name", "reach"])


def test_criteria_the_user_gave_are_checked_before_the_kernel(tmp_path):
    from marksell.errors import ParameterError

    pd.DataFrame({"code": ["a", "b"], "title": ["A", "B"], "reach": [1, 2], "cost_k": [3, 1]}).to_csv(
        tmp_path / "options.csv", index=False
    )
    given = {"opportunities_path": str(tmp_path / "options.csv"), "columns": {"code": "opportunity_id", "title": "name"}}
    with pytest.raises(ParameterError, match=r"^criteria: none of the default criteria"):
        pr.check_run_parameters(given)
    with pytest.raises(
        ParameterError,
        match=r"^criteria: `costs` is not a column of .*options.csv; its columns "
        r"\(after `columns`\) are opportunity_id, name, reach, cost_k",
    ):
        pr.check_run_parameters({**given, "criteria": {"reach": (1, "benefit"), "costs": (1, "cost")}})
    (tmp_path / "crit.csv").write_text("criterion,weight,direction\nreach,1,benefit\ncost_k,1,upwards\n")
    with pytest.raises(ParameterError, match=r"^criteria_path: criterion 'cost_k': direction 'upwards'"):
        pr.check_run_parameters({**given, "criteria_path": str(tmp_path / "crit.csv")})
    pr.check_run_parameters({**given, "criteria": {"reach": (1, "benefit"), "cost_k": (1, "cost")}})  # fits
    nested = {**given, "columns": {"opportunities": given["columns"]}, "criteria": {"reach": (1, "benefit")}}
    pr.check_run_parameters(nested)  # the mapping under the input's name counts as the flat one
    with pytest.raises(
        ParameterError,
        match=r"^criteria: `code` is not a column of .*options.csv; its columns "
        r"\(after `columns`\) are opportunity_id, name",
    ):
        pr.check_run_parameters({**nested, "criteria": {"code": (1, "benefit")}})


def test_display_kinds_correct_what_column_names_suggest():
    from marksell.prioritisation.summary import display_kinds
    from marksell.reporting.tables import table

    view = pd.DataFrame({"name": ["A"], "expected_value": [14.81], "value_per_investment": [3.876]})
    assert display_kinds(view) == {"value_per_investment": "ratio", "expected_value": "number"}
    assert table(view, kinds=display_kinds(view)).frame.iloc[0].tolist() == ["A", "14.8", "3.88"]


def test_chart_captions_say_how_to_read_and_count_from_the_run():
    scores = pd.DataFrame(
        {"score_wsum": [0.9, 0.5, 0.4], "rank_wsum": [1, 2, 3], "rank_topsis": [1, 3, 2]}, index=["A", "B", "C"]
    )
    text = rp.ranking_caption(scores)
    assert text.startswith("Each option's rank under weighted sum and TOPSIS (1 = best, at the top);")
    assert text.endswith("Here 1 of 3 options take the same rank under every method.")
    assert "Here" not in rp.ranking_caption(scores[["rank_wsum"]])  # one method: nothing to compare
    mc = ps.MonteCarloResult(
        table=pd.DataFrame({"p_first": [0.25, 0.7, 0.05]}, index=["A", "B", "C"]),
        rank_counts=pd.DataFrame(),
        n_draws=5000,
        top_k=3,
        concentration=50.0,
        method="wsum",
    )
    names = pd.Series({"A": "Alpha", "B": "Beta", "C": "Gamma"})
    text = rp.stability_caption(mc, names)
    assert "share of 5,000 random weightings around the agreed weights (weighted sum)" in text
    assert text.endswith("Here Beta comes first in 70% of the weightings.")
    flips = pd.DataFrame({"criterion": ["c1", "c2", "c3"], "change": [0.1, np.nan, -0.3]})
    assert rp.sweep_caption(flips).endswith("Here 2 of 3 weights can change the first choice on their own.")
    zones = pd.DataFrame({"zone": ["invest", "selective", "selective", "not available"]})
    text = rp.portfolio_caption(zones.assign(market_size=1.0))
    assert "bubble area is market_size" in text
    assert text.endswith("Here 1 option(s) sit in invest, 2 in selective and 0 in harvest.")
    assert "bubbles are all the same size" in rp.portfolio_caption(zones)

"""Point estimates and intervals equal independent computations (scipy, statsmodels, numpy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from marksell.experiments import Metric, adjust, lift_table, moments_from_aggregates, run_experiment, unit_moments

METRICS = [
    Metric("converted", "binary", "converted"),
    Metric("y", "mean", "y"),
    Metric("revenue/orders", "ratio", "revenue", "orders"),
]


@pytest.fixture(scope="module")
def units(simulated_units):
    return simulated_units(3, n=5000, lift=0.3, variants=("control", "b", "c"))


@pytest.fixture(scope="module")
def results(units):
    return lift_table(unit_moments(units, METRICS, variants=["control", "b", "c"]), "control", 0.05)


def _arm(units, variant, col):
    return units.loc[units["variant"] == variant, col].to_numpy(float)


@pytest.mark.parametrize("variant", ["b", "c"])
def test_welch_equals_scipy(units, results, variant):
    r = results[(results["metric"] == "y") & (results["variant"] == variant)].iloc[0]
    t, c = _arm(units, variant, "y"), _arm(units, "control", "y")
    ref = sps.ttest_ind(t, c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert r["abs_lift"] == pytest.approx(t.mean() - c.mean(), rel=1e-12)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert r["rel_lift"] == pytest.approx(t.mean() / c.mean() - 1, rel=1e-12)


@pytest.mark.parametrize("variant", ["b", "c"])
def test_newcombe_and_pooled_z_equal_statsmodels(units, results, variant):
    r = results[(results["metric"] == "converted") & (results["variant"] == variant)].iloc[0]
    t, c = _arm(units, variant, "converted"), _arm(units, "control", "converted")
    low, high = confint_proportions_2indep(t.sum(), len(t), c.sum(), len(c), method="newcomb", compare="diff")
    _, p = proportions_ztest([t.sum(), c.sum()], [len(t), len(c)])
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((low, high), rel=1e-9)
    assert r["p_value"] == pytest.approx(p, rel=1e-9)


def test_ratio_delta_method_equals_numpy(units, results):
    r = results[(results["metric"] == "revenue/orders") & (results["variant"] == "b")].iloc[0]

    def ratio_and_var(variant):
        y, x = _arm(units, variant, "revenue"), _arm(units, variant, "orders")
        ratio = y.sum() / x.sum()
        cov = np.cov(np.vstack([y, x]))
        grad = np.array([1 / x.mean(), -y.mean() / x.mean() ** 2])
        return ratio, grad @ cov @ grad / len(y)

    rt, vt = ratio_and_var("b")
    rc, vc = ratio_and_var("control")
    z = sps.norm.ppf(0.975)
    assert r["abs_lift"] == pytest.approx(rt - rc, rel=1e-10)
    half = z * np.sqrt(vt + vc)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((rt - rc - half, rt - rc + half), rel=1e-9)
    assert r["p_value"] == pytest.approx(2 * sps.norm.sf(abs(rt - rc) / np.sqrt(vt + vc)), rel=1e-9)


def test_cuped_lift_equals_ancova_coefficient(simulated_units):
    units = simulated_units(5, n=6000, lift=0.4)
    res = lift_table(
        unit_moments(units, [Metric("y", "mean", "y", covariate="pre")], variants=["control", "treatment"]), "control"
    )
    r = res.iloc[0]
    design = np.column_stack([np.ones(len(units)), (units["variant"] == "treatment").astype(float), units["pre"]])
    fit = sm.OLS(units["y"].to_numpy(), design).fit()
    assert r["cuped"]
    assert r["abs_lift"] == pytest.approx(fit.params[1], rel=1e-9)
    assert r["se"] == pytest.approx(fit.bse[1], rel=0.01)  # ANCOVA pools the residual variance
    assert r["raw_ci_high"] - r["raw_ci_low"] > r["ci_high"] - r["ci_low"]


def test_aggregate_table_gives_the_same_lifts(units):
    agg = units.groupby("variant").agg(n=("y", "size"), sum=("y", "sum"), sum_sq=("y", lambda s: (s**2).sum()))
    agg = agg.reset_index().assign(metric="y")
    from_agg = lift_table(moments_from_aggregates(agg), "control").set_index("variant")
    from_units = lift_table(unit_moments(units, [Metric("y", "mean", "y")]), "control").set_index("variant")
    for col in ("abs_lift", "ci_low", "ci_high", "p_value", "rel_ci_low"):
        assert from_agg.loc[["b", "c"], col].to_numpy() == pytest.approx(from_units.loc[["b", "c"], col].to_numpy(), rel=1e-7)


def test_large_means_keep_precision():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"variant": np.repeat(["control", "t"], 50_000), "y": 1e9 + rng.normal(0, 1, 100_000)})
    res = lift_table(unit_moments(frame, [Metric("y", "mean", "y")]), "control").iloc[0]
    ref = sps.ttest_ind(frame.y[frame.variant == "t"] - 1e9, frame.y[frame.variant == "control"] - 1e9, equal_var=False)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-5)


def test_holm_for_primary_and_bh_for_the_rest(results):
    from statsmodels.stats.multitest import multipletests

    out = adjust(results, "converted")
    prim = out[out["metric"] == "converted"]
    assert prim["p_adjusted"].to_numpy() == pytest.approx(multipletests(prim["p_value"], method="holm")[1])
    rest = out[out["metric"] != "converted"]
    assert rest["p_adjusted"].to_numpy() == pytest.approx(multipletests(rest["p_value"], method="fdr_bh")[1])


def test_run_recovers_the_planted_conversion_lift(sample_experiments, one_experiment):
    table, truth = sample_experiments
    units = one_experiment(table, "free_shipping")
    run = run_experiment(
        units,
        "control",
        metrics=["converted", "orders", "revenue"],
        primary_metric="converted",
        expected_split=truth["free_shipping"]["planned_split"],
        seed=1,
    )
    r = run.results[run.results["metric"] == "converted"].iloc[0]
    planted = truth["free_shipping"]["effects"]["converted"]["treatment"]["abs_lift"]
    assert r["ci_low"] < planted < r["ci_high"]
    assert r["p_adjusted"] < 0.05
    assert run.decisions.set_index("variant").loc["treatment", "decision"] in {"ship", "keep running"}

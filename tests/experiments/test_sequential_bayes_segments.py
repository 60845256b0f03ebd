"""Always-valid p-values agree with the intervals; Bayes against exact integrals; Cochran's Q against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy import stats as sps

from marksell.experiments import always_valid_p, half_width, mixing_rho, run_experiment
from marksell.experiments.bayes import beta_chance, normal_chance
from marksell.experiments.segments import cochran_q


def test_always_valid_p_below_alpha_exactly_when_interval_excludes_zero():
    rng = np.random.default_rng(4)
    n = np.arange(100, 5100, 100, dtype=float)
    se = 3.0 / np.sqrt(n)
    est = 0.08 + rng.normal(0, 1, n.size) * se
    rho = mixing_rho(5000, 0.05)
    hw = half_width(se, n, rho, 0.05)
    p_now = always_valid_p(est, se, n, rho)
    excluded = np.maximum.accumulate(np.abs(est) > hw)  # once excluded, the running-minimum p stays low
    assert np.array_equal(p_now < 0.05, excluded)


def test_mixing_rho_makes_the_boundary_tightest_at_the_planned_size():
    rho = mixing_rho(10_000, 0.05)
    grid = np.linspace(0.2, 5, 400) * rho
    widths = [half_width(1.0, 10_000, r, 0.05) for r in grid]
    assert grid[int(np.argmin(widths))] == pytest.approx(rho, rel=0.05)


def test_beta_chance_equals_numerical_integral():
    a_t, b_t, a_c, b_c = 1 + 130, 1 + 870, 1 + 110, 1 + 890
    exact = integrate.quad(lambda x: sps.beta.pdf(x, a_t, b_t) * sps.beta.cdf(x, a_c, b_c), 0, 1)[0]
    prob, loss = beta_chance(130, 1000, 110, 1000, 1.0, 1.0, np.random.default_rng(0))
    assert prob == pytest.approx(exact, abs=0.005)
    exact_loss = integrate.dblquad(
        lambda c, t: max(c - t, 0) * sps.beta.pdf(t, a_t, b_t) * sps.beta.pdf(c, a_c, b_c), 0.05, 0.25, 0.05, 0.25
    )[0]
    assert loss == pytest.approx(exact_loss, rel=0.05)


def test_normal_chance_is_one_minus_one_sided_p_with_a_flat_prior():
    prob, loss = normal_chance(np.array([0.5]), np.array([0.25]))
    assert prob[0] == pytest.approx(1 - sps.norm.sf(2.0))
    exact = integrate.quad(lambda x: -x * sps.norm.pdf(x, 0.5, 0.25), -np.inf, 0)[0]
    assert loss[0] == pytest.approx(exact, rel=1e-8)


def test_cochran_q_equals_statsmodels_meta_analysis():
    from statsmodels.stats.meta_analysis import combine_effects

    lift = np.array([0.1, 0.3, -0.05, 0.2])
    se = np.array([0.05, 0.08, 0.06, 0.1])
    ref = combine_effects(lift, se**2, method_re="chi2")
    q = cochran_q(lift, se)
    assert q["q"] == pytest.approx(ref.q)
    assert q["pooled"] == pytest.approx(ref.mean_effect_fe)
    assert q["i2"] == pytest.approx(ref.i2)


def test_heterogeneous_effect_is_detected_and_homogeneous_not(simulated_units):
    units = simulated_units(8, n=30_000, lift=0.0)
    units["y"] += np.where((units["variant"] == "treatment") & (units["segment"] == "A"), 0.5, 0.0)
    run = run_experiment(units, "control", metrics=["y"], segment_cols=["segment"], seed=1)
    assert run.heterogeneity.iloc[0]["p_value"] < 0.001
    flat = run_experiment(simulated_units(9, n=30_000, lift=0.2), "control", metrics=["y"], segment_cols=["segment"])
    assert flat.heterogeneity.iloc[0]["p_value"] > 0.001


def test_guardrail_breach_blocks_a_winner(simulated_units):
    units = simulated_units(12, n=20_000, lift=0.5)
    units["revenue"] *= np.where(units["variant"] == "treatment", 0.8, 1.0)
    run = run_experiment(units, "control", metrics=["y", "revenue"], primary_metric="y", guardrails={"revenue": 0.05})
    d = run.decisions.iloc[0]
    assert d["decision"] == "do not ship" and "guardrail revenue" in d["reasons"]
    ok = run_experiment(
        simulated_units(12, n=20_000, lift=0.5),
        "control",
        metrics=["y", "revenue"],
        primary_metric="y",
        guardrails={"revenue": 0.5},
    )
    assert ok.decisions.iloc[0]["decision"] == "ship"


def test_sample_decisions(sample_experiments, one_experiment):
    table, truth = sample_experiments
    kw = {"metrics": ["converted", "orders", "revenue"], "primary_metric": "converted", "seed": 1}
    ship = run_experiment(one_experiment(table, "free_shipping"), "control", sequential_looks=False, **kw)
    assert ship.decisions.iloc[0]["decision"] == "ship"
    null = run_experiment(one_experiment(table, "subject_line"), "control", min_effect=0.0, **kw)
    assert set(null.decisions["decision"]) <= {"keep running", "do not ship"}
    assert not (null.looks["seq_p_value"] < 0.05 / 2).any()  # no always-valid false win in the null test


def test_looks_end_at_the_fixed_result(sample_experiments, one_experiment):
    table, _ = sample_experiments
    run = run_experiment(one_experiment(table, "free_shipping"), "control", metrics=["converted"], seed=1)
    last = run.looks.iloc[-1]
    fixed = run.results.iloc[0]
    assert last["abs_lift"] == pytest.approx(fixed["abs_lift"])
    assert last["seq_ci_high"] - last["seq_ci_low"] > fixed["ci_high"] - fixed["ci_low"]
    assert pd.Timestamp(last["look"]) == pd.to_datetime(one_experiment(table, "free_shipping")["timestamp"]).max()

"""Interval coverage over a few hundred seeded simulated experiments (vectorised, one pass).

Fixed-horizon intervals cover the true effect near the nominal 95 % at the planned look; under
daily peeking the fixed intervals miss the truth on some day far more often than 5 %, while the
always-valid intervals keep covering it at every look at once.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

REPS = 400


@pytest.fixture(scope="module")
def looks(simulated_looks):
    return simulated_looks(seed=20260, reps=REPS)


def _band(p: float = 0.95, reps: int = REPS, level: float = 0.999) -> tuple[float, float]:
    lo, hi = sps.binom.interval(level, reps, p)
    return lo / reps, hi / reps


def _covered(frame, low="ci_low", high="ci_high"):
    return (frame[low] <= frame["truth"]) & (frame["truth"] <= frame[high])


@pytest.mark.parametrize("metric", ["y", "converted", "revenue/orders", "y2"])
def test_fixed_interval_covers_at_the_planned_look(looks, metric):
    final = looks[(looks["metric"] == metric) & (looks["day"] == looks["day"].max())]
    coverage = _covered(final).mean()
    lo, hi = _band()
    print(f"{metric}: fixed-horizon coverage {coverage:.3f} over {len(final)} experiments")
    assert lo <= coverage <= hi


def test_relative_lift_interval_covers(looks):
    final = looks[(looks["metric"] == "y") & (looks["day"] == looks["day"].max())]
    coverage = ((final["rel_ci_low"] <= final["rel_truth"]) & (final["rel_truth"] <= final["rel_ci_high"])).mean()
    lo, hi = _band()
    assert lo <= coverage <= hi


@pytest.mark.parametrize("metric", ["y", "converted", "revenue/orders", "y2"])
def test_peeking_breaks_fixed_intervals_but_not_sequential_ones(looks, metric):
    g = looks[looks["metric"] == metric]
    fixed_always = _covered(g).groupby(g["rep"]).all().mean()
    seq_always = _covered(g, "seq_ci_low", "seq_ci_high").groupby(g["rep"]).all().mean()
    print(f"{metric}: covered at every one of 14 daily looks: fixed {fixed_always:.3f}, sequential {seq_always:.3f}")
    assert fixed_always < 0.88  # far below the nominal 95 % once every day is looked at
    assert seq_always >= _band()[0]  # time-uniform: still at least the nominal level


def test_stopping_at_the_first_significant_day_inflates_false_wins(looks):
    g = looks[looks["metric"] == "y2"]  # no effect
    fixed_win = (g["p_value"] < 0.05).groupby(g["rep"]).any().mean()
    seq_win = ((g["seq_ci_low"] > 0) | (g["seq_ci_high"] < 0)).groupby(g["rep"]).any().mean()
    print(f"false wins when stopping at the first significant day: fixed {fixed_win:.3f}, sequential {seq_win:.3f}")
    assert fixed_win > 0.12
    assert seq_win <= _band(0.05)[1]


def test_cuped_variance_reduction_matches_one_minus_rho_squared(simulated_units):
    from marksell.experiments import Metric, lift_table, unit_moments

    units = simulated_units(11, n=200_000, lift=0.0, rho=0.6)
    res = lift_table(unit_moments(units, [Metric("y", "mean", "y", covariate="pre")]), "control").iloc[0]
    # the reduction is estimated from the sample correlation: s.e. about 2 rho (1 - rho^2) / sqrt(n)
    se = 2 * 0.6 * (1 - 0.36) / np.sqrt(200_000)
    # CUPED leaves 1 - rho^2 of the variance: the reduction is rho^2
    assert 1 - res["variance_reduction"] == pytest.approx(1 - 0.36, abs=4 * se)

"""The planner equals statsmodels' power functions."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower

from marksell.experiments import detectable_effect, plan, power_of, units_needed


@pytest.mark.parametrize(
    ("delta", "sd", "ratio", "alpha", "power"),
    [(0.01, 0.3, 1.0, 0.05, 0.8), (2.0, 40.0, 0.5, 0.01, 0.9), (0.5, 3.0, 3.0, 0.1, 0.7)],
)
def test_units_and_mde_equal_statsmodels(delta, sd, ratio, alpha, power):
    ref = NormalIndPower()
    n1 = ref.solve_power(effect_size=delta / sd, alpha=alpha, power=power, ratio=ratio)
    assert units_needed(delta, sd, ratio, alpha, power) == pytest.approx(n1, rel=1e-6)
    assert power_of(delta, sd, 1234.0, ratio, alpha) == pytest.approx(
        ref.power(effect_size=delta / sd, nobs1=1234.0, alpha=alpha, ratio=ratio), rel=1e-10
    )
    es = ref.solve_power(nobs1=5000.0, alpha=alpha, power=power, ratio=ratio)
    mde = detectable_effect(sd, 5000.0, ratio, alpha, power)
    # statsmodels' own root finder stops at about 1e-5 relative; the exact power at our MDE is the target
    assert mde == pytest.approx(es * sd, rel=1e-4)
    assert ref.power(effect_size=mde / sd, nobs1=5000.0, alpha=alpha, ratio=ratio) == pytest.approx(power, abs=1e-10)


def test_plan_days_follow_from_units_and_traffic():
    table = plan(
        "converted",
        0.1,
        math.sqrt(0.09),
        traffic_per_day=1000,
        control_share=0.5,
        treatment_share=0.5,
        relative_mdes=(0.05,),
        current_control_units=2000,
    )
    first = table.iloc[0]
    n1 = NormalIndPower().solve_power(effect_size=0.005 / 0.3, alpha=0.05, power=0.8, ratio=1.0)
    assert first["control_units"] == math.ceil(n1)
    assert first["days_needed"] == math.ceil(n1 / 0.5 / 1000)
    assert table.iloc[-1]["basis"] == "this test's size"

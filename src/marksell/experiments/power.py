"""Planning the next test: minimum detectable effect and the days it takes.

Two-sided z-test of a difference in means with a common unit standard deviation ``sd`` (for a
conversion rate ``p``: ``sd = sqrt(p (1 - p))`` at the baseline), ``n_c`` control units and
``n_t = ratio * n_c`` treatment units:

    power = Phi(delta / se - z) + Phi(-delta / se - z),   se = sd * sqrt(1 / n_c + 1 / n_t),

with ``z`` the ``1 - alpha / 2`` normal quantile. This is exactly statsmodels'
``NormalIndPower`` (effect size ``delta / sd``), which the tests check; it is solved here for
``n_c`` (given the effect) or for ``delta`` (given the units) with a root finder so that both
tails count, as in statsmodels. Days needed = all units the test needs (every variant, at the
planned split) divided by eligible units per day, rounded up.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps

POWER_COLUMNS = [
    "metric",
    "baseline",
    "sd",
    "alpha",
    "power",
    "control_share",
    "treatment_share",
    "relative_mde",
    "absolute_mde",
    "control_units",
    "treatment_units",
    "units_total",
    "traffic_per_day",
    "days_needed",
    "basis",
]


def power_of(delta: float, sd: float, n_control: float, ratio: float, alpha: float) -> float:
    """Power of the two-sided test for an absolute effect ``delta``."""
    z = sps.norm.ppf(1 - alpha / 2)
    se = sd * math.sqrt(1 / n_control + 1 / (ratio * n_control))
    d = abs(delta) / se
    return float(sps.norm.cdf(d - z) + sps.norm.cdf(-d - z))


def units_needed(delta: float, sd: float, ratio: float, alpha: float, power: float) -> float:
    """Control units needed to detect ``delta`` with the given power (not rounded)."""
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    guess = (z * sd / delta) ** 2 * (1 + 1 / ratio)
    f = lambda n: power_of(delta, sd, n, ratio, alpha) - power  # noqa: E731
    lo = max(guess / 4, 1e-6)
    return float(optimize.brentq(f, lo, guess * 4, xtol=1e-10, rtol=1e-14))


def detectable_effect(sd: float, n_control: float, ratio: float, alpha: float, power: float) -> float:
    """Smallest absolute effect detected with the given power at ``n_control`` control units."""
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    guess = z * sd * math.sqrt(1 / n_control + 1 / (ratio * n_control))
    f = lambda d: power_of(d, sd, n_control, ratio, alpha) - power  # noqa: E731
    return float(optimize.brentq(f, guess / 4, guess * 4, xtol=1e-14, rtol=1e-14))


def plan(
    metric: str,
    baseline: float,
    sd: float,
    traffic_per_day: float,
    control_share: float,
    treatment_share: float,
    alpha: float = 0.05,
    power: float = 0.8,
    relative_mdes: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10),
    current_control_units: float | None = None,
) -> pd.DataFrame:
    """``power.csv`` rows for one metric: units and days per relative MDE, and this test's MDE.

    ``control_share`` and ``treatment_share`` are the planned shares of all eligible units that go
    to control and to one treatment; ``traffic_per_day`` counts all eligible units a day.
    """
    ratio = treatment_share / control_share
    rows = []

    def row(rel, delta, n_c, basis):
        total = n_c / control_share
        days = math.ceil(total / traffic_per_day) if traffic_per_day and traffic_per_day > 0 else np.nan
        rows.append(
            {
                "metric": metric,
                "baseline": baseline,
                "sd": sd,
                "alpha": alpha,
                "power": power,
                "control_share": control_share,
                "treatment_share": treatment_share,
                "relative_mde": rel,
                "absolute_mde": delta,
                "control_units": math.ceil(n_c),
                "treatment_units": math.ceil(n_c * ratio),
                "units_total": math.ceil(total),
                "traffic_per_day": traffic_per_day,
                "days_needed": days,
                "basis": basis,
            }
        )

    for rel in relative_mdes:
        delta = abs(rel * baseline)
        if delta > 0 and sd > 0:
            row(rel, delta, units_needed(delta, sd, ratio, alpha, power), "planned effect")
    if current_control_units and sd > 0:
        delta = detectable_effect(sd, current_control_units, ratio, alpha, power)
        row(delta / abs(baseline) if baseline else np.nan, delta, current_control_units, "this test's size")
    return pd.DataFrame(rows, columns=POWER_COLUMNS)

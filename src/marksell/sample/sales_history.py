"""Sample company: monthly sales by region and product category, 2019-01 .. 2025-12.

Seven years (longer than the other sample tables, on purpose: a seasonal forecaster needs several
seasons to learn from and to be backtested on). Twelve bottom series = ``REGIONS`` x ``CATEGORIES``.
Each series is built multiplicatively so that every planted component can be recovered::

    sales[t] = level * (1 + growth) ** (years since 2019-01) * season[category, month]
               * (1 + easter[category] if Easter Sunday falls in that month)
               * exp(promo_lift[category] * promo[t]) * lognormal noise

- ``season`` are 12 monthly indices per category (mean 1). They already contain the fixed-date
  holiday peaks: the November Black-Friday uplift and the December peak (planted separately in the
  truth as ``black_friday_uplift`` and ``december_uplift``, on top of a smooth base pattern).
- Easter moves between March (2024) and April (other years): a moving-holiday effect that a
  fixed monthly index cannot fully capture.
- ``growth`` is the planted annual growth rate of each region x category series.
- ``promo`` is the share of the month a series was on promotion (0 in about 70 % of months, else
  0.25 .. 1); ``promo_lift`` the planted log effect of a whole month on promotion. ``easter`` is
  the calendar flag (1 in the month of Easter Sunday). Both are columns of the history, and the
  *sales plan* (``sales_plan.csv``) gives their values for the 12 months after it, as a business
  knows its promotion calendar in advance: the regression forecaster's exogenous columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from dateutil.easter import easter

from marksell.sample.constants import REGIONS

START = "2019-01-01"
END = "2025-12-01"
PLAN_END = "2026-12-01"
CATEGORIES = ["apparel", "electronics", "home"]
#: Smooth base seasonal pattern by category (Jan..Dec, before holiday uplifts), mean about 1.
BASE_SEASON = {
    "apparel": [0.80, 0.82, 0.98, 1.02, 1.08, 1.05, 0.95, 0.98, 1.06, 1.04, 1.00, 1.02],
    "electronics": [0.88, 0.85, 0.92, 0.90, 0.93, 0.95, 0.96, 1.00, 0.98, 1.00, 1.05, 1.08],
    "home": [0.86, 0.88, 1.02, 1.10, 1.12, 1.08, 1.02, 0.98, 0.96, 0.98, 0.98, 1.02],
}
#: Fixed-date holiday uplifts (multiplicative) by category: November (Black Friday) and December.
BLACK_FRIDAY_UPLIFT = {"apparel": 0.15, "electronics": 0.35, "home": 0.12}
DECEMBER_UPLIFT = {"apparel": 0.30, "electronics": 0.40, "home": 0.20}
#: Moving-holiday uplift in the month that contains Easter Sunday.
EASTER_UPLIFT = {"apparel": 0.08, "electronics": 0.02, "home": 0.10}
#: Level (sales per month at 2019-01 before seasonality) by region and category scale.
#: Planted log effect on sales of a whole month on promotion (share 1), by category.
PROMO_LIFT = {"apparel": 0.18, "electronics": 0.10, "home": 0.14}
PROMO_PROBABILITY = 0.3
PROMO_SHARES = (0.25, 0.5, 0.75, 1.0)
REGION_SCALE = {"North": 1.3, "South": 0.8, "East": 1.0, "West": 1.1}
CATEGORY_LEVEL = {"apparel": 120_000.0, "electronics": 200_000.0, "home": 90_000.0}
NOISE_SD = 0.04


def seasonal_indices() -> dict[str, list[float]]:
    """Planted monthly indices by category (base x holiday uplifts), normalised to mean 1."""
    out = {}
    for cat, base in BASE_SEASON.items():
        s = np.array(base, dtype=float)
        s[10] *= 1 + BLACK_FRIDAY_UPLIFT[cat]
        s[11] *= 1 + DECEMBER_UPLIFT[cat]
        out[cat] = [round(float(v), 6) for v in s / s.mean()]
    return out


def easter_months(start: str = START, end: str = END) -> dict[int, int]:
    """Month (3 or 4) of Easter Sunday for each year in the range."""
    return {y: easter(y).month for y in range(pd.Timestamp(start).year, pd.Timestamp(end).year + 1)}


def generate(rng: np.random.Generator) -> tuple[dict[str, pd.DataFrame], dict]:
    """Return ``{"sales_history": df, "sales_plan": plan}`` and the planted truth.

    ``sales_history``: ``date, region, category, sales, promo, easter`` (2019-01 .. 2025-12);
    ``sales_plan``: ``date, region, category, promo, easter`` for 2026.
    """
    months = pd.date_range(START, PLAN_END, freq="MS")
    n_hist = len(pd.date_range(START, END, freq="MS"))
    years = (np.arange(len(months))) / 12.0
    season = seasonal_indices()
    em = easter_months(START, PLAN_END)
    easter_flag = np.array([d.month == em[d.year] for d in months], dtype=float)
    # promotions come from their own stream so that the other draws keep their values
    promo_rng = rng.spawn(1)[0]
    rows, plan = [], []
    growth: dict[str, float] = {}
    for region in REGIONS:
        for cat in CATEGORIES:
            g = float(np.round(rng.uniform(0.01, 0.10), 3))
            growth[f"{region}|{cat}"] = g
            level = CATEGORY_LEVEL[cat] * REGION_SCALE[region]
            idx = np.array(season[cat])[months.month - 1]
            noise = np.exp(rng.normal(0.0, NOISE_SD, n_hist))
            on = promo_rng.random(len(months)) < PROMO_PROBABILITY
            promo = np.where(on, promo_rng.choice(PROMO_SHARES, len(months)), 0.0)
            y = (
                level
                * (1 + g) ** years[:n_hist]
                * idx[:n_hist]
                * (1 + EASTER_UPLIFT[cat] * easter_flag[:n_hist])
                * np.exp(PROMO_LIFT[cat] * promo[:n_hist])
                * noise
            )
            rows.append(
                pd.DataFrame(
                    {
                        "date": months[:n_hist],
                        "region": region,
                        "category": cat,
                        "sales": np.round(y, 2),
                        "promo": promo[:n_hist],
                        "easter": easter_flag[:n_hist].astype(int),
                    }
                )
            )
            plan.append(
                pd.DataFrame(
                    {
                        "date": months[n_hist:],
                        "region": region,
                        "category": cat,
                        "promo": promo[n_hist:],
                        "easter": easter_flag[n_hist:].astype(int),
                    }
                )
            )
    out = {}
    for name, parts in (("sales_history", rows), ("sales_plan", plan)):
        df = pd.concat(parts, ignore_index=True)
        df["region"] = df["region"].astype("string")
        df["category"] = df["category"].astype("string")
        out[name] = df
    truth = {
        "frequency": "M",
        "season_length": 12,
        "seasonal_indices": season,
        "annual_growth": growth,
        "black_friday_uplift": BLACK_FRIDAY_UPLIFT,
        "december_uplift": DECEMBER_UPLIFT,
        "easter_uplift": EASTER_UPLIFT,
        "easter_month": {str(k): v for k, v in em.items()},
        "promo_lift_log": PROMO_LIFT,
        "easter_lift_log": {c: round(float(np.log1p(u)), 6) for c, u in EASTER_UPLIFT.items()},
        "noise_sd_log": NOISE_SD,
    }
    return out, truth

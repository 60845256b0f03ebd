"""Sample company: four A/B tests run on its own customers, with planted effects.

Each experiment takes every customer acquired before its start (their channel and region become
segment columns), assigns them at random to variants and exposes each on one day of the test's
``DAYS`` days. ``pre_revenue`` is the customer's actual revenue in the ``PRE_DAYS`` days before the
start, taken from the sample transactions (a pre-period covariate for CUPED).

Metrics per unit: ``converted`` (0/1), ``orders`` (0 when not converted, else 1 + Poisson) and
``revenue`` (the orders' Gamma-distributed values). The conversion probability is
``BASE_RATE`` for customers without pre-period revenue and ``ACTIVE_RATE`` for the others, times
``1 + lift`` in a treated variant.

- ``free_shipping``: control / treatment, a real conversion lift of ``CONVERSION_LIFT`` (relative;
  orders and revenue move by the same share).
- ``subject_line``: control / a / b, no effect at all.
- ``landing_page``: planned 50/50, no effect, but a logging bug loses ``SRM_LOSS`` of the treated
  customers without pre-period revenue: a sample ratio mismatch (and a biased comparison).
- ``loyalty_reminder``: control / treatment; ``revenue = SLOPE * pre_revenue + noise`` with the
  noise variance equal to the explained variance, so CUPED with ``pre_revenue`` removes half of the
  variance (``rho^2 = 0.5``); treatment adds ``REVENUE_LIFT`` of the control mean.

Truth per experiment: variants, planned split, whether an SRM was planted, planted absolute and
relative lift per metric and variant (expected values over the experiment's customers) and, for
``loyalty_reminder``, the expected variance reduction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS = 21
PRE_DAYS = 56
BASE_RATE = 0.10
ACTIVE_RATE = 0.25
EXTRA_ORDERS = 0.3  # Poisson mean of orders beyond the first
ORDER_SHAPE, ORDER_SCALE = 2.0, 40.0  # Gamma order value: mean 80
CONVERSION_LIFT = 0.40
SRM_LOSS = 0.35
SLOPE = 0.8
REVENUE_LIFT = 0.05

#: name -> (start, variants, planned split, conversion lift per variant)
EXPERIMENTS = {
    "free_shipping": ("2025-04-07", ["control", "treatment"], [0.5, 0.5], {"treatment": CONVERSION_LIFT}),
    "subject_line": ("2025-06-02", ["control", "a", "b"], [1 / 3, 1 / 3, 1 / 3], {}),
    "landing_page": ("2025-08-04", ["control", "treatment"], [0.5, 0.5], {}),
    "loyalty_reminder": ("2025-10-06", ["control", "treatment"], [0.5, 0.5], {}),
}
COLUMNS = ["experiment", "unit_id", "variant", "timestamp", "converted", "orders", "revenue", "pre_revenue", "channel", "region"]


def _eligible(customers: pd.DataFrame, transactions: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    cust = customers[pd.to_datetime(customers["acquisition_date"]) < start]
    tx = transactions[
        (pd.to_datetime(transactions["order_date"]) >= start - pd.Timedelta(days=PRE_DAYS))
        & (pd.to_datetime(transactions["order_date"]) < start)
    ]
    pre = tx.groupby("customer_id")["revenue"].sum().clip(lower=0.0)
    out = cust[["customer_id", "channel", "region"]].reset_index(drop=True)
    out["pre_revenue"] = out["customer_id"].map(pre).fillna(0.0).round(2)
    return out


def _assign(rng, units: pd.DataFrame, variants: list[str], split: list[float], start: pd.Timestamp):
    variant = rng.choice(len(variants), size=len(units), p=split)
    day = rng.integers(0, DAYS, size=len(units))
    units = units.assign(variant=np.asarray(variants)[variant], timestamp=start + pd.to_timedelta(day, unit="D"))
    return units, variant


def _conversions(rng, units: pd.DataFrame, lift: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    p0 = np.where(units["pre_revenue"].to_numpy() > 0, ACTIVE_RATE, BASE_RATE)
    p = p0 * (1 + lift)
    converted = (rng.random(len(units)) < p).astype(int)
    orders = converted * (1 + rng.poisson(EXTRA_ORDERS, len(units)))
    value = rng.gamma(ORDER_SHAPE * np.maximum(orders, 1), ORDER_SCALE) * (orders > 0)
    return units.assign(converted=converted, orders=orders, revenue=np.round(value, 2)), p0


def _funnel_truth(p0: np.ndarray, variants: list[str], lifts: dict) -> dict:
    per_order = ORDER_SHAPE * ORDER_SCALE
    base = {
        "converted": p0.mean(),
        "orders": p0.mean() * (1 + EXTRA_ORDERS),
        "revenue": p0.mean() * (1 + EXTRA_ORDERS) * per_order,
    }
    out: dict = {}
    for metric, mean in base.items():
        out[metric] = {
            v: {"abs_lift": float(mean * lifts.get(v, 0.0)), "rel_lift": float(lifts.get(v, 0.0))} for v in variants[1:]
        }
    return out


def generate(rng: np.random.Generator, customers: pd.DataFrame, transactions: pd.DataFrame):
    """``experiments`` table (every experiment, an ``experiment`` column) and the planted truth."""
    frames, truth = [], {}
    for name, (start, variants, split, lifts) in EXPERIMENTS.items():
        start = pd.Timestamp(start)
        units = _eligible(customers, transactions, start)
        units, code = _assign(rng, units, variants, split, start)
        lift = np.array([lifts.get(v, 0.0) for v in variants])[code]
        units, p0 = _conversions(rng, units, lift)
        info = {
            "start": start.strftime("%Y-%m-%d"),
            "days": DAYS,
            "control": variants[0],
            "variants": variants,
            "planned_split": dict(zip(variants, split)),
            "srm": False,
            "effects": _funnel_truth(p0, variants, lifts),
        }
        if name == "landing_page":
            lost = (
                (units["variant"].to_numpy() == "treatment")
                & (units["pre_revenue"].to_numpy() == 0)
                & (rng.random(len(units)) < SRM_LOSS)
            )
            units = units[~lost]
            info["srm"] = True
            info["units_lost"] = int(lost.sum())
        if name == "loyalty_reminder":
            pre = units["pre_revenue"].to_numpy()
            explained = SLOPE**2 * pre.var()
            shape = 1.0
            scale = np.sqrt(explained / shape)  # Gamma noise variance = explained variance
            noise = rng.gamma(shape, scale, len(units))
            mean_control = SLOPE * pre.mean() + shape * scale
            treated = units["variant"].to_numpy() == "treatment"
            revenue = SLOPE * pre + noise + REVENUE_LIFT * mean_control * treated
            units = units.assign(revenue=np.round(revenue, 2))
            info["effects"]["revenue"] = {"treatment": {"abs_lift": float(REVENUE_LIFT * mean_control), "rel_lift": REVENUE_LIFT}}
            info["expected_variance_reduction"] = 0.5
            info["covariate"] = "pre_revenue"
        units = units.assign(experiment=name, unit_id=units["customer_id"])
        frames.append(units[COLUMNS])
        truth[name] = info
    table = pd.concat(frames, ignore_index=True)
    return {"experiments": table}, truth

"""Sample company: monthly marketing funnel (spend, leads, conversions by channel) and market size.

The funnel is built *from* the sample customers so that it is consistent with them: conversions in a
month and channel are exactly the customers acquired then through that channel. Channel economics are
planted relative to the value those customers actually realise in the sample transactions, so the
planted verdict (which channel pays back, which does not) holds whatever the customer generator does:

- ``value_c``   = realised gross margin (``GROSS_MARGIN`` x revenue, returns included) of the customers
  acquired through channel ``c``, divided by their number (a historical customer lifetime value);
- ``CAC_c``     = ``value_c / CLV_CAC_RATIO[c]`` (planted cost per acquired customer);
- ``spend``     = ``CAC_c`` x conversions x lognormal noise (months without conversions still cost a
  small base amount, so their CAC is undefined, not zero);
- ``leads``     = conversions + negative-binomial failures with the planted conversion rate (the number of
  leads needed to win that many customers), so conversions / leads estimates the planted rate.

Market size is our own regional revenue divided by a planted market share that drifts linearly over time
(with a little noise), so the share trajectory can be recovered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.sample.constants import CHANNELS, END, REGIONS, START

GROSS_MARGIN = 0.4
#: Planted conversion rate (customers per lead) by channel.
CONVERSION_RATE = {"search": 0.25, "social": 0.12, "email": 0.32, "affiliate": 0.18, "display": 0.05}
#: Planted CLV : CAC ratio by channel (CAC = realised value per customer / ratio).
CLV_CAC_RATIO = {"search": 5.0, "social": 1.8, "email": 8.0, "affiliate": 4.0, "display": 0.5}
#: Log-scale noise of monthly spend around planted CAC x conversions.
SPEND_NOISE_SD = 0.10
#: Planted market share by region at the first and the last month (linear drift in between).
SHARE_START = {"North": 0.040, "South": 0.025, "East": 0.030, "West": 0.035}
SHARE_END = {"North": 0.050, "South": 0.020, "East": 0.036, "West": 0.035}
SHARE_NOISE_SD = 0.02


def _months() -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(START).to_period("M").to_timestamp(), END, freq="MS")


def _channel_list(customers: pd.DataFrame) -> list[str]:
    extra = sorted(set(customers["channel"].astype(str)) - set(CHANNELS))
    return list(CHANNELS) + extra


def _realised_value(customers: pd.DataFrame, transactions: pd.DataFrame, channels: list[str]) -> dict:
    """Realised gross margin per acquired customer, by acquisition channel."""
    n = customers.groupby(customers["channel"].astype(str)).size()
    tx = transactions[["customer_id", "revenue"]].merge(
        customers[["customer_id", "channel"]].astype({"channel": str}), on="customer_id", how="inner"
    )
    margin = tx.groupby("channel")["revenue"].sum() * GROSS_MARGIN
    out = {}
    for c in channels:
        k = int(n.get(c, 0))
        out[c] = float(margin.get(c, 0.0)) / k if k else 0.0
    return out


def generate_funnel(rng: np.random.Generator, customers: pd.DataFrame, transactions: pd.DataFrame):
    """The ``marketing_funnel`` table (month, channel, spend, leads, conversions) and its truth."""
    months = _months()
    channels = _channel_list(customers)
    acq_month = pd.to_datetime(customers["acquisition_date"]).dt.to_period("M").dt.to_timestamp()
    counts = pd.DataFrame({"month": acq_month, "channel": customers["channel"].astype(str)}).groupby(["month", "channel"]).size()
    value = _realised_value(customers, transactions, channels)
    cac = {c: round(value[c] / CLV_CAC_RATIO.get(c, 2.0), 2) for c in channels}
    rows = []
    for c in channels:
        rate = CONVERSION_RATE.get(c, 0.15)
        for m in months:
            conv = int(counts.get((m, c), 0))
            failures = int(rng.negative_binomial(conv, rate)) if conv > 0 else 0
            noise = float(np.exp(rng.normal(0.0, SPEND_NOISE_SD)))
            base = conv if conv > 0 else 0.5  # an idle month still costs half a customer's worth
            rows.append(
                {
                    "month": m,
                    "channel": c,
                    "spend": round(cac[c] * base * noise, 2),
                    "leads": conv + failures,
                    "conversions": conv,
                }
            )
    funnel = pd.DataFrame(rows).sort_values(["month", "channel"], kind="stable").reset_index(drop=True)
    truth = {
        "gross_margin": GROSS_MARGIN,
        "realised_value_per_customer": {c: round(value[c], 2) for c in channels},
        "cac": cac,
        "clv_cac_ratio": {c: CLV_CAC_RATIO.get(c, 2.0) for c in channels},
        "conversion_rate": {c: CONVERSION_RATE.get(c, 0.15) for c in channels},
        "pays_back": {c: CLV_CAC_RATIO.get(c, 2.0) > 1.0 for c in channels},
        "meets_clv_cac_3x": {c: CLV_CAC_RATIO.get(c, 2.0) > 3.0 for c in channels},
        "spend_noise_sd": SPEND_NOISE_SD,
        "clv_definition": "realised gross margin (0.4 x revenue, to the end of the data) per acquired customer",
    }
    return funnel, truth


def generate_market(rng: np.random.Generator, transactions: pd.DataFrame):
    """The ``market_size`` table (month, region, market_size) and the planted share trajectory."""
    months = _months()
    regions = list(REGIONS) + sorted(set(transactions["region"].astype(str)) - set(REGIONS))
    tx_month = pd.to_datetime(transactions["order_date"]).dt.to_period("M").dt.to_timestamp()
    revenue = transactions.groupby([tx_month.rename("month"), transactions["region"].astype(str)])["revenue"].sum()
    region_mean = revenue.clip(lower=0).groupby(level=1).mean()
    t = np.linspace(0.0, 1.0, len(months))
    rows, trajectory = [], {}
    for r in regions:
        s0, s1 = SHARE_START.get(r, 0.03), SHARE_END.get(r, 0.03)
        share = s0 + (s1 - s0) * t
        trajectory[r] = [round(float(s), 5) for s in share]
        for m, s in zip(months, share):
            ours = max(float(revenue.get((m, r), 0.0)), 0.0)
            noise = float(np.exp(rng.normal(0.0, SHARE_NOISE_SD)))
            # a month without our sales still has a market: use the region's mean monthly revenue
            base = ours if ours > 0 else float(region_mean.get(r, 1000.0))
            rows.append({"month": m, "region": r, "market_size": round(base / s * noise, 2)})
    market = pd.DataFrame(rows).sort_values(["month", "region"], kind="stable").reset_index(drop=True)
    truth = {
        "share_start": {r: SHARE_START.get(r, 0.03) for r in regions},
        "share_end": {r: SHARE_END.get(r, 0.03) for r in regions},
        "share_noise_sd": SHARE_NOISE_SD,
        "share_months": [m.strftime("%Y-%m") for m in months],
        "share_trajectory": trajectory,
    }
    return market, truth


def generate(rng: np.random.Generator, customers: pd.DataFrame, transactions: pd.DataFrame):
    """Tables ``marketing_funnel`` and ``market_size`` plus the planted truth (JSON-able).

    ``customers`` needs ``customer_id, acquisition_date, channel, region``; ``transactions`` needs
    ``customer_id, order_date, revenue, region``.
    """
    funnel, funnel_truth = generate_funnel(rng, customers, transactions)
    market, market_truth = generate_market(rng, transactions)
    truth = {"marketing_funnel": funnel_truth, "market_size": market_truth}
    return {"marketing_funnel": funnel, "market_size": market}, truth

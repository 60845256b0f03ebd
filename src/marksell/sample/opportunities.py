"""Sample company: the market opportunities leadership could pursue next (one row each).

Planted truth
-------------
* ``leader_id`` ("OPP-07", *Nordic mid-market expansion*) is built to be the best choice: it is
  best on every criterion except market size (80 % of the largest) and investment (just below
  the median). It therefore ranks first under the weighted sum and TOPSIS with the default
  specification and under most weight perturbations, but it does not dominate every option, so the
  sensitivity analysis still has something to say.
* ``dominated_ids``: options planted as Pareto-dominated, each a strictly worse copy of the option
  named in ``dominated_by`` (worse on every criterion). The analysis must flag them and name that
  option among those that dominate them.

Criteria (units): ``market_size`` EUR m per year, ``growth_pct`` % per year, ``margin_pct`` gross
margin %, ``achievable_share_pct`` % of the market we could win, ``competitive_intensity`` 1-10
(cost), ``capability_fit`` 1-10, ``investment`` EUR m (cost), ``risk`` 1-10 (cost).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEADER_ID = "OPP-07"

#: (name, group) of every opportunity, in id order OPP-01 .. OPP-24.
_OPTIONS = [
    ("Benelux retail expansion", "market"),
    ("Iberia direct sales", "market"),
    ("Poland distributor", "market"),
    ("UK online marketplace", "market"),
    ("DACH enterprise accounts", "market"),
    ("Italy franchise model", "market"),
    ("Nordic mid-market expansion", "market"),
    ("US east-coast pilot", "market"),
    ("Small business bundle", "segment"),
    ("Public sector framework", "segment"),
    ("Healthcare buyers", "segment"),
    ("Education sector", "segment"),
    ("Hospitality chains", "segment"),
    ("Start-up programme", "segment"),
    ("Premium subscribers", "segment"),
    ("Student discount tier", "segment"),
    ("Smart-home add-on", "product"),
    ("Refurbished line", "product"),
    ("Private-label range", "product"),
    ("Service contracts", "product"),
    ("Eco refill packs", "product"),
    ("Analytics dashboard", "product"),
    ("Accessories kit", "product"),
    ("Legacy model refresh", "product"),
]

#: Planted dominated option -> the option it is a worse copy of.
_DOMINATED = {"OPP-24": "OPP-05", "OPP-16": "OPP-09"}

BENEFIT = ["market_size", "growth_pct", "margin_pct", "achievable_share_pct", "capability_fit"]
COST = ["competitive_intensity", "investment", "risk"]
CRITERIA = [
    "market_size",
    "growth_pct",
    "margin_pct",
    "achievable_share_pct",
    "competitive_intensity",
    "capability_fit",
    "investment",
    "risk",
]


def generate(rng: np.random.Generator, **inputs) -> tuple[dict[str, pd.DataFrame], dict]:
    """Generate ``opportunities`` (24 rows) and the planted truth (see the module docstring)."""
    n = len(_OPTIONS)
    ids = [f"OPP-{i + 1:02d}" for i in range(n)]
    df = pd.DataFrame(
        {
            "opportunity_id": ids,
            "name": [o[0] for o in _OPTIONS],
            "group": [o[1] for o in _OPTIONS],
            "market_size": np.clip(rng.lognormal(np.log(60), 0.45, n), 15, 180),
            "growth_pct": rng.normal(6.0, 3.5, n),
            "margin_pct": rng.normal(32.0, 7.0, n),
            "achievable_share_pct": rng.uniform(2.0, 12.0, n),
            "competitive_intensity": rng.uniform(3.0, 9.0, n),
            "capability_fit": rng.uniform(3.0, 8.5, n),
            "investment": np.clip(rng.lognormal(np.log(4.0), 0.4, n), 1.5, 12),
            "risk": rng.uniform(2.5, 8.5, n),
        }
    )
    others = df[df["opportunity_id"] != LEADER_ID]
    lead = df.index[df["opportunity_id"] == LEADER_ID][0]
    # clearly best on six criteria; large (not largest) market, mid-range investment
    df.loc[lead, "growth_pct"] = others["growth_pct"].max() + 2.0
    df.loc[lead, "margin_pct"] = others["margin_pct"].max() + 3.0
    df.loc[lead, "achievable_share_pct"] = others["achievable_share_pct"].max() + 1.0
    df.loc[lead, "capability_fit"] = 9.5
    df.loc[lead, "competitive_intensity"] = max(1.0, others["competitive_intensity"].min() - 0.5)
    df.loc[lead, "risk"] = max(1.0, others["risk"].min() - 0.5)
    df.loc[lead, "market_size"] = 0.8 * others["market_size"].max()
    df.loc[lead, "investment"] = others["investment"].quantile(0.4)
    # planted dominated options: strictly worse than their dominator on every criterion
    for bad, good in _DOMINATED.items():
        src = df.loc[df["opportunity_id"] == good].iloc[0]
        i = df.index[df["opportunity_id"] == bad][0]
        worse = rng.uniform(0.10, 0.25, len(CRITERIA))
        for c, f in zip(CRITERIA, worse):
            v = float(src[c])
            if c in BENEFIT:
                df.loc[i, c] = v - abs(v) * f - 0.2
            else:
                df.loc[i, c] = v + abs(v) * f + 0.2
    for c in ["competitive_intensity", "capability_fit", "risk"]:
        df[c] = df[c].clip(1.0, 10.0)
    df["achievable_share_pct"] = df["achievable_share_pct"].clip(lower=0.5)
    df = df.round(
        {
            "market_size": 1,
            "growth_pct": 1,
            "margin_pct": 1,
            "achievable_share_pct": 1,
            "competitive_intensity": 1,
            "capability_fit": 1,
            "investment": 2,
            "risk": 1,
        }
    )
    truth = {
        "leader_id": LEADER_ID,
        "dominated_ids": sorted(_DOMINATED),
        "dominated_by": dict(sorted(_DOMINATED.items())),
        "benefit_criteria": BENEFIT,
        "cost_criteria": COST,
    }
    return {"opportunities": df}, truth

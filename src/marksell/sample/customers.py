"""Sample company customers and their transactions, with planted behavioural segments.

Each customer is acquired on a day between 2023-01-01 and 2025-12-31 (more customers later: the
company grows), through one acquisition channel and in one region, and belongs to one of four
planted behavioural segments. Within a segment the purchase process is exactly BG/NBD and the
spend process exactly Gamma-Gamma, in **weeks**:

* while alive, repeat purchases arrive as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``
  (shape ``r``, rate ``alpha``: mean ``r / alpha`` purchases a week);
* after each repeat purchase the customer drops out for good with probability ``p ~ Beta(a, b)``;
* the value of each purchase is ``Gamma(p_gg, nu)`` (shape ``p_gg``, rate ``nu``) with
  ``nu ~ Gamma(q, gamma)`` per customer, so the mean spend is ``p_gg * gamma / (q - 1)``.

The first purchase happens on the acquisition day. About 3 % of orders are partly or wholly
returned a few days later (a row with negative revenue and the same ``order_id``). Returns are not
part of the planted spend process: the Gamma-Gamma truth describes gross order values.

Ground truth (``truth`` returned by :func:`generate`):

* ``segment_of``: ``{customer_id: segment name}`` (what clustering should recover);
* ``segments``: per segment its share, BG/NBD ``r, alpha, a, b``, Gamma-Gamma ``p, q, gamma`` and
  the implied means (purchases a week while alive, dropout probability, spend per order);
* ``population``: the mixture's mean purchase rate, mean dropout probability and mean spend per
  order, and single BG/NBD / Gamma-Gamma parameters moment-matched to the mixture. These are
  descriptive only: a mixture of four segments is not one BG/NBD population, and a pooled fit
  weights heavy buyers (who show most repeat purchases), so its parameters are not compared with
  them. Tests instead (1) fit BG/NBD and Gamma-Gamma on the customers of each planted segment and
  compare the implied mean purchase rate ``r/alpha``, mean dropout ``a/(a+b)`` and mean spend
  ``p*gamma/(q-1)`` with the planted ones, and (2) check that the pooled model predicts holdout
  repeat purchases of the whole base; a pure single-population simulation (in the tests) checks
  recovery of the parameters themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.sample.constants import CHANNELS, END, REGIONS, START

TIME_UNIT_DAYS = 7.0  # the planted parameters are per week

#: Planted segments: share of customers (before the channel mix), BG/NBD and Gamma-Gamma parameters.
SEGMENTS: dict[str, dict] = {
    "loyal high spenders": {"r": 9.0, "alpha": 26.0, "a": 1.0, "b": 200.0, "p": 30.0, "q": 60.0, "gamma": 826.0},
    "regular mid spenders": {"r": 6.0, "alpha": 60.0, "a": 1.0, "b": 100.0, "p": 30.0, "q": 60.0, "gamma": 256.0},
    "occasional bargain hunters": {"r": 4.0, "alpha": 100.0, "a": 1.0, "b": 3.0, "p": 30.0, "q": 60.0, "gamma": 23.6},
    "one-and-done": {"r": 1.0, "alpha": 400.0, "a": 8.0, "b": 1.0, "p": 30.0, "q": 60.0, "gamma": 78.7},
}

#: Share of each acquisition channel among new customers.
CHANNEL_SHARE = {"search": 0.30, "social": 0.22, "email": 0.15, "affiliate": 0.13, "display": 0.20}

#: Segment mix within each channel (order as in SEGMENTS): display brings mostly one-and-done,
#: email mostly loyal and regular customers.
CHANNEL_SEGMENT_MIX = {
    "search": [0.18, 0.32, 0.28, 0.22],
    "social": [0.10, 0.25, 0.35, 0.30],
    "email": [0.32, 0.40, 0.18, 0.10],
    "affiliate": [0.12, 0.30, 0.33, 0.25],
    "display": [0.05, 0.12, 0.23, 0.60],
}

REGION_SHARE = [0.30, 0.25, 0.25, 0.20]
N_CUSTOMERS = 3000
RETURN_RATE = 0.03


def _implied(par: dict) -> dict:
    return {
        "mean_rate_per_week": par["r"] / par["alpha"],
        "mean_dropout": par["a"] / (par["a"] + par["b"]),
        "mean_spend": par["p"] * par["gamma"] / (par["q"] - 1.0),
    }


def _moment_match_gamma(means: np.ndarray, variances: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    m = float(np.sum(w * means))
    v = float(np.sum(w * (variances + means**2)) - m**2)
    return m**2 / v, m / v  # shape, rate


def _moment_match_beta(means: np.ndarray, variances: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    m = float(np.sum(w * means))
    v = float(np.sum(w * (variances + means**2)) - m**2)
    k = m * (1 - m) / v - 1
    return m * k, (1 - m) * k


def _acquisition(rng: np.random.Generator, n_customers: int, span_days: int, n_segments: int):
    """Acquisition day (more customers later), channel, region and planted segment of each customer."""
    u = rng.random(n_customers)
    acq_day = np.floor(span_days * (np.sqrt(1.0 + 3.0 * u) - 1.0)).astype(int)  # density ∝ 1 + x
    acq_day = np.clip(acq_day, 0, span_days)
    acq_day.sort()
    channel_idx = rng.choice(len(CHANNELS), size=n_customers, p=[CHANNEL_SHARE[c] for c in CHANNELS])
    region_idx = rng.choice(len(REGIONS), size=n_customers, p=REGION_SHARE)
    seg_idx = np.empty(n_customers, dtype=int)
    for ci, ch in enumerate(CHANNELS):
        mask = channel_idx == ci
        seg_idx[mask] = rng.choice(n_segments, size=int(mask.sum()), p=CHANNEL_SEGMENT_MIX[ch])
    return acq_day, channel_idx, region_idx, seg_idx


def _purchases(rng: np.random.Generator, acq_day: np.ndarray, seg_idx: np.ndarray, names: list, span_days: int):
    """Customer index, day and gross revenue of every order (Gamma-Gamma spend per customer)."""
    rows_cust, rows_day, rows_rev = [], [], []
    for i in range(len(acq_day)):
        par = SEGMENTS[names[seg_idx[i]]]
        lam = rng.gamma(par["r"], 1.0 / par["alpha"])  # per week
        drop = rng.beta(par["a"], par["b"])
        nu = rng.gamma(par["q"], 1.0 / par["gamma"])
        days = _order_days(rng, lam, drop, acq_day[i], span_days)
        rows_cust.append(np.full(len(days), i))
        rows_day.append(days)
        rows_rev.append(rng.gamma(par["p"], 1.0 / nu, size=len(days)))
    cust = np.concatenate(rows_cust)
    day = np.minimum(np.concatenate(rows_day), span_days)
    rev = np.round(np.maximum(np.concatenate(rows_rev), 1.0), 2)
    return cust, day, rev


def _order_days(rng: np.random.Generator, lam: float, drop: float, first_day: int, span_days: int) -> np.ndarray:
    """Days of one customer's orders: a Poisson process at ``lam`` a week with dropout ``drop`` after each repeat."""
    horizon = (span_days - first_day) / TIME_UNIT_DAYS  # weeks observed after the first order
    times = [0.0]
    t = 0.0
    while True:
        t += rng.exponential(1.0 / lam)
        if t > horizon:
            break
        times.append(t)
        if rng.random() < drop:
            break
    return first_day + np.floor(np.asarray(times) * TIME_UNIT_DAYS).astype(int)


def _transactions(rng, cust, day, rev, cust_ids, channel_idx, region_idx, start, span_days) -> pd.DataFrame:
    """Orders plus a few % returns (2-30 days later, within the window), in date order."""
    n_orders = len(cust)
    unit_price = np.round(rng.uniform(12.0, 30.0, size=n_orders), 2)
    qty = np.maximum(1, np.round(rev / unit_price)).astype(int)
    order_ids = np.array([f"O{k + 1:06d}" for k in range(n_orders)])
    ret = rng.random(n_orders) < RETURN_RATE
    ret_day = day + rng.integers(2, 31, size=n_orders)
    ret &= ret_day <= span_days
    frac = np.where(rng.random(n_orders) < 0.6, 1.0, 0.5)
    ret_idx = np.flatnonzero(ret)

    def rows(idx, days, revenue, quantity):
        return pd.DataFrame(
            {
                "order_id": order_ids[idx],
                "customer_id": cust_ids[cust[idx]],
                "order_date": start + pd.to_timedelta(days, unit="D"),
                "revenue": revenue,
                "quantity": quantity,
                "channel": np.asarray(CHANNELS)[channel_idx[cust[idx]]],
                "region": np.asarray(REGIONS)[region_idx[cust[idx]]],
            }
        )

    every = np.arange(n_orders)
    orders = rows(every, day, rev, qty)
    returns = rows(
        ret_idx,
        ret_day[ret_idx],
        -np.round(rev[ret_idx] * frac[ret_idx], 2),
        -np.maximum(1, np.round(qty[ret_idx] * frac[ret_idx])).astype(int),
    )
    transactions = (
        pd.concat([orders, returns], ignore_index=True)
        .sort_values(["order_date", "order_id", "revenue"], ascending=[True, True, False], kind="stable")
        .reset_index(drop=True)
    )
    return transactions[["order_id", "customer_id", "order_date", "revenue", "quantity", "channel", "region"]]


def _population(w: np.ndarray, names: list) -> dict:
    """The mixture's mean rate, dropout and spend, and single BG/NBD / Gamma-Gamma moment-matched to it."""
    pars = [SEGMENTS[s] for s in names]
    r, al, a, b, pg, q, g = (np.array([p[k] for p in pars]) for k in ("r", "alpha", "a", "b", "p", "q", "gamma"))
    r_pop, alpha_pop = _moment_match_gamma(r / al, r / al**2, w)
    a_pop, b_pop = _moment_match_beta(a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1)), w)
    # spend: moment-match the mean order value p/nu across customers, keeping p at the weighted mean
    mean_spend = pg * g / (q - 1)
    var_spend = (pg * g) ** 2 / ((q - 1) ** 2 * (q - 2))
    p_pop = float(np.sum(w * pg))
    m_s = float(np.sum(w * mean_spend))
    v_s = float(np.sum(w * (var_spend + mean_spend**2)) - m_s**2)
    q_pop = 2.0 + m_s**2 / v_s  # inverse-gamma moments: var = mean^2 / (q - 2)
    gamma_pop = m_s * (q_pop - 1.0) / p_pop
    return {
        "mean_rate_per_week": round(float(np.sum(w * r / al)), 6),
        "mean_dropout": round(float(np.sum(w * a / (a + b))), 6),
        "mean_spend": round(m_s, 6),
        "moment_matched": {
            "r": round(r_pop, 4),
            "alpha": round(alpha_pop, 4),
            "a": round(a_pop, 4),
            "b": round(b_pop, 4),
            "p": round(p_pop, 4),
            "q": round(q_pop, 4),
            "gamma": round(gamma_pop, 4),
        },
        "comparison": "pooled fit's r/alpha, a/(a+b) and p*gamma/(q-1) against mean_rate_per_week, "
        "mean_dropout and mean_spend; per-segment fits against segments[*]",
    }


def _truth(seg_idx: np.ndarray, names: list, cust_ids: np.ndarray, end: pd.Timestamp) -> dict:
    """The planted truth (see module doc)."""
    n_customers = len(cust_ids)
    w = np.bincount(seg_idx, minlength=len(names)) / n_customers
    return {
        "time_unit": "week",
        "as_of": (end + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
        "n_customers": int(n_customers),
        "segment_names": names,
        "segment_of": {cid: names[s] for cid, s in zip(cust_ids, seg_idx)},
        "segments": {
            s: {**SEGMENTS[s], **{k: round(v, 6) for k, v in _implied(SEGMENTS[s]).items()}, "share": round(float(w[k]), 6)}
            for k, s in enumerate(names)
        },
        "population": _population(w, names),
        "channel_segment_mix": {c: dict(zip(names, CHANNEL_SEGMENT_MIX[c])) for c in CHANNELS},
        "return_rate": RETURN_RATE,
    }


def generate(rng: np.random.Generator, n_customers: int = N_CUSTOMERS):
    """Generate ``customers`` and ``transactions`` tables and the planted truth (see module doc)."""
    start, end = pd.Timestamp(START), pd.Timestamp(END)
    span_days = (end - start).days  # last acquisition day = END
    names = list(SEGMENTS)
    acq_day, channel_idx, region_idx, seg_idx = _acquisition(rng, n_customers, span_days, len(names))
    cust_ids = np.array([f"C{i + 1:05d}" for i in range(n_customers)])
    cust, day, rev = _purchases(rng, acq_day, seg_idx, names, span_days)
    transactions = _transactions(rng, cust, day, rev, cust_ids, channel_idx, region_idx, start, span_days)
    customers = pd.DataFrame(
        {
            "customer_id": cust_ids,
            "acquisition_date": start + pd.to_timedelta(acq_day, unit="D"),
            "channel": np.asarray(CHANNELS)[channel_idx],
            "region": np.asarray(REGIONS)[region_idx],
        }
    )
    return {"customers": customers, "transactions": transactions}, _truth(seg_idx, names, cust_ids, end)

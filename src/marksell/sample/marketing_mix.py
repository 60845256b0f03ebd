"""Sample company: a weekly marketing mix series (sales, price/promotion, spend per channel) with planted truth.

Three years of weeks (Mondays) for the funnel's channels. Sales are

    base x (1 + trend) x yearly season + price/promotion effect
    + sum over channels of effect_c x hill(adstock_c(spend_c)) + noise,

with geometric carry-over (``decay``, weights over ``MAX_LAG`` weeks summing to one) and Hill saturation
(``half_saturation`` in euros of weekly adstocked spend, ``shape``). Spends follow a plan as real ones do: a
shared seasonal budget curve, shared budget shocks (so channels are correlated), social and display bought
together (more correlated), display in flights with dark weeks, and each channel's own noise. ``display``
is planted near saturation (ROAS below one), ``email`` under-invested (highest marginal return).

The truth records, per channel, the planted parameters, the ROAS over the data (planted contribution /
spend), the marginal ROAS at today's spend (average of the last ``RECENT_WEEKS`` weeks, on the long-run
response curve ``effect x hill(spend)``), and the optimal split of today's total budget within +/- ``MAX_CHANGE``
of today's spend per channel, found by greedy water-filling on the planted curves (exact for concave curves;
all curves are concave inside those bounds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.sample.constants import CHANNELS, START

N_WEEKS = 156
MAX_LAG = 8
RECENT_WEEKS = 13
MAX_CHANGE = 0.3
BASE_SALES = 250_000.0
NOISE_SD = 3_000.0
#: Planted channel parameters: mean weekly spend, carry-over decay, half-saturation (EUR of weekly adstocked
#: spend), Hill shape and largest weekly effect (EUR). ``tv`` is only used when asked for (benchmark).
CHANNEL_PARAMS = {
    "search": {"mean_spend": 12_000, "decay": 0.15, "half_saturation": 12_000, "shape": 1.0, "effect": 72_000},
    "social": {"mean_spend": 8_000, "decay": 0.40, "half_saturation": 10_000, "shape": 1.5, "effect": 34_500},
    "email": {"mean_spend": 2_000, "decay": 0.30, "half_saturation": 6_000, "shape": 1.0, "effect": 48_000},
    "affiliate": {"mean_spend": 5_000, "decay": 0.20, "half_saturation": 5_000, "shape": 1.0, "effect": 25_000},
    "display": {"mean_spend": 9_000, "decay": 0.30, "half_saturation": 2_500, "shape": 1.2, "effect": 8_800},
    "tv": {"mean_spend": 15_000, "decay": 0.70, "half_saturation": 20_000, "shape": 2.0, "effect": 60_000},
}
#: Channels bought in flights (runs of weeks on, then dark weeks); the others are always on.
FLIGHTED = ("social", "email", "display", "tv")
#: Price index effect (sales change per unit of price index, as a share of base) and promotion lift.
PRICE_EFFECT = -1.2
PROMO_LIFT = 0.03


def _ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    e = rng.normal(0.0, sd * np.sqrt(1 - rho**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd)
    for t in range(1, n):
        out[t] = rho * out[t - 1] + e[t]
    return out


def _hill(x, half, shape):
    r = np.power(np.maximum(x, 0.0) / half, shape)
    return r / (1.0 + r)


def _adstock(spend: np.ndarray, decay: float) -> np.ndarray:
    w = decay ** np.arange(MAX_LAG)
    w = w / w.sum()
    padded = np.concatenate([np.repeat(spend[:1], MAX_LAG - 1), spend])
    return np.convolve(padded, w, mode="full")[MAX_LAG - 1 : MAX_LAG - 1 + len(spend)]


def _flights(rng: np.random.Generator, n: int) -> np.ndarray:
    """1 in on-weeks, 0 in dark weeks: runs of 5 to 10 weeks on, 2 to 4 off."""
    on = np.ones(n)
    t = int(rng.integers(4, 10))
    while t < n:
        dark = int(rng.integers(2, 5))
        on[t : t + dark] = 0.0
        t += dark + int(rng.integers(5, 11))
    return on


def _spends(rng: np.random.Generator, channels: list[str], n: int, season: np.ndarray) -> dict:
    common = _ar1(rng, n, 0.7, 0.15)
    paired = _ar1(rng, n, 0.6, 0.15)
    out = {}
    for c in channels:
        own = _ar1(rng, n, 0.5, 0.45)
        log_s = 1.5 * season + common + own + (paired if c in ("social", "display") else 0.0)
        s = CHANNEL_PARAMS[c]["mean_spend"] * np.exp(log_s - log_s.mean())
        if c in FLIGHTED:
            s = s * _flights(rng, n)
        out[c] = np.round(s, 2)
    return out


def response(channel: str, spend) -> np.ndarray:
    """Planted long-run weekly sales from a steady weekly ``spend`` on ``channel``."""
    p = CHANNEL_PARAMS[channel]
    return p["effect"] * _hill(np.asarray(spend, float), p["half_saturation"], p["shape"])


def planted_contribution(channel: str, spend) -> np.ndarray:
    """Planted weekly sales caused by ``channel``'s weekly ``spend`` series (carry-over and saturation)."""
    return response(channel, _adstock(np.asarray(spend, float), CHANNEL_PARAMS[channel]["decay"]))


def optimal_split(today: dict, budget: float, max_change: float = MAX_CHANGE, steps: int = 4000) -> dict:
    """Planted-optimal weekly spend per channel for ``budget`` within +/- ``max_change`` of ``today``
    (greedy water-filling on a grid of ``steps`` increments; exact for concave response curves)."""
    chans = list(today)
    lo = np.array([today[c] * (1 - max_change) for c in chans])
    hi = np.array([today[c] * (1 + max_change) for c in chans])
    step = (budget - lo.sum()) / steps
    alloc = lo.copy()
    for _ in range(steps):
        gain = np.array(
            [
                (response(c, alloc[i] + step) - response(c, alloc[i]))[()] if alloc[i] + step <= hi[i] + 1e-9 else -np.inf
                for i, c in enumerate(chans)
            ]
        )
        alloc[int(np.argmax(gain))] += step
    return {c: float(alloc[i]) for i, c in enumerate(chans)}


def generate(
    rng: np.random.Generator, channels: list[str] | None = None, n_weeks: int = N_WEEKS, constant_channel: str | None = None
):
    """Table ``mmm`` (date, sales, price_index, promo, spend_<channel>...) and its planted truth.

    ``channels`` defaults to the funnel's; ``constant_channel`` gives that channel the same spend every
    week (its effect cannot be told apart from the base: the model must say so).
    """
    channels = list(channels or CHANNELS)
    dates = pd.date_range(START, periods=n_weeks, freq="W-MON")
    t = np.arange(n_weeks, dtype=float)
    phase = 2 * np.pi * t / 52.18
    season = 0.10 * np.sin(phase - 1.2) + 0.04 * np.cos(2 * phase)
    spend = _spends(rng, channels, n_weeks, season)
    if constant_channel:
        spend[constant_channel] = np.full(n_weeks, float(CHANNEL_PARAMS[constant_channel]["mean_spend"]))
    promo = (rng.random(n_weeks) < 0.12).astype(int)
    price_index = np.round(1.0 - 0.08 * promo + rng.normal(0.0, 0.015, n_weeks), 4)
    base = BASE_SALES * (1 + 0.06 * t / 52.0 + season)
    controls = BASE_SALES * (PRICE_EFFECT * (price_index - 1.0) + PROMO_LIFT * promo)
    contrib = {c: planted_contribution(c, spend[c]) for c in channels}
    sales = base + controls + sum(contrib.values()) + rng.normal(0.0, NOISE_SD, n_weeks)
    table = pd.DataFrame({"date": dates, "sales": np.round(sales, 2), "price_index": price_index, "promo": promo})
    for c in channels:
        table[f"spend_{c}"] = spend[c]
    return {"mmm": table}, _truth(channels, spend, contrib, constant_channel)


def _truth(channels, spend, contrib, constant_channel) -> dict:
    today = {c: float(np.mean(spend[c][-RECENT_WEEKS:])) for c in channels}
    budget = sum(today.values())
    best = optimal_split(today, budget)
    total = sum(float(contrib[c].sum()) for c in channels)
    eps = 1e-3
    per_channel = {}
    for c in channels:
        p = CHANNEL_PARAMS[c]
        s0 = today[c]
        per_channel[c] = {
            "decay": p["decay"],
            "half_saturation": p["half_saturation"],
            "shape": p["shape"],
            "effect": p["effect"],
            "roas": float(contrib[c].sum() / spend[c].sum()),
            "mroas": float((response(c, s0 * (1 + eps)) - response(c, s0 * (1 - eps))) / (2 * eps * s0)),
            "today_spend": round(s0, 2),
            "optimal_spend": round(best[c], 2),
            "share_of_effect": float(contrib[c].sum() / total),
            "identified": c != constant_channel,
        }
    gain = sum(float(response(c, best[c]) - response(c, today[c])) for c in channels)
    corr = pd.DataFrame(spend).corr().round(3)
    return {
        "channels": per_channel,
        "max_lag": MAX_LAG,
        "recent_weeks": RECENT_WEEKS,
        "max_change": MAX_CHANGE,
        "adstock": "geometric (weights decay**lag over max_lag weeks, summing to one)",
        "saturation": "hill (adstocked weekly spend, half_saturation in EUR)",
        "budget": round(budget, 2),
        "optimal_uplift": round(gain, 2),
        "noise_sd": NOISE_SD,
        "price_effect": PRICE_EFFECT,
        "promo_lift": PROMO_LIFT,
        "near_saturation": "display",
        "under_invested": "email",
        "spend_correlation": corr.to_dict(),
    }

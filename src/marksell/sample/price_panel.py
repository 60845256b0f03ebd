"""Sample company: weekly store x product price panel with planted demand elasticities.

Demand (per product p, store s, week t)::

    log mu = a_p + store_s + season_c(t) + e_p log price + sum_j x_pj log price_j
             + lift_p promo + u_pt + v_pst
    units  ~ Poisson(mu), set to 0 in closure / stock-out weeks

Prices follow unit cost (store-week specific supplier and freight cost shocks, a valid
instrument: they move price but not demand) and promotions; for the ENDOGENOUS products
store managers also move price with the unobserved local demand shock ``v_pst``
(``+ gamma * v``), which biases a naive regression of sales on price towards zero.
Zero-unit weeks are legitimate: a store closed for a refit and random stock-outs, both
unrelated to price.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START = "2023-01-02"  # first Monday of the sample company's calendar
N_WEEKS = 156
N_STORES = 9
RECENT_WEEKS = 13  # window defining "current" price and cost for recommendations

# product: (category, base price, base cost, own elasticity, base weekly units, endogenous)
PRODUCTS = {
    "P01": ("coffee", 6.50, 3.20, -2.2, 90, False),
    "P02": ("coffee", 7.20, 3.30, -1.8, 70, True),
    "P03": ("coffee", 9.80, 6.10, -0.7, 45, False),
    "P04": ("coffee", 4.90, 2.90, -2.8, 120, False),
    "P05": ("snacks", 2.60, 1.25, -1.6, 150, False),
    "P06": ("snacks", 3.10, 2.15, -3.2, 110, True),
    "P07": ("snacks", 2.20, 1.10, -2.0, 160, True),
    "P08": ("snacks", 3.90, 2.40, -0.9, 60, False),
    "P09": ("cleaning", 5.40, 3.10, -2.5, 55, False),
    "P10": ("cleaning", 4.30, 2.00, -1.7, 65, False),
    "P11": ("cleaning", 8.90, 5.90, -3.0, 40, True),
    "P12": ("cleaning", 3.60, 2.10, -2.4, 80, False),
}
# (demand of, price of): cross-price elasticity; positive = substitutes, negative = complements
CROSS = {
    ("P01", "P02"): 0.5,
    ("P02", "P01"): 0.4,
    ("P05", "P07"): 0.3,
    ("P09", "P10"): 0.6,
    ("P10", "P09"): 0.3,
    ("P12", "P11"): -0.3,
}
ENDOGENOUS_GAMMA = 0.35  # how strongly endogenous prices follow the local demand shock
SEASON = {"coffee": (0.18, 0.0), "snacks": (0.12, 2.0), "cleaning": (0.08, 4.0)}  # amplitude, phase


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], rho: float, sd: float) -> np.ndarray:
    """AR(1) paths along the last axis with stationary standard deviation ``sd``."""
    eps = rng.normal(0.0, sd * np.sqrt(1 - rho**2), size=shape)
    out = np.empty(shape)
    out[..., 0] = rng.normal(0.0, sd, size=shape[:-1])
    for t in range(1, shape[-1]):
        out[..., t] = rho * out[..., t - 1] + eps[..., t]
    return out


def _season(dates: pd.DatetimeIndex, cat: np.ndarray) -> np.ndarray:
    """Log seasonal demand per product and week (amplitude and phase by category)."""
    doy = dates.day_of_year.to_numpy()
    season = np.zeros((len(cat), 1, len(dates)))
    for i, c in enumerate(cat):
        amp, phase = SEASON[str(c)]
        season[i, 0, :] = amp * np.sin(2 * np.pi * doy / 365.25 + phase)
    return season


def _truth(df: pd.DataFrame, dates, pids: list, cat, own_e, endog, log_lift) -> dict:
    """Planted elasticities, promotion lifts and the Lerner-rule optimal price over the recent weeks."""
    recent = df[df["date"] > dates[-1] - pd.Timedelta(weeks=RECENT_WEEKS)]
    cost_recent = recent.groupby("product_id")["unit_cost"].mean()
    price_recent = recent[recent["promo"] == 0].groupby("product_id")["price"].mean()
    optimal = {p: (round(float(cost_recent[p] * e / (1 + e)), 4) if e < -1 else None) for p, e in zip(pids, own_e)}
    return {
        "elasticities": {p: float(e) for p, e in zip(pids, own_e)},
        "categories": {p: str(c) for p, c in zip(pids, cat)},
        "endogenous_products": [p for p, flag in zip(pids, endog) if flag],
        "endogenous_gamma": ENDOGENOUS_GAMMA,
        "cross_elasticities": [{"product_id": i, "price_of": j, "elasticity": x} for (i, j), x in CROSS.items()],
        "promo_log_lift": {p: float(v_) for p, v_ in zip(pids, log_lift)},
        "promo_lift_pct": {p: round(float(np.expm1(v_) * 100), 2) for p, v_ in zip(pids, log_lift)},
        "instrument": "unit_cost (store-week cost shocks; moves price, not demand)",
        "recent_weeks": RECENT_WEEKS,
        "unit_cost_recent": {p: round(float(cost_recent[p]), 4) for p in pids},
        "price_recent": {p: round(float(price_recent[p]), 4) for p in pids},
        "optimal_price": optimal,
        "optimal_price_rule": "Lerner: p* = c * e / (1 + e), c = mean unit_cost over the last recent_weeks weeks",
        "zero_unit_weeks": int((df["units"] == 0).sum()),
        "zero_unit_reason": "store S04 closed 2024-03-04..2024-03-31 for a refit; random stock-outs",
    }


def generate(rng: np.random.Generator, **_inputs) -> tuple[dict[str, pd.DataFrame], dict]:
    """Generate ``price_panel`` (date, store_id, product_id, category, price, units, promo, unit_cost).

    Returns the table and a JSON-able truth: planted own and cross elasticities, which products
    have demand-responsive prices, promotion lifts, and the Lerner-rule optimal price
    ``p* = c e / (1 + e)`` computed from the last ``RECENT_WEEKS`` weeks' mean unit cost.
    """
    dates = pd.date_range(START, periods=N_WEEKS, freq="7D")
    stores = [f"S{i:02d}" for i in range(1, N_STORES + 1)]
    pids = list(PRODUCTS)
    n_p, n_s, n_t = len(pids), len(stores), len(dates)
    shape = (n_p, n_s, n_t)

    cat, base_price, base_cost, own_e, base_units, endog = _product_columns(pids)
    log_lift = np.round(rng.uniform(0.15, 0.45, size=n_p), 3)

    store_demand = rng.normal(0.0, 0.25, size=n_s)
    store_price = rng.normal(0.0, 0.04, size=n_s)
    cost = _unit_cost(rng, base_cost, shape)

    # demand shocks: common product-week part and local (store) part seen by store managers
    u = rng.normal(0.0, 0.06, size=(n_p, 1, n_t))
    v = rng.normal(0.0, 0.12, size=shape)

    promo, price = _shelf_prices(rng, base_price, base_cost, cost, store_price, endog, v)
    lp = np.log(price)

    season = _season(dates, cat)

    # intercept so that mean units at the base price are about base_units
    a = np.log(base_units) - own_e * np.log(base_price)
    log_mu = (
        a[:, None, None]
        + store_demand[None, :, None]
        + season
        + own_e[:, None, None] * lp
        + log_lift[:, None, None] * promo
        + u
        + v
    )
    for (i_id, j_id), x in CROSS.items():
        i, j = pids.index(i_id), pids.index(j_id)
        log_mu[i] += x * (lp[j] - np.log(base_price[j]))
    units = _units(rng, log_mu, dates, stores)
    df = _panel_table(dates, stores, pids, cat, price, units, promo, cost)
    return {"price_panel": df}, _truth(df, dates, pids, cat, own_e, endog, log_lift)


def _product_columns(pids: list[str]) -> tuple[np.ndarray, ...]:
    """The columns of :data:`PRODUCTS` for ``pids``: category, base price, base cost, own elasticity, base weekly
    units, endogenous flag."""
    cat = np.array([PRODUCTS[p][0] for p in pids])
    base_price = np.array([PRODUCTS[p][1] for p in pids])
    base_cost = np.array([PRODUCTS[p][2] for p in pids])
    own_e = np.array([PRODUCTS[p][3] for p in pids])
    base_units = np.array([PRODUCTS[p][4] for p in pids], dtype=float)
    endog = np.array([PRODUCTS[p][5] for p in pids])
    return cat, base_price, base_cost, own_e, base_units, endog


def _unit_cost(rng: np.random.Generator, base_cost: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Unit cost per product, store and week: product-week supplier cost plus product-store-week freight and
    local supply shocks (the instrument: it moves price, not demand)."""
    n_p, _, n_t = shape
    log_cost = np.log(base_cost)[:, None, None] + _ar1(rng, (n_p, 1, n_t), 0.9, 0.06) + _ar1(rng, shape, 0.5, 0.10)
    return np.round(np.exp(log_cost), 2)


def _shelf_prices(rng: np.random.Generator, base_price, base_cost, cost: np.ndarray, store_price, endog, v: np.ndarray):
    """Promotion weeks (10 %, 15-25 % off) and shelf prices: cost pass-through, store price level, noise, and for
    the endogenous products the local demand shock ``v``."""
    shape = cost.shape
    promo = (rng.random(shape) < 0.10).astype(int)
    depth = rng.uniform(0.15, 0.25, size=shape)
    log_price = (
        np.log(base_price)[:, None, None]
        + 0.8 * (np.log(cost) - np.log(base_cost)[:, None, None])
        + store_price[None, :, None]
        + rng.normal(0.0, 0.03, size=shape)
        + np.where(endog[:, None, None], ENDOGENOUS_GAMMA * v, 0.0)
        + promo * np.log1p(-depth)
    )
    return promo, np.round(np.exp(log_price), 2)


def _units(rng: np.random.Generator, log_mu: np.ndarray, dates: pd.DatetimeIndex, stores: list[str]) -> np.ndarray:
    """Poisson units around ``exp(log_mu)``, with the legitimate zero weeks: store S04 closed 4 weeks for a refit,
    random stock-outs (0.4 %)."""
    units = rng.poisson(np.exp(log_mu)).astype(float)
    closed = (dates >= "2024-03-04") & (dates < "2024-04-01")
    units[:, stores.index("S04"), closed] = 0
    units[rng.random(log_mu.shape) < 0.004] = 0
    return units


def _panel_table(dates, stores: list[str], pids: list[str], cat, price, units, promo, cost) -> pd.DataFrame:
    """The long ``price_panel`` table, one row per week, store and product, in that order."""
    n_p, n_s, n_t = len(pids), len(stores), len(dates)
    return (
        pd.DataFrame(
            {
                "date": np.tile(dates.to_numpy(), n_p * n_s),
                "store_id": np.tile(np.repeat(stores, n_t), n_p),
                "product_id": np.repeat(pids, n_s * n_t),
                "category": np.repeat(cat, n_s * n_t),
                "price": price.ravel(),
                "units": units.ravel().astype(int),
                "promo": promo.ravel(),
                "unit_cost": cost.ravel(),
            }
        )
        .sort_values(["date", "store_id", "product_id"], kind="stable")
        .reset_index(drop=True)
    )

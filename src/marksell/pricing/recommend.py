"""Price recommendations from estimated elasticities: Lerner rule, caps, uncertainty, curves.

Input: the table of :func:`marksell.pricing.fit_elasticities` and the price panel (its contract is
in :mod:`marksell.pricing`; ``unit_cost`` is required here). "Today" is the last ``recent_weeks``
weeks: the mean regular (non-promotion) price, the mean unit cost and mean weekly units per row.
Demand is taken as constant-elasticity through today's point, so changes are
``units: r^e - 1``, ``revenue: r^(1+e) - 1`` and ``profit: (r p0 - c) / (p0 - c) r^e - 1`` for a price
ratio ``r``; bands redo them at both ends of the elasticity's 95 % interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.errors import AnalysisError
from marksell.pricing.panel import ALL, check_panel


def current_position(panel: pd.DataFrame, recent_weeks: int = 13) -> pd.DataFrame:
    """Per product: current (regular, non-promo) price, unit cost and weekly units per store.

    "Current" = the last ``recent_weeks`` weeks of the panel (all rows when there is no date).
    """
    check_panel(panel, need_cost=True)
    d = panel if "product_id" in panel.columns else panel.assign(product_id=ALL)
    if "date" in d.columns:
        last = d["date"].max()
        d = d[d["date"] > last - pd.Timedelta(weeks=recent_weeks)]
    reg = d[d["promo"] == 0] if "promo" in d.columns else d
    g = d.assign(product_id=d["product_id"].astype(str)).groupby("product_id")
    out = pd.DataFrame(
        {
            "current_price": reg.assign(product_id=reg["product_id"].astype(str)).groupby("product_id")["price"].mean(),
            "unit_cost": g["unit_cost"].mean(),
            "current_units": g["units"].mean(),
        }
    )
    return out.reset_index()


def _changes(ratio, e, p0, c):
    units = ratio**e - 1
    revenue = ratio ** (1 + e) - 1
    profit = (ratio * p0 - c) / (p0 - c) * ratio**e - 1 if p0 > c else np.nan
    return units, revenue, profit


def recommend_prices(
    fits: pd.DataFrame, panel: pd.DataFrame, method: str = "iv", max_price_change: float = 0.2, recent_weeks: int = 13
) -> pd.DataFrame:
    """Profit-maximising price per product from the elasticity and unit cost, capped.

    Lerner rule ``p* = c e / (1 + e)`` where ``e < -1``; with ``-1 <= e < 0`` profit rises with price
    all the way, so the recommendation is the cap (``+max_price_change``) and says so; ``e >= 0`` or
    an unidentified elasticity gives no recommendation. Changes in units, revenue and profit are
    expected percentage changes under constant elasticity at the recommended price; ``*_low``/``*_high``
    recompute them at the two ends of the elasticity's 95 % interval (``optimal_price_low/high``: the
    Lerner price at those ends, when both are below -1).
    """
    if not 0 < max_price_change <= 1:
        raise AnalysisError(f"max_price_change must be in (0, 1]; got {max_price_change}.")
    pos = current_position(panel, recent_weeks).set_index("product_id")
    sub = fits[(fits["method"] == method) & (fits["level"] == "product")].set_index("product_id")
    if sub.empty:
        raise AnalysisError(f"No '{method}' rows in the elasticity table; choose a method that was fitted.")
    rows = []
    for p, r in sub.iterrows():
        p0, c = (pos.at[p, "current_price"], pos.at[p, "unit_cost"]) if p in pos.index else (np.nan, np.nan)
        rows.append(_product_recommendation(p, r, p0, c, max_price_change))
    return _recommendation_table(rows)


#: Columns of the table :func:`recommend_prices` returns, in order.
RECOMMENDATION_COLUMNS = [
    "product_id",
    "current_price",
    "unit_cost",
    "recommended_price",
    "change_pct",
    "units_change_pct",
    "revenue_change_pct",
    "profit_change_pct",
    "units_change_pct_low",
    "units_change_pct_high",
    "revenue_change_pct_low",
    "revenue_change_pct_high",
    "profit_change_pct_low",
    "profit_change_pct_high",
    "optimal_price",
    "optimal_price_low",
    "optimal_price_high",
    "elasticity",
    "elasticity_low",
    "elasticity_high",
    "status",
]


def _product_recommendation(product_id, fit: pd.Series, p0: float, c: float, max_price_change: float) -> dict:
    """One product's row from its elasticity ``fit``, current price ``p0`` and unit cost ``c``: the Lerner price,
    the recommendation within ``p0 * (1 +/- max_price_change)``, its status and the expected changes."""
    row = {
        "product_id": product_id,
        "current_price": p0,
        "unit_cost": c,
        "elasticity": fit["elasticity"],
        "elasticity_low": fit["ci_low"],
        "elasticity_high": fit["ci_high"],
        "optimal_price": np.nan,
        "recommended_price": np.nan,
        "status": "",
    }
    unavailable = _unavailable_reason(fit, p0, c)
    if unavailable:
        row["status"] = unavailable
        return row
    e = fit["elasticity"]
    lo, hi = p0 * (1 - max_price_change), p0 * (1 + max_price_change)
    if e < -1:
        opt = c * e / (1 + e)
        row["optimal_price"] = opt
        ends = [c * v / (1 + v) for v in (fit["ci_low"], fit["ci_high"]) if v < -1]
        if len(ends) == 2:  # Lerner price at both ends of the elasticity interval
            row["optimal_price_low"], row["optimal_price_high"] = min(ends), max(ends)
        rec = min(max(opt, lo), hi)
        row["status"] = "optimal" if lo <= opt <= hi else "capped at max_price_change"
    else:
        rec = hi
        row["status"] = "inelastic (|e| <= 1): profit rises with price; capped at max_price_change"
    row["recommended_price"] = rec
    if p0 <= c:
        row["status"] += "; today's price is at or below unit cost, so profit change vs today is not defined"
    row.update(_expected_changes(rec / p0, fit, p0, c))
    return row


def _unavailable_reason(fit: pd.Series, p0: float, c: float) -> str:
    """Why no price can be recommended (empty when one can): no identified elasticity, no unit cost, no
    current price, or an elasticity that is not negative."""
    if not fit["identified"]:
        return f"not identified: {fit['reason']}"
    if not (np.isfinite(c) and c > 0):
        return "not available: no unit cost for this product"
    if not np.isfinite(p0):
        return "not available: no regular-price weeks in the recent window"
    if fit["elasticity"] >= 0:
        return "not available: elasticity is not negative, no demand curve to optimise"
    return ""


def _expected_changes(ratio: float, fit: pd.Series, p0: float, c: float) -> dict:
    """Percentage changes of price, units, revenue and profit at ``ratio`` times today's price, at the
    elasticity and at both ends of its interval (``_low``/``_high`` as the interval's ends, not yet ordered)."""
    out = {"change_pct": (ratio - 1) * 100}
    for tag, ee in (("", fit["elasticity"]), ("_low", fit["ci_low"]), ("_high", fit["ci_high"])):
        u, rv, pr = _changes(ratio, ee, p0, c)
        out[f"units_change_pct{tag}"] = u * 100
        out[f"revenue_change_pct{tag}"] = rv * 100
        out[f"profit_change_pct{tag}"] = pr * 100
    return out


def _recommendation_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as :data:`RECOMMENDATION_COLUMNS`: every expected change's ``_low`` the lower of the two ends."""
    out = pd.DataFrame(rows)
    for base in ("units_change_pct", "revenue_change_pct", "profit_change_pct"):
        for tag in ("", "_low", "_high"):
            if f"{base}{tag}" not in out.columns:
                out[f"{base}{tag}"] = np.nan
        lo_hi = out[[f"{base}_low", f"{base}_high"]]
        out[f"{base}_low"], out[f"{base}_high"] = lo_hi.min(axis=1), lo_hi.max(axis=1)
    for col in ("change_pct", "optimal_price_low", "optimal_price_high"):
        if col not in out.columns:
            out[col] = np.nan
    return out[RECOMMENDATION_COLUMNS]


def response_curves(rec_row: pd.Series | dict, span: float = 0.4, points: int = 41, current_units: float = 1.0) -> pd.DataFrame:
    """Units, revenue and profit over prices ``current_price * (1 +/- span)`` for one product.

    Values are relative to ``current_units`` units per week at the current price; ``*_low``/``*_high``
    use the ends of the elasticity interval (constant-elasticity demand through the current point).
    """
    p0, c = float(rec_row["current_price"]), float(rec_row["unit_cost"])
    prices = np.linspace(p0 * (1 - span), p0 * (1 + span), points)
    out = {"price": prices}
    for tag, col in (("", "elasticity"), ("_low", "elasticity_low"), ("_high", "elasticity_high")):
        e = float(rec_row[col])
        q = current_units * (prices / p0) ** e
        out[f"units{tag}"] = q
        out[f"revenue{tag}"] = prices * q
        out[f"profit{tag}"] = (prices - c) * q
    return pd.DataFrame(out)


def explain_recommendations(recs: pd.DataFrame) -> str:
    """A few sentences summarising the recommended price moves, for the notebook."""
    ok = recs[recs["recommended_price"].notna()]
    if ok.empty:
        return "No recommendation could be made (see the status column)."
    up, down = ok[ok["change_pct"] > 0.5], ok[ok["change_pct"] < -0.5]
    capped = ok[ok["status"].str.contains("capped")]
    best = ok.sort_values("profit_change_pct", ascending=False).head(3)
    lines = [
        f"- Raise {len(up)} price(s), cut {len(down)}, leave {len(ok) - len(up) - len(down)} about where they are; "
        f"{len(capped)} recommendation(s) hit the maximum change and would go further without the cap.",
        "- Largest expected profit gains: "
        + ", ".join(
            f"{r['product_id']} ({r['change_pct']:+.0f} % price: {r['profit_change_pct']:+.1f} % profit, "
            f"range {r['profit_change_pct_low']:+.1f} to {r['profit_change_pct_high']:+.1f} %)"
            for _, r in best.iterrows()
        )
        + ".",
    ]
    skipped = recs[recs["recommended_price"].isna()]
    if len(skipped):
        lines.append(f"- No recommendation for {', '.join(skipped['product_id'])} (see status).")
    return "\n".join(lines)

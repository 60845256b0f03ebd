"""Cross-price elasticities within each category (own and cross, OLS or 2SLS) and their matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from marksell.errors import AnalysisError
from marksell.pricing.estimators import Z95, drop_constant, ols_fit, partial_out, tsls_fit
from marksell.pricing.panel import PanelDesign, check_panel, demean, term_values


# --------------------------------------------------------------------------- cross-price
def fit_cross_elasticities(
    panel: pd.DataFrame,
    method: str = "iv",
    fixed_effects: str = "both",
    controls: Sequence[str] = (),
    instruments: Sequence[str] = (),
    se_type: str = "HC1",
    seasonality: bool = True,
    min_obs: int = 30,
    min_price_sd: float = 0.01,
) -> pd.DataFrame:
    """Own and cross-price elasticities within each category (long table).

    For each product i: ``log units_i`` on the log prices of every product in its category in the
    same store-week (plus i's promo and controls, fixed effects absorbed). With ``method="iv"``
    every price is instrumented by the instruments of its own product (e.g. each product's unit
    cost). Positive cross elasticity = substitutes, negative = complements. Needs a category and
    a store and/or date column to match the weeks.
    """
    keys = _check_cross_inputs(panel, method, instruments)
    d, n_inst = _log_prices(panel, instruments if method == "iv" else [])
    rows = []
    for cat, cd in d.groupby("category", sort=True):
        prods = sorted(cd["product_id"].unique())
        wide = _category_prices(cd, keys, n_inst)
        for p in prods:
            own = cd[cd["product_id"] == p].merge(wide, on=keys)
            rows += _product_rows(
                own,
                cat,
                p,
                prods,
                n_inst,
                method=method,
                fixed_effects=fixed_effects,
                controls=controls,
                seasonality=seasonality,
                se_type=se_type,
                min_obs=min_obs,
                min_price_sd=min_price_sd,
            )
    return _cross_table(rows)


#: Columns of the cross-elasticity table before ``relation``.
CROSS_COLUMNS = [
    "category",
    "product_id",
    "price_of",
    "method",
    "elasticity",
    "std_error",
    "ci_low",
    "ci_high",
    "n_obs",
    "identified",
    "reason",
    "min_first_stage_f",
    "n_zero_units",
    "fixed_effects",
]


def _check_cross_inputs(panel: pd.DataFrame, method: str, instruments) -> list[str]:
    """A method of ``ols``/``iv`` (instruments for ``iv``) and a panel with product, category and the columns
    that line up the weeks (returned: ``store_id`` and/or ``date``)."""
    if method not in ("ols", "iv"):
        raise AnalysisError(f"cross elasticities support method 'ols' or 'iv'; got '{method}'.")
    if method == "iv" and not instruments:
        raise AnalysisError("method 'iv' needs instruments (e.g. ['log(unit_cost)']).")
    check_panel(panel)
    for col in ("product_id", "category"):
        if col not in panel.columns:
            raise AnalysisError(f"Cross elasticities need a '{col}' column.")
    keys = [c for c in ("store_id", "date") if c in panel.columns]
    if not keys:
        raise AnalysisError("Cross elasticities need store_id and/or date to line up prices of products.")
    return keys


def _log_prices(panel: pd.DataFrame, inst_names) -> tuple[pd.DataFrame, int]:
    """The panel with the log price ``_lp`` and the instruments' values ``_z0``, ``_z1``, ... (and their count)."""
    d = panel.copy()
    d["product_id"] = d["product_id"].astype(str)
    d["_lp"] = np.log(d["price"].to_numpy(float))
    inst_names = list(inst_names)
    for j, name in enumerate(inst_names):
        d[f"_z{j}"] = term_values(d, name, "instrument")
    return d, len(inst_names)


def _category_prices(cd: pd.DataFrame, keys: list[str], n_inst: int) -> pd.DataFrame:
    """One row per store-week of a category: every product's mean log price ``_lp|q`` and instruments ``_zj|q``."""
    wide = cd.pivot_table(index=keys, columns="product_id", values=["_lp"] + [f"_z{j}" for j in range(n_inst)], aggfunc="mean")
    return wide.set_axis([f"{a}|{b}" for a, b in wide.columns], axis=1).reset_index()


def _cross_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as :data:`CROSS_COLUMNS` plus ``relation``: own, substitute (interval above 0), complement
    (below 0), no clear effect, or not identified."""
    out = pd.DataFrame(rows).reindex(columns=CROSS_COLUMNS)
    out["relation"] = np.select(
        [out["product_id"] == out["price_of"], out["ci_low"] > 0, out["ci_high"] < 0],
        ["own", "substitute", "complement"],
        default="no clear effect",
    )
    out.loc[~out["identified"].astype(bool), "relation"] = "not identified"
    return out


def _product_rows(
    own: pd.DataFrame,
    cat,
    p: str,
    prods: list[str],
    n_inst: int,
    *,
    method: str,
    fixed_effects: str,
    controls,
    seasonality: bool,
    se_type: str,
    min_obs: int,
    min_price_sd: float,
) -> list[dict]:
    """Rows of product ``p``: its elasticity to the price of every product ``prods`` of its category, from
    ``own`` (its store-weeks with every product's log price ``_lp|q`` and instruments ``_zj|q``)."""
    price_cols = [f"_lp|{q}" for q in prods]
    z_cols = [f"_z{j}|{q}" for q in prods for j in range(n_inst)]
    own = own.dropna(subset=price_cols + z_cols)
    n_zero = int((own["units"] <= 0).sum())
    own = own[own["units"] > 0].reset_index(drop=True)
    base = {"category": cat, "product_id": p, "method": method, "fixed_effects": fixed_effects}
    if len(own) < min_obs:
        return [
            dict(
                base,
                price_of=q,
                identified=False,
                n_obs=len(own),
                reason=f"too few matched observations: n={len(own)} < min_obs={min_obs}",
            )
            for q in prods
        ]
    des = PanelDesign(
        own.drop(columns=[c for c in own.columns if c.startswith(("_lp", "_z"))]),
        fixed_effects,
        controls,
        [],
        seasonality,
        se_type,
    )
    y, _, w, _ = des.demeaned()
    w, _names = drop_constant(w, des.w_names)
    xp = demean(own[price_cols].to_numpy(float), des.groups)
    dof_fe = des.dof_fe(np.arange(len(own)))
    sds = np.sqrt((partial_out(xp, w) ** 2).mean(axis=0))
    if np.any(sds < min_price_sd):
        bad = [prods[j] for j in np.where(sds < min_price_sd)[0]]
        return [
            dict(base, price_of=q, identified=False, n_obs=len(own), reason=f"price of {bad} barely varies after fixed effects")
            for q in prods
        ]
    if method == "ols":
        fit = ols_fit(y, np.column_stack([xp, w]), des.clusters, dof_fe)
        fstat = None
    else:
        zz = demean(own[z_cols].to_numpy(float), des.groups)
        fit = tsls_fit(y, xp, w, zz, des.clusters, dof_fe)
        fstat = float(np.min(fit["first_stage_f"]))
    rows = []
    for j, q in enumerate(prods):
        b, se = float(fit["beta"][j]), float(np.sqrt(fit["cov"][j, j]))
        rows.append(
            dict(
                base,
                price_of=q,
                elasticity=b,
                std_error=se,
                ci_low=b - Z95 * se,
                ci_high=b + Z95 * se,
                n_obs=len(own),
                identified=True,
                reason="",
                min_first_stage_f=fstat,
                n_zero_units=n_zero,
            )
        )
    return rows


def cross_matrix(cross: pd.DataFrame, category: str, value: str = "elasticity") -> pd.DataFrame:
    """Square matrix for one category: rows = demand of, columns = price of."""
    sub = cross[cross["category"] == category]
    if sub.empty:
        raise AnalysisError(
            f"Category '{category}' not in the cross-elasticity table; known: {sorted(cross['category'].unique())}."
        )
    return sub.pivot(index="product_id", columns="price_of", values=value)

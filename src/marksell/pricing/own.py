"""Own-price elasticity per product and pooled per category, for each method (:func:`fit_elasticities`).

The model and estimator choices are stated once, in :mod:`marksell.pricing`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from marksell.errors import AnalysisError
from marksell.pricing.estimators import METHODS, RESULT_COLUMNS, empty_row, fit_linear, fit_ppml
from marksell.pricing.panel import ALL, PanelDesign


def fit_elasticities(
    panel: pd.DataFrame,
    methods: Sequence[str] = ("ols", "iv", "dml"),
    fixed_effects: str = "both",
    controls: Sequence[str] = (),
    instruments: Sequence[str] = (),
    se_type: str = "HC1",
    pooled: bool = True,
    seasonality: bool = True,
    min_obs: int = 30,
    min_price_sd: float = 0.01,
    weak_f: float = 10.0,
    seed: int = 7,
    dml_folds: int = 5,
) -> pd.DataFrame:
    """Own-price elasticity per product (and pooled per category) for each method.

    Returns one row per product (``level="product"``) and method, plus pooled rows per category
    (``level="category"``, ``product_id="pooled:<category>"``) for ``ols`` and ``iv``, with the columns ``RESULT_COLUMNS``.
    Rows that cannot be estimated have ``identified=False``, a ``reason`` and NaN numbers.
    ``iv`` needs ``instruments``; without them it raises. See :mod:`marksell.pricing` for the choices.
    """
    methods, controls, instruments = _check_methods(methods, controls, instruments)
    des = PanelDesign(panel, fixed_effects, controls, instruments, seasonality, se_type)
    cat_of = dict(zip(des.product, des.category)) if des.category is not None else {}
    full = panel if "product_id" in panel.columns else panel.assign(product_id=ALL)
    all_products = sorted(full["product_id"].astype(str).unique())
    idx_of = _rows_by_product(des)
    if "ppml" in methods:
        des_pois = PanelDesign(panel, fixed_effects, controls, [], seasonality, se_type, keep_zeros=True)
        idx_pois = {p: np.where(des_pois.product == p)[0] for p in all_products}
    rows = []
    common = {"fixed_effects": fixed_effects, "se_type": des.se_label}
    for method in methods:
        for p in all_products:
            base = dict(
                common,
                product_id=p,
                category=cat_of.get(p, _first(full, p)),
                level="product",
                method=method,
                n_zero_units=int(des.n_zero.get(p, 0)),
            )
            if method == "ppml":
                rows.append(fit_ppml(des_pois, idx_pois[p], min_obs, min_price_sd, base))
            elif p not in idx_of:
                rows.append(empty_row(**base, n_obs=0, reason="no weeks with positive units"))
            else:
                rows.append(fit_linear(des, idx_of[p], method, min_obs, min_price_sd, weak_f, seed, dml_folds, base))
        if pooled and des.category is not None and method in ("ols", "iv"):
            rows += _pooled_rows(des, method, common, (min_obs, min_price_sd, weak_f, seed, dml_folds))
    return _elasticity_table(rows)


def _check_methods(methods, controls, instruments) -> tuple[list, list, list]:
    """Known methods (lower case), an instrument for ``iv``, and no column both control and instrument."""
    methods = [m.lower() for m in methods]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise AnalysisError(f"Unknown method(s) {unknown}; choose from {list(METHODS)}.")
    if "iv" in methods and not instruments:
        raise AnalysisError(
            "method 'iv' needs at least one instrument column (e.g. instruments=['log(unit_cost)']); "
            "drop 'iv' from methods or name an instrument."
        )
    controls, instruments = list(controls or []), list(instruments or [])
    overlap = set(controls) & set(instruments)
    if overlap:
        raise AnalysisError(
            f"{sorted(overlap)} named both as control and instrument; an instrument must be excluded from the demand equation."
        )
    return methods, controls, instruments


def _rows_by_product(des: PanelDesign) -> dict:
    """``{product: its row positions in the design}`` for the products with positive-unit weeks."""
    order = np.argsort(des.prod_code, kind="stable")
    bounds = np.searchsorted(des.prod_code[order], np.arange(des.prod_code.max() + 2 if len(order) else 1))
    prods_in = sorted(set(des.product))
    return {p: order[bounds[i] : bounds[i + 1]] for i, p in enumerate(prods_in)}


def _pooled_rows(des: PanelDesign, method: str, common: dict, settings: tuple) -> list[dict]:
    """One row per category: a common slope over its products (``settings``: min_obs, min_price_sd, weak_f,
    seed, dml_folds, as :func:`fit_linear` takes them)."""
    rows = []
    for c in sorted(set(des.category)):
        idx = np.where(des.category == c)[0]
        members = sorted(set(des.product[idx]))
        base = dict(
            common,
            product_id=f"pooled:{c}",
            category=c,
            level="category",
            method=method,
            n_zero_units=int(sum(des.n_zero.get(p, 0) for p in members)),
        )
        row = fit_linear(des, idx, method, *settings, base)
        row["note"] = (row["note"] + "; " if row["note"] else "") + f"common slope over {len(members)} products"
        rows.append(row)
    return rows


def _elasticity_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as :data:`RESULT_COLUMNS`, flags as booleans and counts as integers."""
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    out["identified"] = out["identified"].astype(bool)
    out["weak_instrument"] = out["weak_instrument"].astype(bool)
    out["n_obs"] = out["n_obs"].fillna(0).astype(int)
    return out


def _first(full: pd.DataFrame, p: str):
    if "category" not in full.columns:
        return ""
    s = full.loc[full["product_id"].astype(str) == p, "category"]
    return str(s.iloc[0]) if len(s) else ""

"""Price elasticity of demand: log-log models, 2SLS, double machine learning, Poisson PML.

Column contract (``price_panel``, see the brief): ``price`` (>0) and ``units`` (>=0) are required;
``product_id``, ``store_id``, ``date``, ``category``, ``promo`` (0/1) and ``unit_cost`` are optional.
Without ``product_id`` the whole frame is one product ("all"); without ``store_id``/``date`` the
store/time fixed effects are unavailable, so a plain cross-section (one row per state, say) works
with ``fixed_effects="none"``.

Choices stated once, here:

* Model: ``log units = e * log price + controls + fixed effects + error``, one regression per product
  (and one pooled per category with a common ``e``). Controls are ``promo`` when present, yearly Fourier
  terms of the date (two harmonics) when there is no time fixed effect, and the user's ``controls``.
* Fixed effects are absorbed by within-demeaning (alternating projections over group means, using
  ``numpy.bincount``); no dummy matrix is ever built (a million rows demean in about a second).
  Fixed effects are interacted with the product (store x product, week x product), which makes the
  stacked demeaning identical to demeaning each product on its own.
* Standard errors: heteroskedasticity-robust HC1 by default (``se_type="HC1"``), or cluster-robust
  CR1 with ``se_type="cluster:<column>"``. The HC1 degrees-of-freedom correction counts the absorbed
  fixed effects; the cluster correction does not (fixed effects nested in clusters, as reghdfe does).
  Intervals are 95 % normal intervals.
* ``r2`` is the within R-squared when fixed effects are absorbed, the usual centred R-squared otherwise.
* Instruments and controls are column names, used in levels, or in logs when written ``log(column)``
  (the column must then be positive). Instruments are excluded from the demand equation.
* ``iv`` is two-stage least squares on the demeaned data; residuals for the standard errors use the
  actual (not fitted) price. ``first_stage_f`` is the robust Wald F of the excluded instruments in the
  first stage (same covariance type); F < 10 flags a weak instrument. ``endogeneity_p`` is a robust
  regression-based Durbin-Wu-Hausman test (small = prices respond to demand, the naive OLS is biased).
* ``dml`` is cross-fitted partialling-out (Chernozhukov et al. 2018): units, price (and instruments)
  are residualised on the controls (and store/week codes) with scikit-learn extra-trees
  (``ExtraTreesRegressor``, seeded) in K folds, then the
  residual-on-residual regression (or residual IV when instruments are named, the partially linear IV
  model) gives ``e``. Without instruments DML only removes confounding by the *observed* controls.
* Weeks with zero units are legitimate (a closed store, a stock-out); log-log methods exclude them and
  report the count in ``n_zero_units``; ``ppml`` (Poisson pseudo-maximum likelihood; IRLS with the same
  absorbed fixed effects by weighted demeaning, checked against statsmodels GLM) keeps them as a
  sensitivity check. It is a naive estimator: it does not correct for prices that follow demand.
* Rows whose control or instrument value is missing are left out and counted in ``note``.
* Identification guard: too few observations, a single price level, or too little price variation
  after fixed effects and controls give ``identified=False`` with the ``reason`` and no estimate.

Price recommendations from these estimates live in :mod:`marksell.pricing.recommend`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from marksell.errors import AnalysisError
from marksell.pricing.cross import cross_matrix, fit_cross_elasticities
from marksell.pricing.estimators import (
    METHODS,
    RESULT_COLUMNS,
    Z95,
    empty_row,
    fit_linear,
    fit_ppml,
    ols_fit,
    ppml_fit,
    tsls_fit,
)
from marksell.pricing.panel import (
    ALL,
    DEFAULT_FIXED_EFFECTS,
    DEFAULT_INSTRUMENTS,
    DEFAULT_METHODS,
    FIXED_EFFECTS,
    NO_INSTRUMENT_NOTE,
    PanelDesign,
    Settings,
    check_named_columns,
    check_panel,
    check_run_parameters,
    demean,
    filter_panel,
    load_panel,
    prepare_panel,
    resolve_settings,
    term_values,
)
from marksell.pricing.recommend import (
    current_position,
    explain_recommendations,
    recommend_prices,
    response_curves,
)
from marksell.pricing.summary import (
    compare_to_truth,
    describe_panel,
    explain_comparison,
    naive_vs_corrected,
    promo_lift,
    truth_coverage,
    wide_table,
)


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
    ``iv`` needs ``instruments``; without them it raises. See the module docstring for choices.
    """
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
    des = PanelDesign(panel, fixed_effects, controls, instruments, seasonality, se_type)
    cat_of = dict(zip(des.product, des.category)) if des.category is not None else {}
    full = panel if "product_id" in panel.columns else panel.assign(product_id=ALL)
    all_products = sorted(full["product_id"].astype(str).unique())
    order = np.argsort(des.prod_code, kind="stable")
    bounds = np.searchsorted(des.prod_code[order], np.arange(des.prod_code.max() + 2 if len(order) else 1))
    prods_in = sorted(set(des.product))
    idx_of = {p: order[bounds[i] : bounds[i + 1]] for i, p in enumerate(prods_in)}
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
                row = fit_linear(des, idx, method, min_obs, min_price_sd, weak_f, seed, dml_folds, base)
                row["note"] = (row["note"] + "; " if row["note"] else "") + f"common slope over {len(members)} products"
                rows.append(row)
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


__all__ = [
    "DEFAULT_FIXED_EFFECTS",
    "DEFAULT_INSTRUMENTS",
    "DEFAULT_METHODS",
    "FIXED_EFFECTS",
    "NO_INSTRUMENT_NOTE",
    "Settings",
    "Z95",
    "check_named_columns",
    "check_panel",
    "check_run_parameters",
    "compare_to_truth",
    "cross_matrix",
    "current_position",
    "demean",
    "describe_panel",
    "explain_comparison",
    "explain_recommendations",
    "filter_panel",
    "fit_cross_elasticities",
    "fit_elasticities",
    "load_panel",
    "naive_vs_corrected",
    "ols_fit",
    "ppml_fit",
    "prepare_panel",
    "promo_lift",
    "recommend_prices",
    "resolve_settings",
    "response_curves",
    "term_values",
    "truth_coverage",
    "tsls_fit",
    "wide_table",
]

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

The own-price fit is :func:`marksell.pricing.own.fit_elasticities`; price recommendations from these estimates live
in :mod:`marksell.pricing.recommend`.
"""

from __future__ import annotations

from marksell.pricing.cross import cross_matrix, fit_cross_elasticities
from marksell.pricing.estimators import (
    Z95,
    ols_fit,
    ppml_fit,
    tsls_fit,
)
from marksell.pricing.own import fit_elasticities
from marksell.pricing.panel import (
    ALL,
    DEFAULT_FIXED_EFFECTS,
    DEFAULT_INSTRUMENTS,
    DEFAULT_METHODS,
    FIXED_EFFECTS,
    NO_INSTRUMENT_NOTE,
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

__all__ = [
    "ALL",
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

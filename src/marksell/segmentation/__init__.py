"""Customer segmentation: RFM scores and segments, k-means clusters, predictive CLV (BG/NBD + Gamma-Gamma).

``rfm`` builds the RFM table, segments and clusters; ``clv`` fits the CLV models; ``summary`` builds the
notebook's tables and text; ``plots`` draws the figures (import it as ``from marksell.segmentation import plots``).
"""

from marksell.segmentation.clv import (
    MONTH_DAYS,
    TIME_UNITS,
    CLVResult,
    ModelFit,
    automatic_calibration_end,
    calibration_holdout,
    discounted_clv,
    expected_purchases,
    expected_purchases_new,
    expected_spend,
    fit_bgnbd,
    fit_clv,
    fit_gamma_gamma,
    holdout_check,
    p_alive,
    summary_data,
)
from marksell.segmentation.rfm import (
    REQUIRED,
    RFM_FEATURES,
    RFM_SEGMENT_RULES,
    ClusterResult,
    Occasions,
    action_table,
    bootstrap_stability,
    choose_k,
    clean_transactions,
    cluster_features,
    fit_clusters,
    name_clusters,
    pareto_concentration,
    purchase_occasions,
    rfm_scores,
    rfm_segments,
    rfm_table,
    segment_profiles,
    snake_data,
)
from marksell.segmentation.summary import (
    CUSTOMER_COLUMNS,
    agreement_with_planted,
    score_customers,
    summary_rows,
)

__all__ = [
    "CLVResult", "CUSTOMER_COLUMNS", "ClusterResult", "MONTH_DAYS", "ModelFit", "Occasions", "REQUIRED",
    "RFM_FEATURES", "RFM_SEGMENT_RULES", "TIME_UNITS", "action_table", "agreement_with_planted",
    "automatic_calibration_end", "bootstrap_stability", "calibration_holdout", "choose_k", "clean_transactions",
    "cluster_features", "discounted_clv", "expected_purchases", "expected_purchases_new", "expected_spend",
    "fit_bgnbd", "fit_clusters", "fit_clv", "fit_gamma_gamma", "holdout_check", "name_clusters", "p_alive",
    "pareto_concentration", "purchase_occasions", "rfm_scores", "rfm_segments", "rfm_table",
    "score_customers", "segment_profiles", "snake_data", "summary_data", "summary_rows",
]

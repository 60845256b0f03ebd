"""Opportunity prioritisation: weighted-sum, TOPSIS and AHP scores, their sensitivity to the weights.

``scoring`` builds the decision matrix and scores; ``sensitivity`` runs Monte Carlo and one-at-a-time weight
sweeps; ``summary`` builds the notebook's tables and text; ``plots`` draws the figures.
"""

from marksell.prioritisation.scoring import (
    DEFAULT_CRITERIA,
    EXAMPLE_AHP,
    METHOD_LABELS,
    METHODS,
    RANDOM_INDEX,
    AHPResult,
    ahp_weights,
    apply_ahp,
    benefit_matrix,
    check_run_parameters,
    criteria_spec,
    decision_matrix,
    entropy_weights,
    expected_value,
    ge_matrix,
    ge_zone,
    pareto_dominance,
    rank_agreement,
    resolve_criteria,
    score_methods,
    topsis,
    vector_normalise,
    weighted_sum,
    weights_table,
)
from marksell.prioritisation.sensitivity import (
    BatchScorer,
    MonteCarloResult,
    draw_weights,
    monte_carlo_ranks,
    oat_sweeps,
    oat_weights,
    weight_change_to_flip,
)
from marksell.prioritisation.summary import (
    PrioritisationResult,
    criterion_tradeoffs,
    portfolio_view,
    ranking_table,
    recommendation_text,
    run_prioritisation,
)

__all__ = [
    "AHPResult", "BatchScorer", "DEFAULT_CRITERIA", "EXAMPLE_AHP", "METHODS", "METHOD_LABELS", "MonteCarloResult",
    "PrioritisationResult", "RANDOM_INDEX", "ahp_weights", "apply_ahp", "benefit_matrix", "check_run_parameters",
    "criteria_spec", "criterion_tradeoffs", "decision_matrix", "draw_weights", "entropy_weights", "expected_value",
    "ge_matrix", "ge_zone", "monte_carlo_ranks", "oat_sweeps", "oat_weights", "pareto_dominance", "portfolio_view",
    "rank_agreement", "ranking_table", "recommendation_text", "resolve_criteria",
    "run_prioritisation", "score_methods", "topsis", "vector_normalise", "weight_change_to_flip", "weighted_sum",
    "weights_table",
]

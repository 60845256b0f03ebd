"""Campaign experiments (A/B tests): was the test sound, what did each variant change, what next.

Input: one row per randomisation unit (customer, visitor, account) with ``unit_id``, ``variant``,
metric columns (0/1 conversions, revenue, orders, ...), optional pre-period covariates (CUPED),
segment columns and an exposure timestamp; or a summary table ``variant, metric, n, sum, sum_sq``.

:func:`select_inputs` fits the notebook's parameters to the data (the experiment, the columns present);
:func:`run_experiment` does, in order: validation (:mod:`.validate`), sufficient statistics in one
vectorised pass (:mod:`.stats`), health checks (:mod:`.health`: sample ratio mismatch, units in
several variants, exposure balance over time), lifts with intervals and corrected p-values
(:mod:`.effects`: Welch, Newcombe, delta method, CUPED, Holm and Benjamini-Hochberg, guardrails),
always-valid intervals over time (:mod:`.sequential`), chance to beat control and expected loss
(:mod:`.bayes`), effects by segment with Cochran's Q (:mod:`.segments`), the planner for the next
test (:mod:`.power`) and the decision per variant (:mod:`.decision`). :mod:`.summary` turns a run
into the artifacts and finding sentences, :mod:`.plots` draws it.
"""

from __future__ import annotations

from marksell.experiments.brief import brief
from marksell.experiments.decision import DECISIONS, decide
from marksell.experiments.effects import RESULT_COLUMNS, adjust, guardrail_status, lift_table
from marksell.experiments.health import HEALTH_COLUMNS, SRM_ALPHA, health_table, sample_ratio
from marksell.experiments.inputs import Inputs, check_run_parameters, select_inputs
from marksell.experiments.power import POWER_COLUMNS, detectable_effect, plan, power_of, units_needed
from marksell.experiments.run import ExperimentRun, run_experiment
from marksell.experiments.sequential import always_valid_p, cumulative_moments, half_width, looks, mixing_rho
from marksell.experiments.stats import Metric, Moments, moments_from_aggregates, unit_moments

__all__ = [
    "DECISIONS",
    "HEALTH_COLUMNS",
    "POWER_COLUMNS",
    "RESULT_COLUMNS",
    "SRM_ALPHA",
    "ExperimentRun",
    "Inputs",
    "Metric",
    "Moments",
    "adjust",
    "always_valid_p",
    "brief",
    "check_run_parameters",
    "cumulative_moments",
    "decide",
    "detectable_effect",
    "guardrail_status",
    "half_width",
    "health_table",
    "lift_table",
    "looks",
    "mixing_rho",
    "moments_from_aggregates",
    "plan",
    "power_of",
    "run_experiment",
    "sample_ratio",
    "select_inputs",
    "unit_moments",
    "units_needed",
]

"""Marketing mix model and budget allocation: what each channel returns, and where the next euro should go.

Input (one row per period: day, week or month, inferred): a date, the outcome (revenue or conversions), one
spend column per channel (default: every column starting with ``spend_``), optional controls (price,
promotion, holidays). The notebook's steps:

1. :func:`prepare_series` checks the table (regular dates, no gaps in the outcome, complete non-negative
   spends, two seasons plus the holdout) and says what to fix;
2. :func:`fit_mix` fits ``outcome = base + trend + Fourier seasonality + controls + sum_c effect_c x
   saturation(adstock(spend_c))`` by variable projection (:mod:`marksell.mmm.model`), checks it on a holdout,
   flags channels that cannot be measured and bootstraps it (moving blocks, refits);
3. :func:`allocate_budget` splits a budget over the channels on the fitted response curves, with bounds,
   the uplift's interval and scenarios at 80/100/120 % of today's budget;
4. :func:`summary` builds the tables, ``summary.json`` and the findings in words.
"""

from __future__ import annotations

from marksell.mmm.allocate import SCENARIOS, Allocation, allocate_budget, optimise_split
from marksell.mmm.calibration import calibration_rows
from marksell.mmm.diagnostics import accuracy, identification, residual_sentences, spend_correlation
from marksell.mmm.fitting import MixFit, fit_mix
from marksell.mmm.model import MarketingMixModel
from marksell.mmm.series import MixSeries, channel_name, check_run_parameters, infer_freq, prepare_series
from marksell.mmm.summary import (
    allocation_table,
    carryover_caption,
    carryover_table,
    channel_table,
    decomposition,
    decomposition_caption,
    display_kinds,
    hyperparameters,
    outcome_unit,
    response_caption,
    response_curves,
    roas_caption,
    rule_comparison,
    share_caption,
    summary,
)

__all__ = [
    "SCENARIOS",
    "Allocation",
    "MarketingMixModel",
    "MixFit",
    "MixSeries",
    "accuracy",
    "allocate_budget",
    "allocation_table",
    "calibration_rows",
    "carryover_caption",
    "carryover_table",
    "channel_name",
    "check_run_parameters",
    "channel_table",
    "decomposition",
    "decomposition_caption",
    "display_kinds",
    "fit_mix",
    "hyperparameters",
    "identification",
    "infer_freq",
    "optimise_split",
    "outcome_unit",
    "prepare_series",
    "residual_sentences",
    "response_caption",
    "response_curves",
    "roas_caption",
    "rule_comparison",
    "share_caption",
    "spend_correlation",
    "summary",
]

"""Each analysis's executive summary says what its results say, and copes with results that lack a part."""

from __future__ import annotations

import json

import pytest

from marksell.reporting.briefs import BRIEFS, brief_for


@pytest.mark.parametrize("notebook", sorted(BRIEFS))
def test_every_brief_copes_with_a_minimal_summary(notebook):
    text = repr(BRIEFS[notebook]({}))
    assert text.startswith("In short: ")


def test_forecasting_brief_from_results():
    b = BRIEFS["sales_forecasting"](
        {
            "n_series": 4,
            "horizon": 8,
            "frequency": "W-MON",
            "mase_chosen": 0.9,
            "mase_snaive": 1.2,
            "coverage_chosen": {"80": 0.75, "95": 0.9},
            "driver_effects": {"price": {"effect_pct": -3.0, "lo_95_pct": -5.0, "hi_95_pct": -1.0}},
        }
    )
    text = repr(b)
    assert "4 series forecast 8 week(s) ahead." in text
    assert "25 % lower than a seasonal-naive forecast's (MASE 0.90 vs 1.20)" in text
    assert "price -3.0 % (-5.0 to -1.0)" in text and "The 80 % ranges held 75 %" in text


def test_kpi_brief_names_the_channels_that_do_not_pay_back():
    b = BRIEFS["kpi_scorecard"](
        {
            "period": "2026-03",
            "scorecard": [
                {"metric": "roas", "status": "off target"},
                {"metric": "conversion_rate", "status": "on target"},
                {"metric": "revenue", "status": "no target", "sentence": "Revenue rose 5 %."},
            ],
            "channel_verdict": {"tv": {"pays_back": False}, "email": {"pays_back": True}},
        }
    )
    assert repr(b).splitlines()[0] == (
        "In short: 2026-03: 1 of 2 measures with a target are on target. "
        "Off target: roas. Revenue rose 5 %. 1 of 2 channels pay back their "
        "acquisition cost; tv does not."
    )
    assert b.action == "Review spend on tv first."


def test_audit_brief_puts_contract_breaches_first():
    b = BRIEFS["data_audit"]({"inputs": {"orders": {"status": "failed"}, "funnel": {"status": "ok"}}})
    assert "1 breaking their data contract" in b.answer[0] and b.action.startswith("Fix the files")


def test_prioritisation_brief_reports_the_leader_and_what_would_change_it():
    b = BRIEFS["opportunity_prioritisation"](
        {
            "n_opportunities": 5,
            "methods": ["wsum", "topsis"],
            "top_choice": {"wsum": "B", "topsis": "B"},
            "stability": {"wsum": {"p_first_of_top_choice": 0.8, "n_draws": 1000}},
            "smallest_weight_change_to_change_top": {"criterion": "cost", "weight": 0.2, "weight_needed": 0.5, "new_top": "C"},
            "top_k_by_method": {"wsum": ["B", "C"]},
        },
        names={"B": "Beta", "C": "Gamma"},
    )
    text = repr(b)
    assert "Of 5 options, Beta comes first under every scoring method." in text
    assert "a weight of 0.50 on cost (now 0.20) would put Gamma first" in text
    assert "It stays first in 80 % of 1,000 random re-weightings" in text


def test_brief_for_reads_the_run_folder(tmp_path):
    assert brief_for("kpi_scorecard", tmp_path) is None  # no summary.json: the notebook's own intro opens
    (tmp_path / "summary.json").write_text(json.dumps({"customers": 12, "as_of": "2026-01-31"}))
    assert "12 customers analysed, as of 2026-01-31." in repr(brief_for("customer_segmentation", tmp_path))
    assert brief_for("no_such_notebook", tmp_path) is None


def test_experiment_brief_warns_on_sample_ratio_mismatch_and_states_decisions():
    b = BRIEFS["campaign_experiments"](
        {
            "control": "A",
            "primary_metric": "converted",
            "srm_flagged": True,
            "srm_p_value": 0.0004,
            "prior": "flat",
            "primary": {"B": {"rel_lift": 0.052, "rel_ci_low": 0.01, "rel_ci_high": 0.094, "prob_beat_control": 0.99}},
            "decisions": {"B": {"decision": "test invalid", "reasons": "sample ratio mismatch"}},
        }
    )
    text = repr(b)
    assert "B vs A: test invalid; converted +5.2% (95% interval +1.0% to +9.4%)." in text
    assert "sample ratio mismatch, p = 0.0004" in text and "not sound" in text
    assert b.action.startswith("Do not act on these lifts")


def test_marketing_mix_brief_ranks_channels_by_marginal_return():
    b = BRIEFS["marketing_mix"](
        {
            "outcome": "sales",
            "period": "week",
            "channels": {"tv": {"roas": 1.2, "mroas": 0.4}, "email": {"roas": 5.0, "mroas": 3.1}},
            "uplift": {"value": 4700.0, "lo": 3100.0, "hi": 6200.0},
            "accuracy": {"holdout": {"mape": 2.34, "n": 13}},
            "not_identified": {"radio": "constant spend"},
        }
    )
    text = repr(b)
    assert "returns most in email (3.10 per unit) and least in tv (0.40)" in text
    assert "adds 4.7 k of sales per week (interval 3.1 k to 6.2 k)" in text
    assert "held-out last 13 periods the model's error was 2.3 %" in text
    assert "radio: not identified (constant spend)" in text


def test_segmentation_brief_writes_money_in_the_run_currency():
    from marksell.segmentation.brief import brief

    summary = {"customers": 10, "as_of": "2026-01-31", "currency": "€", "clv": {"available": True, "total_clv": 890_090.0}}
    assert "Their expected future value (CLV) totals €890.09 k." in repr(brief(summary))

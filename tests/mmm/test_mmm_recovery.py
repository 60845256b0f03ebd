"""On the sample company: planted ROAS, marginal ROAS and the optimal split come back; holdout reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marksell import mmm
from marksell.sample import marketing_mix


def test_roas_recovered_for_every_identified_channel(mix_run, mix_sample):
    fit, _, out = mix_run
    _, truth = mix_sample
    ch = out["tables"]["channels"].set_index("channel")
    assert ch["identified"].all()
    for c, t in truth["channels"].items():
        r = ch.loc[c]
        within = abs(r["roas"] / t["roas"] - 1) <= 0.25
        covered = r["roas_lo"] <= t["roas"] <= r["roas_hi"]
        assert within or covered, (c, r["roas"], r["roas_lo"], r["roas_hi"], t["roas"])
        assert r["roas_lo"] <= r["roas"] <= r["roas_hi"]


def test_marginal_roas_orders_the_channels_as_planted(mix_run, mix_sample):
    _, _, out = mix_run
    _, truth = mix_sample
    ch = out["tables"]["channels"].set_index("channel")
    best = max(truth["channels"], key=lambda c: truth["channels"][c]["mroas"])
    worst = min(truth["channels"], key=lambda c: truth["channels"][c]["mroas"])
    assert ch["mroas"].idxmax() == best == truth["under_invested"]
    assert ch["mroas"].idxmin() == worst == truth["near_saturation"]


def test_recommended_split_captures_the_planted_optimal_uplift(mix_run, mix_sample):
    _, plan, _ = mix_run
    _, truth = mix_sample
    rec = plan.table.set_index("channel")["recommended_spend"]
    today = {c: t["today_spend"] for c, t in truth["channels"].items()}
    gain = sum(float(marketing_mix.response(c, rec[c]) - marketing_mix.response(c, today[c])) for c in today)
    assert gain >= 0.85 * truth["optimal_uplift"] > 0
    assert rec.sum() == pytest.approx(truth["budget"], rel=1e-6)
    assert np.all(np.abs(plan.table["change_pct"]) <= 30 + 1e-6)
    assert plan.uplift_lo <= plan.uplift <= plan.uplift_hi


def test_holdout_accuracy_is_reported(mix_run):
    fit, _, out = mix_run
    h = out["json"]["accuracy"]["holdout"]
    assert h["n"] == 13 and 0 < h["mape"] < 3 and h["r2"] > 0.8 and np.isfinite(h["nrmse"])
    assert any("MAPE" in f for f in out["findings"])


def test_constant_spend_channel_is_not_identified(generate_mix):
    tables, _ = generate_mix(seed=6, constant_channel="affiliate")
    series = mmm.prepare_series(tables["mmm"], controls=["price_index", "promo"])
    fit = mmm.fit_mix(series, n_bootstrap=5)
    plan = mmm.allocate_budget(fit)
    out = mmm.summary(fit, plan)
    ch = out["tables"]["channels"].set_index("channel")
    assert not ch.loc["affiliate", "identified"]
    assert "barely varies" in ch.loc["affiliate", "reason"] and np.isnan(ch.loc["affiliate", "roas"])
    assert ch.drop(index="affiliate")["identified"].all()
    assert "affiliate" not in plan.table["channel"].tolist()
    assert plan.budget == pytest.approx(series.today_spend.sum())
    assert "affiliate" in out["json"]["not_identified"]
    assert any(f.startswith("No ROAS for `affiliate`") for f in out["findings"])


def test_lockstep_channels_are_not_identified_but_stay_in_the_model(generate_mix):
    tables, _ = generate_mix(seed=6)
    table = tables["mmm"]
    table = table.assign(spend_affiliate=table["spend_search"] * 0.4 + 1.0)
    series = mmm.prepare_series(table, controls=["price_index", "promo"])
    fit = mmm.fit_mix(series, n_bootstrap=0)
    ident = fit.identification.set_index("channel")
    assert not ident.loc["search", "identified"] and not ident.loc["affiliate", "identified"]
    assert "lockstep with affiliate" in ident.loc["search", "reason"]
    assert "affiliate" in fit.channels  # modelled, so the other channels are not biased
    plan = mmm.allocate_budget(fit)
    t = plan.table.set_index("channel")
    assert t.loc["search", "recommended_spend"] == pytest.approx(t.loc["search", "current_spend"])


def test_same_inputs_give_the_same_artifacts(mix_run, mix_sample):
    fit, plan, out = mix_run
    table, _ = mix_sample
    again = mmm.fit_mix(mmm.prepare_series(table, controls=["price_index", "promo"]), n_bootstrap=200, seed=7)
    pd.testing.assert_frame_equal(mmm.channel_table(again), out["tables"]["channels"])

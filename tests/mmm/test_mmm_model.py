"""The estimator: exact recovery without noise, the estimator contract, calibration, other transforms."""

from __future__ import annotations

import numpy as np
import pytest

from marksell.mmm import MarketingMixModel
from marksell.sample import marketing_mix


def _arrays(table, channels):
    spend = table[[f"spend_{c}" for c in channels]].to_numpy(float)
    return spend, table["sales"].to_numpy(float), table[["price_index", "promo"]].to_numpy(float)


@pytest.fixture(scope="module")
def noise_free(monkeypatch_module):
    monkeypatch_module.setattr(marketing_mix, "NOISE_SD", 0.0)
    tables, truth = marketing_mix.generate(np.random.default_rng(5))
    return tables["mmm"], truth


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_without_noise_the_planted_curves_come_back(noise_free):
    table, truth = noise_free
    chans = list(truth["channels"])
    spend, y, ctrl = _arrays(table, chans)
    model = MarketingMixModel(max_lag=truth["max_lag"]).fit(spend, y, ctrl)
    assert model.fit(spend, y, ctrl) is model
    contrib = model.contributions(spend).sum(axis=0)
    for j, (c, p) in enumerate(zip(chans, model.hyperparameters())):
        t = truth["channels"][c]
        assert contrib[j] / spend[:, j].sum() == pytest.approx(t["roas"], rel=0.02), c
        assert p["decay"] == pytest.approx(t["decay"], abs=0.03), c
        assert p["half_saturation"] == pytest.approx(t["half_saturation"], rel=0.1), c
        assert p["shape"] == pytest.approx(t["shape"], rel=0.1), c
        assert model.marginal(spend[-13:].mean(axis=0))[0, j] == pytest.approx(t["mroas"], rel=0.05), c


def test_learned_attributes_end_in_underscore_and_unfitted_use_is_explained():
    model = MarketingMixModel(adstock="weibull", saturation="logistic", max_lag=6)
    assert model.get_params()["adstock"] == "weibull" and not hasattr(model, "coef_")
    with pytest.raises(RuntimeError, match="not fitted yet. Call 'fit'"):
        model.response(np.ones((1, 2)))


@pytest.mark.parametrize("adstock,saturation", [("weibull", "hill"), ("geometric", "logistic")])
def test_other_transforms_fit_the_sample_well(generate_mix, adstock, saturation):
    tables, truth = generate_mix(seed=4)
    spend, y, ctrl = _arrays(tables["mmm"], list(truth["channels"]))
    model = MarketingMixModel(adstock=adstock, saturation=saturation).fit(spend, y, ctrl)
    r2 = 1 - np.sum(model.resid_**2) / np.sum((y - y.mean()) ** 2)
    assert r2 > 0.98
    assert np.allclose(model.carryover().sum(axis=0), 1)
    assert np.all(model.coef_ >= 0)


def test_a_lift_test_pulls_the_channel_to_the_measured_lift(generate_mix):
    """An always-on channel's level is weakly identified; a lift test measuring its planted contribution
    over one quarter (5 % standard error) brings its contribution there and its ROAS near the truth."""
    tables, truth = generate_mix(seed=4)
    chans = list(truth["channels"])
    spend, y, ctrl = _arrays(tables["mmm"], chans)
    j = chans.index("search")
    mask = np.zeros(len(y), bool)
    mask[100:113] = True
    lift = marketing_mix.planted_contribution("search", spend[:, j])[mask].sum()
    plain = MarketingMixModel().fit(spend, y, ctrl)
    tests = [{"channel": j, "mask": mask, "lift": lift, "se": 0.05 * lift}]
    calibrated = MarketingMixModel().fit(spend, y, ctrl, calibration=tests, theta0=plain.theta_)
    before = plain.contributions(spend)[mask, j].sum()
    after = calibrated.contributions(spend)[mask, j].sum()
    assert abs(after / lift - 1) < 0.05 and abs(after - lift) < abs(before - lift)
    roas = calibrated.contributions(spend)[:, j].sum() / spend[:, j].sum()
    assert roas == pytest.approx(truth["channels"]["search"]["roas"], rel=0.1)

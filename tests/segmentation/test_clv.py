"""Tests of marksell.segmentation.clv: BG/NBD and Gamma-Gamma maximum likelihood, predictions, CLV, holdout.

Published CDNOW set-up (Fader, Hardie & Lee 2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426;
Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44. The real data are not read here: we simulate a
CDNOW-like cohort (acquired over 12 weeks, observed 39 weeks) from those parameters with a fixed
seed and check that the fit recovers them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from marksell.errors import AnalysisError
from marksell.sample import customers as sample_customers
from marksell.segmentation import clv

CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def simulate_bgnbd(n, params, T, rng):
    """Frequency and recency of ``n`` customers observed for ``T`` time units after their first purchase."""
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    drop = rng.beta(params["a"], params["b"], n)
    x, tx, t = np.zeros(n), np.zeros(n), np.zeros(n)
    alive = np.ones(n, bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1.0 / lam[idx])
        over = t[idx] > T[idx]
        alive[idx[over]] = False
        buy = idx[~over]
        x[buy] += 1
        tx[buy] = t[buy]
        alive[buy[rng.random(len(buy)) < drop[buy]]] = False
    return x, tx


@pytest.fixture(scope="module")
def cdnow_like():
    rng = np.random.default_rng(1997)
    n = 20_000
    T = 39.0 - rng.uniform(0, 12, n)  # first purchase in the first 12 weeks, 39-week calibration
    x, tx = simulate_bgnbd(n, CDNOW_BGNBD, T, rng)
    nu = rng.gamma(CDNOW_GG["q"], 1.0 / CDNOW_GG["gamma"], n)
    m = np.where(x > 0, rng.gamma(CDNOW_GG["p"] * np.maximum(x, 1), 1.0 / nu) / np.maximum(x, 1), 0.0)
    return x, tx, T, m


@pytest.fixture(scope="module")
def sample():
    tables, truth = sample_customers.generate(np.random.default_rng(42))
    return tables["transactions"], truth


def test_bgnbd_recovers_published_cdnow_parameters_within_3_standard_errors_and_15pct(cdnow_like):
    x, tx, T, _ = cdnow_like
    fit = clv.fit_bgnbd(x, tx, T)
    assert fit.converged
    for k, true in CDNOW_BGNBD.items():
        est, se = fit.params[k], fit.std_errors[k]
        assert abs(est - true) <= 3 * se, (k, est, se)
        assert abs(est - true) / true <= 0.15, (k, est)
        assert fit.ci_low[k] < est < fit.ci_high[k]


def test_gamma_gamma_recovers_published_cdnow_parameters_within_3_standard_errors(cdnow_like):
    x, _, _, m = cdnow_like
    fit = clv.fit_gamma_gamma(x, m)
    assert fit.converged and fit.n_obs == int((x > 0).sum())
    for k, true in CDNOW_GG.items():
        assert abs(fit.params[k] - true) <= 3 * fit.std_errors[k], (k, fit.params[k], fit.std_errors[k])
    implied = fit.params["p"] * fit.params["gamma"] / (fit.params["q"] - 1)
    assert implied == pytest.approx(6.25 * 15.44 / 2.74, rel=0.05)


def test_log_likelihood_equals_the_published_per_customer_formula(cdnow_like):
    """The likelihood summed by distinct frequency and T (and softplus per history) equals eq. 6 of Fader,
    Hardie & Lee (2005) written per customer, also with weights."""
    from scipy import special

    x, tx, T, _ = cdnow_like
    rng = np.random.default_rng(3)
    w = rng.integers(1, 4, len(x)).astype(float)
    for r, al, a, b in ([0.243, 4.414, 0.793, 2.426], [0.3, 5.0, 0.9, 2.0], [2.0, 30.0, 0.0002, 0.08]):
        a1 = special.gammaln(r + x) + r * np.log(al) - special.gammaln(r)
        a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
        a3 = -(r + x) * np.log(al + T)
        with np.errstate(divide="ignore"):
            a4 = np.where(x > 0, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(al + tx), -np.inf)
        direct = a1 + a2 + np.logaddexp(a3, a4)
        ll, _ = clv._bgnbd_ll_grad(np.array([r, al, a, b]), x, tx, T, w)
        assert ll == pytest.approx(np.sum(w * direct), rel=1e-12)


def test_analytic_gradients_match_finite_differences(cdnow_like):
    x, tx, T, m = cdnow_like
    th = np.array([0.3, 5.0, 0.9, 2.0])
    w = np.ones(len(x))
    _, g = clv._bgnbd_ll_grad(th, x, tx, T, w)
    for i in range(4):
        e = np.zeros(4)
        e[i] = 1e-6 * th[i]
        num = (clv._bgnbd_ll_grad(th + e, x, tx, T, w)[0] - clv._bgnbd_ll_grad(th - e, x, tx, T, w)[0]) / (2 * e[i])
        assert g[i] == pytest.approx(num, rel=1e-4)
    keep = x > 0
    thg = np.array([5.0, 3.0, 12.0])
    _, gg = clv._gg_ll_grad(thg, x[keep], m[keep], np.ones(keep.sum()))

    def f(t):
        return clv._gg_ll_grad(t, x[keep], m[keep], np.ones(keep.sum()))[0]

    for i in range(3):
        e = np.zeros(3)
        e[i] = 1e-6 * thg[i]
        assert gg[i] == pytest.approx((f(thg + e) - f(thg - e)) / (2 * e[i]), rel=1e-4)


def test_expected_purchases_matches_the_published_formula_and_p_alive():
    par = CDNOW_BGNBD
    r, al, a, b = par.values()
    x, tx, T, t = np.array([0.0, 2, 7]), np.array([0.0, 30.43, 35.0]), np.array([38.86, 38.86, 38.86]), 39.0
    # Fader, Hardie & Lee (2005) eq. 10, written out directly
    z = t / (al + T + t)
    num = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z))
    den = 1 + (x > 0) * a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x)
    assert clv.expected_purchases(par, t, x, tx, T) == pytest.approx(num / den, rel=1e-8)
    pa = clv.p_alive(par, x, tx, T)
    assert pa[0] == 1.0 and pa == pytest.approx(1 / den)
    # unconditional curve: increasing, zero at zero
    curve = clv.expected_purchases_new(par, np.array([1e-9, 10, 39, 78]))
    assert curve[0] == pytest.approx(0, abs=1e-8) and np.all(np.diff(curve) > 0)


def test_sample_segments_purchase_rate_within_15pct_and_spend_within_10pct(sample):
    tx, truth = sample
    s = clv.summary_data(tx, time_unit="W")
    seg = s["customer_id"].map(truth["segment_of"]).to_numpy()
    for name, par in truth["segments"].items():
        m = seg == name
        bg = clv.fit_bgnbd(s["frequency"][m], s["recency"][m], s["T"][m])
        rate = bg.params["r"] / bg.params["alpha"]
        assert rate == pytest.approx(par["mean_rate_per_week"], rel=0.15), name
        if s["frequency"][m].sum() >= 500:  # dropout is only identified with enough repeat purchases
            dropout = bg.params["a"] / (bg.params["a"] + bg.params["b"])
            assert dropout == pytest.approx(par["mean_dropout"], abs=0.08), name
        if (s["frequency"][m] > 0).sum() >= 50:
            gg = clv.fit_gamma_gamma(s["frequency"][m], s["monetary_value"][m])
            spend = gg.params["p"] * gg.params["gamma"] / (gg.params["q"] - 1)
            assert spend == pytest.approx(par["mean_spend"], rel=0.10), name


def test_sample_holdout_total_repeat_purchases_within_5pct(sample):
    tx, _ = sample
    cal = clv.calibration_holdout(tx, calibration_end="", time_unit="W")
    assert cal.attrs["calibration_end"] == pd.Timestamp("2024-12-31")  # last third held out
    h = clv.holdout_check(cal)
    assert abs(h["total_error_pct"]) <= 5.0, h["total_error_pct"]
    by = h["by_frequency"]
    assert by["customers"].sum() == len(cal) and list(by["calibration_repeats"])[-1] == "7+"
    assert h["customer_correlation"] > 0.7


def test_fit_clv_scores_every_customer_and_clv_follows_margin_and_discount(sample):
    tx, _ = sample
    base = clv.fit_clv(tx, horizon_months=12, discount_rate=0.0, gross_margin=1.0, net_of_returns=False)
    assert base.available and base.bgnbd.converged and set(base.params()) == {"r", "alpha", "a", "b", "p", "q", "gamma"}
    c = base.customers
    assert c["customer_id"].is_unique and c[["p_alive", "expected_purchases", "clv"]].notna().all().all()
    assert ((c["p_alive"] >= 0) & (c["p_alive"] <= 1)).all()
    # no discounting, full margin: CLV = expected purchases x expected spend
    assert np.allclose(c["clv"], c["expected_purchases"] * c["expected_spend"], rtol=1e-9)
    half = clv.fit_clv(tx, discount_rate=0.0, gross_margin=0.5, net_of_returns=False).customers["clv"]
    assert np.allclose(half, 0.5 * c["clv"])
    disc = clv.fit_clv(tx, discount_rate=0.2, gross_margin=1.0, net_of_returns=False).customers["clv"]
    assert (disc <= c["clv"] + 1e-12).all() and disc.sum() < c["clv"].sum()
    net = clv.fit_clv(tx, discount_rate=0.0, gross_margin=1.0)
    share = net.settings["return_share"]
    assert 0.005 < share < 0.05 and np.allclose(net.customers["clv"], (1 - share) * c["clv"])


def test_days_and_weeks_give_the_same_model():
    rng = np.random.default_rng(5)
    T = rng.uniform(20, 39, 3000)
    x, tx = simulate_bgnbd(3000, CDNOW_BGNBD, T, rng)
    w = clv.fit_bgnbd(x, tx, T)
    d = clv.fit_bgnbd(x, tx * 7, T * 7)
    assert d.params["r"] == pytest.approx(w.params["r"], rel=1e-3)
    assert d.params["alpha"] == pytest.approx(7 * w.params["alpha"], rel=1e-3)
    assert d.log_likelihood == pytest.approx(w.log_likelihood - (x * np.log(7)).sum(), rel=1e-6)


# ---------------------------------------------------------------------------------- bad input
def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue"]).assign(
        order_date=lambda d: pd.to_datetime(d["order_date"])
    )


def test_no_repeat_buyers_gives_documented_unavailable_result():
    tx = _tx([("A", "2024-01-01", 10.0), ("B", "2024-02-01", 20.0), ("C", "2024-03-01", 5.0)])
    res = clv.fit_clv(tx)
    assert not res.available and "repeat" in res.reason
    assert res.customers["clv"].isna().all() and len(res.customers) == 3
    with pytest.raises(AnalysisError, match="no customer made a repeat purchase"):
        clv.fit_bgnbd([0, 0], [0, 0], [3, 4])


def test_single_order_in_total_is_unavailable_not_a_traceback():
    res = clv.fit_clv(_tx([("A", "2024-01-01", 10.0)]))
    assert not res.available and "1 customer(s)" in res.reason


def test_gamma_gamma_needs_repeat_buyers_with_spend():
    with pytest.raises(AnalysisError, match="at least 3 repeat buyers"):
        clv.fit_gamma_gamma([1, 0, 0], [10.0, 0, 0])


def test_calibration_end_outside_the_period_is_explained(sample):
    tx, _ = sample
    with pytest.raises(AnalysisError, match="calibration_end 2030-01-01 must fall"):
        clv.calibration_holdout(tx, calibration_end="2030-01-01")


def test_bad_parameters_are_explained(sample):
    tx, _ = sample
    with pytest.raises(AnalysisError, match="gross_margin"):
        clv.fit_clv(tx, gross_margin=30)
    with pytest.raises(AnalysisError, match="time_unit"):
        clv.summary_data(tx, time_unit="fortnight")


def test_expected_purchases_finite_when_the_data_show_no_dropout():
    """Customers who keep buying push BG/NBD's a and b towards infinity (dropout probability a/(a+b) fixed);
    Euler's transform then overflows and the untransformed term takes over: finite, and continuous in the
    scale of a and b."""
    x, tx, T = np.array([0.0, 3.0, 11.0]), np.array([0.0, 40.0, 70.0]), np.array([80.0, 80.0, 80.0])
    huge = clv.expected_purchases({"r": 0.66, "alpha": 24.6, "a": 7036.3, "b": 116781.0}, 52, x, tx, T)
    larger = clv.expected_purchases({"r": 0.66, "alpha": 24.6, "a": 7036.3 * 1.5, "b": 116781.0 * 1.5}, 52, x, tx, T)
    assert np.isfinite(huge).all() and (huge > 0).all()
    np.testing.assert_allclose(huge, larger, rtol=0.02)
    # where both forms are finite they agree (the CDNOW parameters of Fader, Hardie & Lee 2005)
    cdnow = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    z = 39 / (4.414 + T + 39)
    direct = ((4.414 + T) / (4.414 + T + 39)) ** (0.243 + x) * special.hyp2f1(0.243 + x, 2.426 + x, 0.793 + 2.426 + x - 1, z)
    expected = (0.793 + 2.426 + x - 1) / (0.793 - 1) * (1 - direct) * clv.p_alive(cdnow, x, tx, T)
    np.testing.assert_allclose(clv.expected_purchases(cdnow, 39, x, tx, T), expected, rtol=1e-9)


def test_occasions_computed_once_give_the_same_results(sample):
    """RFM, summary data, CLV and the holdout from occasions computed once equal those computing their own;
    occasions made with other settings are refused."""
    from marksell.segmentation import rfm as sg

    tx = sample[0]
    occ = sg.purchase_occasions(tx, merge_same_day=True)
    pd.testing.assert_frame_equal(sg.rfm_table(tx, occasions=occ), sg.rfm_table(tx), check_exact=True)
    pd.testing.assert_frame_equal(clv.summary_data(tx, occasions=occ), clv.summary_data(tx), check_exact=True)
    pd.testing.assert_frame_equal(clv.calibration_holdout(tx, occasions=occ), clv.calibration_holdout(tx), check_exact=True)
    shared, own = clv.fit_clv(tx, occasions=occ), clv.fit_clv(tx)
    pd.testing.assert_frame_equal(shared.customers, own.customers, check_exact=True)
    assert shared.params() == own.params() and shared.notes == own.notes
    with pytest.raises(AnalysisError, match="merge_same_day=True"):
        sg.rfm_table(tx, merge_same_day=False, occasions=occ)
    with pytest.raises(AnalysisError, match="as_of"):
        clv.fit_clv(tx, as_of="2024-01-01", occasions=occ)


def test_implausible_dates_make_the_clv_a_warning_that_names_them():
    """Orders from 1900 beside 2023-2025 (the issue's case): the fit still runs, but its result carries a warning
    naming the customers and dates; the same orders without the 1900 rows carry none."""
    rng = np.random.default_rng(19)
    rows = []
    for i in range(120):
        first = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 400)))
        for d in np.sort(rng.integers(0, 500, 1 + rng.poisson(2))):
            rows.append((f"k{i:03d}", first + pd.Timedelta(days=int(d)), float(rng.gamma(2.0, 20.0))))
    tx = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue"])
    tx = tx[tx["order_date"] < "2025-06-01"]
    clean = clv.fit_clv(tx)
    assert clean.available and clean.warnings == []
    old = pd.DataFrame(
        {"customer_id": ["k000", "k001"], "order_date": pd.to_datetime(["1900-01-01", "1901-06-30"]), "revenue": [10.0, 12.0]}
    )
    res = clv.fit_clv(pd.concat([tx, old], ignore_index=True))
    assert res.available and len(res.warnings) == 1 and res.warnings[0] in res.notes, res.warnings
    assert res.warnings[0].startswith(
        "Implausible dates: 2 customer(s) have purchases dated 1900-01-01 to "
        "1901-06-30, 122 years before all other purchases (from 2023-02-14)"
    ), res.warnings

"""Price elasticity helpers: recovery of the planted sample truth, exact econometrics, guards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from marksell import pricing as el
from marksell.errors import AnalysisError, DataContractError, ParameterError
from marksell.pricing import panel as pricing_panel
from marksell.pricing import recommend as ep
from marksell.pricing import summary as el_summary
from marksell.sample import price_panel as pp

IV = ["log(unit_cost)"]


@pytest.fixture(scope="module")
def sample():
    tables, truth = pp.generate(np.random.default_rng(7))
    return tables["price_panel"], truth


@pytest.fixture(scope="module")
def fits(sample):
    panel, _ = sample
    return el.fit_elasticities(panel, methods=["ols", "iv", "ppml"], fixed_effects="both", instruments=IV)


# --------------------------------------------------------------------------- sample generator
def test_generator_is_deterministic_and_small(sample):
    panel, truth = sample
    again, truth2 = pp.generate(np.random.default_rng(7))
    pd.testing.assert_frame_equal(panel, again["price_panel"])
    assert truth == truth2
    assert list(panel.columns) == ["date", "store_id", "product_id", "category", "price", "units", "promo", "unit_cost"]
    assert len(panel.to_csv(index=False)) < 2_000_000
    assert (panel["units"] == 0).sum() == truth["zero_unit_weeks"] > 0
    es = np.array(list(truth["elasticities"].values()))
    assert es.min() >= -3.5 and es.max() <= -0.6 and (es < -1).sum() >= 8


# --------------------------------------------------------------------------- recovery of the truth
def test_iv_intervals_cover_planted_elasticities(fits, sample):
    _, truth = sample
    cmp = el.compare_to_truth(fits, truth["elasticities"])
    coverage = cmp.groupby("method")["covered"].mean()
    # 95 % intervals: at least 9 of 12 products cover the planted value for the corrected estimator
    assert coverage["iv"] >= 0.75, cmp[cmp["method"] == "iv"]
    assert coverage["ols"] < coverage["iv"]


def test_corrected_estimator_closer_on_endogenous_products(fits, sample):
    _, truth = sample
    cmp = el.compare_to_truth(fits, truth["elasticities"])
    endo = cmp[cmp["product_id"].isin(truth["endogenous_products"])]
    err = endo.assign(abs_err=endo["error"].abs()).pivot(index="product_id", columns="method", values="abs_err")
    assert (err["iv"] < err["ols"]).all()
    assert err["iv"].mean() < 0.25 * err["ols"].mean()
    # naive OLS is biased towards zero (prices rise with the unobserved demand shock)
    assert (endo[endo["method"] == "ols"]["error"] > 0.2).all()
    assert (fits.loc[fits["method"] == "iv", "first_stage_f"] > 100).all()


def test_dml_corrects_endogenous_products(sample):
    panel, truth = sample
    keep = truth["endogenous_products"][:2] + ["P01"]
    sub = el.filter_panel(panel, products=keep)
    fits = el.fit_elasticities(
        sub, methods=["ols", "dml"], fixed_effects="both", instruments=IV, pooled=False, seed=3, dml_folds=3
    )
    cmp = el.compare_to_truth(fits, truth["elasticities"]).set_index(["product_id", "method"])
    for p in truth["endogenous_products"][:2]:
        assert abs(cmp.at[(p, "dml"), "error"]) < 0.15 < abs(cmp.at[(p, "ols"), "error"])
    assert fits.loc[fits["method"] == "dml", "note"].str.contains("partially linear IV").all()
    again = el.fit_elasticities(sub, methods=["dml"], fixed_effects="both", instruments=IV, pooled=False, seed=3, dml_folds=3)
    np.testing.assert_allclose(again["elasticity"], fits.loc[fits["method"] == "dml", "elasticity"])


def test_pooled_category_rows(fits, sample):
    _, truth = sample
    pooled = fits[fits["level"] == "category"]
    assert set(pooled["method"]) == {"ols", "iv"}
    assert set(pooled["product_id"]) == {"pooled:coffee", "pooled:snacks", "pooled:cleaning"}
    iv = pooled[pooled["method"] == "iv"].set_index("category")
    for cat in ("coffee", "snacks", "cleaning"):
        members = [p for p, c in truth["categories"].items() if c == cat]
        lo = min(truth["elasticities"][p] for p in members)
        hi = max(truth["elasticities"][p] for p in members)
        assert lo <= iv.at[cat, "elasticity"] <= hi
        assert iv.at[cat, "n_obs"] == fits[(fits["method"] == "iv") & fits["product_id"].isin(members)]["n_obs"].sum()


def test_zero_weeks_excluded_and_counted_ppml_keeps_them(fits, sample):
    panel, truth = sample
    ols = fits[(fits["method"] == "ols") & (fits["level"] == "product")].set_index("product_id")
    ppml = fits[fits["method"] == "ppml"].set_index("product_id")
    zeros = panel[panel["units"] == 0].groupby("product_id").size()
    assert (ols["n_zero_units"] == zeros.reindex(ols.index, fill_value=0)).all()
    assert (ppml["n_obs"] == ols["n_obs"] + ols["n_zero_units"]).all()
    exo = [p for p in truth["elasticities"] if p not in truth["endogenous_products"]]
    err = (ppml.loc[exo, "elasticity"] - pd.Series(truth["elasticities"])[exo]).abs()
    assert err.max() < 0.25


def test_ppml_matches_statsmodels_glm(sample):
    panel, _ = sample
    d = panel[panel["product_id"] == "P03"]
    got = el.fit_elasticities(d, methods=["ppml"], fixed_effects="store").iloc[0]
    x = pd.DataFrame({"lp": np.log(d["price"]), "promo": d["promo"].astype(float)})
    x[["s1", "c1", "s2", "c2"]] = pricing_panel._fourier(d["date"])[0]
    x = pd.concat([x, pd.get_dummies(d["store_id"], dtype=float)], axis=1)
    ref = sm.GLM(d["units"].astype(float), x, family=sm.families.Poisson()).fit()
    assert got["elasticity"] == pytest.approx(ref.params["lp"], abs=1e-6)
    assert got["promo_coef"] == pytest.approx(ref.params["promo"], abs=1e-6)


def test_promo_lift_recovered(fits, sample):
    _, truth = sample
    lift = el.promo_lift(fits, "iv").set_index("product_id")
    true = pd.Series(truth["promo_lift_pct"])
    covered = (lift["ci_low_pct"] <= true) & (true <= lift["ci_high_pct"])
    assert covered.mean() >= 0.75
    assert (lift["lift_pct"] - true).abs().max() < 10  # percentage points


def test_cross_elasticities_recover_planted_pairs(sample):
    panel, truth = sample
    cross = el.fit_cross_elasticities(panel, method="iv", instruments=IV)
    got = cross.set_index(["product_id", "price_of"])
    for pair in truth["cross_elasticities"]:
        row = got.loc[(pair["product_id"], pair["price_of"])]
        assert abs(row["elasticity"] - pair["elasticity"]) < 0.2, pair
        assert row["relation"] == ("substitute" if pair["elasticity"] > 0 else "complement")
    own = cross[cross["relation"] == "own"].set_index("product_id")["elasticity"]
    assert ((own - pd.Series(truth["elasticities"])).abs() < 0.25).all()
    m = el.cross_matrix(cross, "coffee")
    assert m.shape == (4, 4) and list(m.index) == list(m.columns)


def test_recommendations_match_lerner_rule(fits, sample):
    """Stated tolerance: recommended (capped) price within 10 % of the cap applied to the Lerner price
    from the planted truth, for every product; uncapped optimum within 5 % for at least 3 in 4."""
    panel, truth = sample
    rec = ep.recommend_prices(fits, panel, method="iv", max_price_change=0.2).set_index("product_id")
    close = []
    for p, p_star in truth["optimal_price"].items():
        r = rec.loc[p]
        assert r["unit_cost"] == pytest.approx(truth["unit_cost_recent"][p], abs=1e-4)
        if p_star is None:  # inelastic: profit rises with price -> capped increase
            assert r["status"].startswith("inelastic")
            assert r["change_pct"] == pytest.approx(20.0)
            assert np.isnan(r["optimal_price"])
            continue
        capped = min(max(p_star, 0.8 * r["current_price"]), 1.2 * r["current_price"])
        assert r["recommended_price"] == pytest.approx(capped, rel=0.10)
        close.append(abs(r["optimal_price"] / p_star - 1) < 0.05)
        assert abs(r["change_pct"]) <= 20 + 1e-9
        assert r["profit_change_pct_low"] <= r["profit_change_pct"] <= r["profit_change_pct_high"]
        assert r["profit_change_pct"] >= -1e-9  # moving towards the optimum never loses profit
        assert r["optimal_price_low"] <= r["optimal_price"] <= r["optimal_price_high"]
    assert np.mean(close) >= 0.75
    # the naive elasticities would mis-price the demand-responsive products badly
    naive = ep.recommend_prices(fits, panel, method="ols").set_index("product_id")
    off = [abs(naive.at[p, "optimal_price"] / truth["optimal_price"][p] - 1) for p in truth["endogenous_products"]]
    assert np.median(off) > 0.15


def test_naive_vs_corrected_flags_demand_responsive_products(fits, sample):
    _, truth = sample
    cmp = el.naive_vs_corrected(fits, "ols", "iv", truth=truth["elasticities"])
    flagged = sorted(cmp.loc[cmp["prices_respond_to_demand"], "product_id"])
    assert flagged == sorted(truth["endogenous_products"])
    text = el.explain_comparison(cmp)
    assert "**4 of 12**" in text and "more price-sensitive" in text
    wide = el.wide_table(fits)
    assert list(wide.columns[:4]) == ["category", "ols", "iv", "ppml"]
    assert wide.loc["P01", "iv"].startswith("-2.") and "[" in wide.loc["P01", "iv"]


def test_response_curves_peak_at_lerner_price(fits, sample):
    panel, _ = sample
    rec = ep.recommend_prices(fits, panel, method="iv").set_index("product_id")
    r = rec.loc["P04"]
    curves = ep.response_curves(r, span=0.4, points=401)
    best = curves.loc[curves["profit"].idxmax(), "price"]
    assert best == pytest.approx(r["optimal_price"], rel=0.01)
    assert curves["units"].is_monotonic_decreasing


# --------------------------------------------------------------------------- exact econometrics
def _two_way_panel(seed=0, n_s=15, n_t=20):
    rng = np.random.default_rng(seed)
    s, t = np.meshgrid(np.arange(n_s), np.arange(n_t), indexing="ij")
    s, t = s.ravel(), t.ravel()
    keep = rng.random(len(s)) > 0.15  # unbalanced
    s, t = s[keep], t[keep]
    z = rng.normal(size=len(s))
    u = rng.normal(size=len(s))
    lp = 1 + 0.1 * s / n_s + 0.5 * z + 0.3 * u + rng.normal(0, 0.2, len(s))
    lq = 3 + 0.05 * s - 0.02 * t - 1.5 * lp + u
    return pd.DataFrame(
        {
            "store_id": [f"S{i}" for i in s],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(7 * t, "D"),
            "price": np.exp(lp),
            "units": np.exp(lq),
            "z": z,
        }
    )


def test_demeaning_equals_dummy_regression():
    df = _two_way_panel()
    got = el.fit_elasticities(df, methods=["ols"], fixed_effects="both", seasonality=False).iloc[0]
    x = pd.concat(
        [
            pd.DataFrame({"lp": np.log(df["price"])}),
            pd.get_dummies(df["store_id"], dtype=float),
            pd.get_dummies(df["date"].astype(str), drop_first=True, dtype=float),
        ],
        axis=1,
    )
    ref = sm.OLS(np.log(df["units"]), x).fit(cov_type="HC1")
    assert got["elasticity"] == pytest.approx(ref.params["lp"], abs=1e-8)
    assert got["std_error"] == pytest.approx(ref.bse["lp"], rel=1e-6)
    assert got["se_type"] == "HC1"


def test_tsls_matches_reference_with_fixed_effects():
    lm = pytest.importorskip("linearmodels")
    df = _two_way_panel(seed=1)
    got = el.fit_elasticities(df, methods=["iv"], fixed_effects="both", instruments=["z"], seasonality=False).iloc[0]
    dums = pd.concat(
        [pd.get_dummies(df["store_id"], dtype=float), pd.get_dummies(df["date"].astype(str), drop_first=True, dtype=float)],
        axis=1,
    )
    ref = lm.IV2SLS(np.log(df["units"]), dums, np.log(df["price"]).rename("lp"), df[["z"]]).fit(cov_type="robust", debiased=True)
    assert got["elasticity"] == pytest.approx(ref.params["lp"], abs=1e-8)
    assert got["std_error"] == pytest.approx(ref.std_errors["lp"], rel=1e-6)


def _cross_section(seed=5, n=48):
    """A synthetic stand-in for the cigarette cross-section (one row per state, no store/time)."""
    rng = np.random.default_rng(seed)
    cpi = 1.5
    income = rng.lognormal(10, 0.2, n) * 1e6
    population = rng.integers(500_000, 20_000_000, n)
    tax, taxs_extra = rng.uniform(20, 60, n), rng.uniform(0, 15, n)
    u = rng.normal(0, 0.15, n)
    lp = np.log(200) + 0.004 * taxs_extra + 0.006 * tax + 0.5 * u + rng.normal(0, 0.05, n)
    lq = 10 - 1.2 * lp + 0.3 * np.log(income / population / cpi) + u
    return pd.DataFrame(
        {
            "state": [f"X{i:02d}" for i in range(n)],
            "year": 1995,
            "cpi": cpi,
            "packs": np.exp(lq),
            "price": np.exp(lp) * cpi,
            "tax": tax,
            "taxs": tax + taxs_extra,
            "income": income,
            "population": population,
        }
    )


def test_cross_section_2sls_hc1_through_parameters():
    raw = pd.concat([_cross_section(), _cross_section(seed=6).assign(year=1985)])
    panel = el.prepare_panel(
        raw,
        columns={"packs": "units", "rprice": "price", "price": "nominal_price"},
        derive={
            "rprice": "price / cpi",
            "salestax": "(taxs - tax) / cpi",
            "cigtax": "tax / cpi",
            "rincome": "income / population / cpi",
        },
        query="year == 1995",
    )
    assert len(panel) == 48
    got = el.fit_elasticities(
        panel, methods=["ols", "iv"], fixed_effects="none", controls=["log(rincome)"], instruments=["salestax", "cigtax"]
    ).set_index("method")
    y, lp = np.log(panel["units"]), np.log(panel["price"])
    exog = sm.add_constant(np.log(panel["rincome"]).rename("li"))
    ols = sm.OLS(y, pd.concat([lp.rename("lp"), exog], axis=1)).fit(cov_type="HC1")
    assert got.at["ols", "elasticity"] == pytest.approx(ols.params["lp"], abs=1e-8)
    assert got.at["ols", "std_error"] == pytest.approx(ols.bse["lp"], rel=1e-6)
    assert got.at["ols", "r2"] == pytest.approx(ols.rsquared, abs=1e-8)
    # 2SLS by hand with HC1 from structural residuals
    z = np.column_stack([panel[["salestax", "cigtax"]], exog])
    x = np.column_stack([lp, exog])
    xhat = z @ np.linalg.lstsq(z, x, rcond=None)[0]
    b = np.linalg.solve(xhat.T @ xhat, xhat.T @ y)
    e = y - x @ b
    bread = np.linalg.inv(xhat.T @ xhat)
    cov = bread @ (xhat * e.to_numpy()[:, None] ** 2).T @ xhat @ bread * len(y) / (len(y) - 3)
    assert got.at["iv", "elasticity"] == pytest.approx(b[0], abs=1e-8)
    assert got.at["iv", "std_error"] == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-6)
    assert got.at["iv", "product_id"] == el.ALL and got.at["iv", "first_stage_f"] > 10


# --------------------------------------------------------------------------- guards and bad input
def test_not_identified_rows_say_why(sample):
    panel, _ = sample
    d = panel[panel["product_id"].isin(["P01", "P04", "P05"])].copy()
    # P01: only 3 weeks; P04: a single price level; P05: price moves by a hair
    d = d[(d["product_id"] != "P01") | (d["date"] < "2023-01-20")]
    d.loc[d["product_id"] == "P04", "price"] = 4.99
    m = d["product_id"] == "P05"
    d.loc[m, "price"] = 2.5 * (1 + 0.001 * np.random.default_rng(0).standard_normal(m.sum()))
    out = el.fit_elasticities(d, methods=["ols", "iv"], fixed_effects="both", instruments=IV, pooled=False).set_index(
        ["product_id", "method"]
    )
    assert "too few observations" in out.at[("P01", "ols"), "reason"]
    assert "single price level" in out.at[("P04", "iv"), "reason"]
    assert "price barely varies" in out.at[("P05", "ols"), "reason"]
    bad = out.loc[["P01", "P04", "P05"]]
    assert (~bad["identified"]).all() and bad["elasticity"].isna().all()
    rec = ep.recommend_prices(out.reset_index(), d, method="iv").set_index("product_id")
    assert rec.at["P04", "status"].startswith("not identified: a single price level")


def test_weak_instrument_flagged(sample):
    panel, _ = sample
    d = panel[panel["product_id"] == "P02"].copy()
    d["noise"] = np.random.default_rng(1).normal(size=len(d))
    row = el.fit_elasticities(d, methods=["iv"], fixed_effects="both", instruments=["noise"]).iloc[0]
    assert row["first_stage_f"] < 10 and row["weak_instrument"] and "weak instrument" in row["note"]


@pytest.mark.parametrize(
    "mutate, kwargs, fragment",
    [
        (lambda d: d.assign(price=d["price"].where(d.index != 5, 0.0)), {}, "zero or negative price"),
        (lambda d: d.assign(units=d["units"].where(d.index != 7, -3)), {}, "negative units"),
        (lambda d: d, {"instruments": ["freight"]}, "Unknown instrument column 'freight'"),
        (lambda d: d, {"instruments": []}, "method 'iv' needs at least one instrument"),
        (lambda d: d.drop(columns="store_id"), {"fixed_effects": "store"}, "needs a 'store_id' column"),
        (lambda d: d.assign(x=0.0), {"controls": ["log(x)"]}, "its log is undefined"),
        (lambda d: d, {"methods": ["lasso"]}, "Unknown method(s) ['lasso']"),
    ],
)
def test_bad_input_gives_clear_message(sample, mutate, kwargs, fragment):
    panel, _ = sample
    d = mutate(panel[panel["product_id"] == "P01"].reset_index(drop=True))
    args = {"methods": ["ols", "iv"], "instruments": IV, **kwargs}
    with pytest.raises(AnalysisError) as exc:
        el.fit_elasticities(d, **args)
    assert fragment in str(exc.value)


def test_recommendations_need_cost(fits, sample):
    panel, _ = sample
    with pytest.raises(AnalysisError, match="need a 'unit_cost' column"):
        ep.recommend_prices(fits, panel.drop(columns="unit_cost"))
    with pytest.raises(AnalysisError, match="max_price_change"):
        ep.recommend_prices(fits, panel, max_price_change=0)


def test_filter_panel(sample):
    panel, _ = sample
    out = el.filter_panel(panel, date_from="2024-01-01", date_to="2024-06-30", products=["P01"], stores=["S02"])
    assert out["date"].min() >= pd.Timestamp("2024-01-01") and out["date"].max() <= pd.Timestamp("2024-06-30")
    assert set(out["product_id"]) == {"P01"} and set(out["store_id"]) == {"S02"}
    with pytest.raises(AnalysisError, match=r"Unknown product_id value\(s\) \['P99'\]"):
        el.filter_panel(panel, products=["P99"])


def test_demean_two_way_converges_and_clustered_se():
    rng = np.random.default_rng(3)
    g1, g2 = rng.integers(0, 50, 5000), rng.integers(0, 30, 5000)
    x = rng.normal(size=(5000, 2)) + g1[:, None] * 0.1 + g2[:, None] * 0.05
    dm = el.demean(x, [g1, g2])
    for g in (g1, g2):
        means = np.array([np.bincount(g, weights=dm[:, j]) / np.bincount(g) for j in range(2)])
        assert np.abs(means).max() < 1e-8
    df = _two_way_panel(seed=2)
    row = el.fit_elasticities(df, methods=["ols"], fixed_effects="store", se_type="cluster:store_id", seasonality=False).iloc[0]
    x = pd.concat([pd.DataFrame({"lp": np.log(df["price"])}), pd.get_dummies(df["store_id"], dtype=float)], axis=1)
    ref = sm.OLS(np.log(df["units"]), x).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(df["store_id"])[0]})
    assert row["elasticity"] == pytest.approx(ref.params["lp"], abs=1e-8)
    # same CR1 up to statsmodels counting the absorbed dummies in k: ratio sqrt((n-k_sm)/(n-1-...))
    n, k_sm = len(df), x.shape[1]
    assert row["std_error"] == pytest.approx(ref.bse["lp"] * np.sqrt((n - k_sm) / (n - 1)), rel=1e-6)
    assert row["se_type"] == "CR1 clustered by store_id"


def test_missing_instrument_values_are_counted_not_silent(sample):
    panel, _ = sample
    d = panel[panel["product_id"] == "P05"].copy()
    d.loc[d.index[:10], "unit_cost"] = np.nan
    row = el.fit_elasticities(d, methods=["iv"], instruments=IV).iloc[0]
    assert row["identified"] and row["n_obs"] == (d["units"] > 0).sum() - (d["units"].iloc[:10] > 0).sum()
    assert "10 row(s) with a missing control/instrument value left out" in row["note"]


def test_recommendation_below_cost_says_so(fits, sample):
    panel, _ = sample
    d = panel.copy()
    d.loc[d["product_id"] == "P04", "unit_cost"] = 99.0
    rec = ep.recommend_prices(fits, d, method="iv").set_index("product_id")
    assert "at or below unit cost" in rec.at["P04", "status"]
    assert np.isnan(rec.at["P04", "profit_change_pct"])


def test_truth_coverage_counts_covered_products_and_mean_abs_error():
    check = pd.DataFrame(
        {
            "product_id": ["P1", "P2", "P1", "P2"],
            "method": ["ols", "ols", "iv", "iv"],
            "error": [0.5, -0.3, 0.1, -0.1],
            "covered": [False, True, True, True],
        }
    )
    cov = el.truth_coverage(check)
    assert cov.loc["ols", "covered"] == 1 and cov.loc["iv", "covered"] == 2
    assert cov.loc["ols", "mean_abs_error"] == pytest.approx(0.4) and (cov["products"] == 2).all()


# --------------------------------------------------------------------------- defaults on foreign panels
def _weekly(products=("a", "b"), stores=None, weeks=8, **extra):
    dates = pd.date_range("2024-01-01", periods=weeks, freq="W-MON")
    rows = [
        {"date": d, "product_id": p, "price": 2.0 + i % 3, "units": 10.0 + i, **({"store_id": s} if s else {}), **extra}
        for i, (d, p, s) in enumerate((d, p, s) for d in dates for p in products for s in (stores or [None]))
    ]
    return pd.DataFrame(rows)


def test_default_instrument_applies_only_with_a_unit_cost_column():
    with_cost = el.resolve_settings(_weekly(stores=["s1", "s2"], unit_cost=1.0))
    assert (with_cost.methods, with_cost.instruments, with_cost.fixed_effects) == (
        ["ols", "iv", "dml"],
        ["log(unit_cost)"],
        "both",
    )
    assert with_cost.notes == []
    without = el.resolve_settings(_weekly(stores=["s1", "s2"]))
    assert (without.methods, without.instruments) == (["ols"], [])
    assert without.notes == [el.NO_INSTRUMENT_NOTE]
    assert "no instrument column: 2SLS and double ML skipped; OLS only" in el.NO_INSTRUMENT_NOTE


def test_explicit_settings_are_the_users_and_still_fail_with_the_column_name():
    panel = _weekly(stores=["s1", "s2"])
    s = el.resolve_settings(panel, methods=["ols", "iv"], fixed_effects="store", instruments=["log(freight)"])
    assert (s.methods, s.fixed_effects, s.instruments, s.notes) == (["ols", "iv"], "store", ["log(freight)"], [])
    with pytest.raises(AnalysisError, match="Unknown instrument column 'freight'"):
        el.fit_elasticities(panel, methods=s.methods, fixed_effects=s.fixed_effects, instruments=s.instruments)


def test_default_fixed_effects_follow_the_panel():
    assert el.resolve_settings(_weekly(stores=["s1", "s2"], unit_cost=1.0)).fixed_effects == "both"
    no_store = el.resolve_settings(_weekly(unit_cost=1.0))
    assert no_store.fixed_effects == "none"
    assert no_store.notes[0].startswith("no store column: store fixed effects skipped; one row per product and week")
    one_store = el.resolve_settings(_weekly(stores=["s1"], unit_cost=1.0))
    assert one_store.fixed_effects == "none" and one_store.notes[0].startswith("one store")
    regions = _weekly(unit_cost=1.0)  # two rows per product and week without a store column: week effects kept
    regions = pd.concat([regions, regions.assign(units=regions["units"] + 1)])
    kept = el.resolve_settings(regions)
    assert kept.fixed_effects == "time" and kept.notes == ["no store column: store fixed effects skipped"]
    cross = el.resolve_settings(_weekly(unit_cost=1.0).drop(columns="date"))
    assert cross.fixed_effects == "none" and "no date column" in cross.notes[0]


def test_derived_column_mapped_onto_a_file_column_needs_the_file_column_mapped_away():
    raw = pd.DataFrame({"week": ["2024-01-01", "2024-01-08"], "sku": "x", "price": [2.0, 2.2], "cpi": [1.0, 1.1], "qty": [5, 6]})
    cols = {"week": "date", "sku": "product_id", "qty": "units", "real_price": "price"}
    with pytest.raises(
        DataContractError,
        match=r"several columns with this name after mapping \('real_price', "
        r"'price'\).*'price': 'price_original'",
    ):
        el.prepare_panel(raw, columns=cols, derive={"real_price": "price / cpi"})
    panel = el.prepare_panel(raw, columns={**cols, "price": "nominal_price"}, derive={"real_price": "price / cpi"})
    assert panel["price"].tolist() == pytest.approx([2.0, 2.0])
    assert panel["nominal_price"].tolist() == [2.0, 2.2]
    assert pd.api.types.is_datetime64_any_dtype(panel["date"])  # coerced like a loaded file


def test_findings_are_written_from_the_fits():
    fits = pd.DataFrame(
        {
            "product_id": ["a", "b", "c"],
            "method": "iv",
            "level": "product",
            "identified": [True, True, False],
            "elasticity": [-0.6, -2.1, np.nan],
            "ci_low": [-0.9, -2.5, np.nan],
            "ci_high": [-0.3, -1.7, np.nan],
        }
    )
    text = el_summary.explain_fits(fits, "iv")
    assert text.startswith("By iv, 2 of 2 products have a clearly negative elasticity")
    assert "Inelastic (|e| < 1): a" in text and "Not estimated: c" in text
    lift = pd.DataFrame(
        {
            "product_id": ["a", "b"],
            "lift_pct": [12.0, 40.0],
            "ci_low_pct": [8.0, 30.0],
            "ci_high_pct": [16.0, 50.0],
            "identified": [True, True],
        }
    )
    assert el_summary.explain_lift(lift).startswith("Promotions add between 12 % and 40 % volume")


def test_named_columns_the_user_gave_are_checked_before_the_kernel(tmp_path):
    raw = pd.DataFrame({"wk": ["2024-01-01"], "sku": ["x"], "p": [2.0], "q": [5], "wholesale": [1.0], "cpi": [1.0]})
    raw.to_csv(tmp_path / "shelf.csv", index=False)
    given = {
        "panel_path": str(tmp_path / "shelf.csv"),
        "columns": {"wk": "date", "sku": "product_id", "p": "price", "q": "units"},
        "derive": {"real_cost": "wholesale / cpi"},
        "instruments": ["log(real_cost)", "log(freight)"],
        "controls": ["cpi"],
        "se_type": "cluster:store_id",
    }
    with pytest.raises(ParameterError) as err:
        el.check_run_parameters(given)
    msg = str(err.value)
    assert msg.startswith("instruments: `freight` (in `log(freight)`) is not a column of ")
    assert "shelf.csv; se_type: cluster column `store_id` is not a column" in msg
    assert "real_cost" not in msg.split(". Its columns")[0] and "wholesale" in msg  # derived names count
    el.check_run_parameters({**given, "instruments": ["log(real_cost)"], "se_type": "HC1"})  # fits: no error
    el.check_run_parameters({"panel_path": str(tmp_path / "shelf.csv")})  # defaults are not checked here


@pytest.mark.parametrize("name", ["panel", "price_panel"])
def test_the_pre_kernel_check_reads_a_mapping_given_under_the_input_name(tmp_path, name):
    """``columns`` under the input's name (``panel``, as users type it) or its contract kind maps the header
    exactly as a flat mapping does: the mapped names count and the file's own names do not."""
    pd.DataFrame({"wk": ["2024-01-01"], "sku": ["x"], "p": [2.0], "q": [5], "wholesale": [1.0]}).to_csv(
        tmp_path / "shelf.csv", index=False
    )
    mapping = {"wk": "date", "sku": "product_id", "p": "price", "q": "units", "wholesale": "unit_cost"}
    given = {"panel_path": str(tmp_path / "shelf.csv"), "columns": {name: mapping}, "instruments": ["log(unit_cost)"]}
    el.check_run_parameters(given)  # unit_cost exists only through the mapping
    with pytest.raises(ParameterError, match=r"^instruments: `wholesale` \(in `log\(wholesale\)`\) is not a column"):
        el.check_run_parameters({**given, "instruments": ["log(wholesale)"]})
    with pytest.raises(ParameterError, match=r"^columns: \['sales'\] are not inputs of this notebook"):
        el.check_run_parameters({**given, "columns": {"sales": mapping}})


def test_the_pre_kernel_check_names_columns_as_the_loader_does(tmp_path):
    """A header differing from a contract name only in case and spaces (``Unit Cost``) is matched by the
    loader, so the check before the kernel counts it under the contract's name too."""
    pd.DataFrame({"date": ["2024-01-01"], "product_id": ["x"], "price": [2.0], "units": [5], "Unit Cost": [1.0]}).to_parquet(
        tmp_path / "shelf.parquet"
    )
    el.check_run_parameters({"panel_path": str(tmp_path / "shelf.parquet"), "instruments": ["log(unit_cost)"]})
    with pytest.raises(
        ParameterError,
        match=r"^instruments: `freight` \(in `log\(freight\)`\) is not a column of "
        r".*shelf.parquet",
    ):
        el.check_run_parameters({"panel_path": str(tmp_path / "shelf.parquet"), "instruments": ["log(freight)"]})


def test_notebook_defaults_recover_the_committed_sample_truth():
    """The comparison the notebook used to print, on the committed files: data/sample/price_panel.csv with the
    notebook's default settings against data/sample/ground_truth.json (README: 2SLS covers 10 of 12)."""
    import json

    from marksell.data import load_price_panel
    from marksell.paths import sample_path

    truth = json.loads(sample_path("ground_truth").read_text())["price_panel"]
    panel = load_price_panel("")
    s = el.resolve_settings(panel)
    assert (s.methods, s.fixed_effects, s.instruments, s.notes) == (["ols", "iv", "dml"], "both", ["log(unit_cost)"], [])
    fits = el.fit_elasticities(
        panel, methods=["ols", "iv"], fixed_effects=s.fixed_effects, instruments=s.instruments, pooled=False
    )
    check = el.compare_to_truth(fits, truth["elasticities"])
    covered = check.groupby("method")["covered"].sum()
    assert covered["iv"] >= 10 and covered["ols"] <= 8
    naive = check[check["method"] == "ols"].set_index("product_id")
    assert not naive.loc[truth["endogenous_products"], "covered"].any()
    flagged = el.naive_vs_corrected(fits, "ols", "iv")
    assert sorted(flagged.loc[flagged["prices_respond_to_demand"], "product_id"]) == sorted(truth["endogenous_products"])


def test_summary_carries_counts_demand_responsive_products_and_notes(fits, sample):
    _, truth = sample
    cmp = el.naive_vs_corrected(fits, "ols", "iv")
    out = el_summary.summary(fits, None, cmp, ["a note"], methods=["ols", "iv"], seed=1)
    assert out["settings"] == {"methods": ["ols", "iv"], "seed": 1}
    assert out["n_products"] == len(truth["elasticities"])
    assert sorted(out["prices_respond_to_demand"]) == sorted(truth["endogenous_products"])
    assert out["notes"] == ["a note"] and "recommendations" not in out
    assert "prices_respond_to_demand" not in el_summary.summary(fits)

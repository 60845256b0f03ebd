"""KPI scorecard: every measure against an independent plain-pandas computation from the raw sample
tables, the planted channel economics, and bad inputs (spend without leads, months without new
customers, periods outside the data, channels in one file only)."""

from __future__ import annotations

import math
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from marksell import kpi
from marksell.errors import AnalysisError, KpiWarning
from marksell.kpi import scorecard
from marksell.kpi import summary as kpi_summary
from marksell.sample import funnel as funnel_gen

GM = 0.4


@pytest.fixture(scope="module")
def company(sample_company):
    tables, truth = sample_company
    return tables, truth


@pytest.fixture(scope="module")
def report(company):
    tables, _ = company
    with warnings.catch_warnings():
        warnings.simplefilter("error", KpiWarning)  # the sample is clean: no partial-input warnings
        return kpi.kpi_report(tables["transactions"], tables["marketing_funnel"], tables["market_size"], clv_method="historical")


@pytest.fixture(scope="module")
def year_report(company):
    tables, _ = company
    return kpi.kpi_report(
        tables["transactions"], tables["marketing_funnel"], tables["market_size"], period="2025", clv_method="historical"
    )


def _value(rep, metric, dim="overall", seg="all", period=None):
    k = rep.kpis
    r = k[
        (k["period"] == (period or rep.period.label))
        & (k["dimension"] == dim)
        & (k["dimension_value"] == seg)
        & (k["metric"] == metric)
    ]
    assert len(r) == 1, (metric, dim, seg)
    return float(r["value"].iloc[0])


# ----------------------------------------------------------------------------- independent reference


def _tx(tables):
    tx = tables["transactions"].copy()
    tx["order_date"] = pd.to_datetime(tx["order_date"])
    first = tx.groupby("customer_id")["order_date"].min().rename("first_order")
    tx = tx.join(first, on="customer_id")
    tx["ym"] = tx["order_date"].dt.year * 12 + tx["order_date"].dt.month
    tx["acq_ym"] = tx["first_order"].dt.year * 12 + tx["first_order"].dt.month
    return tx


def _months(label):
    if "-Q" in label:
        y, q = int(label[:4]), int(label[-1])
        return [y * 12 + m for m in range(3 * q - 2, 3 * q + 1)]
    if len(label) == 4:
        return [int(label) * 12 + m for m in range(1, 13)]
    return [int(label[:4]) * 12 + int(label[5:])]


def _new_customers(tx, months, by=None):
    cust = tx.sort_values("order_date").drop_duplicates("customer_id")
    cust = cust[cust["acq_ym"].isin(months)]
    return cust.groupby(by).size() if by else len(cust)


def _spend(tables, months):
    f = tables["marketing_funnel"].copy()
    f["ym"] = pd.to_datetime(f["month"]).dt.year * 12 + pd.to_datetime(f["month"]).dt.month
    return f[f["ym"].isin(months)]


def _wilson(x, n, z=1.959963984540054):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


# ----------------------------------------------------------------------------- sample generator


def test_funnel_conversions_equal_acquired_customers(company):
    tables, truth = company
    f = tables["marketing_funnel"]
    cust = tables["customers"]
    acq = (
        cust.assign(month=pd.to_datetime(cust["acquisition_date"]).dt.to_period("M").dt.to_timestamp())
        .groupby(["month", "channel"])
        .size()
    )
    got = f.set_index([pd.to_datetime(f["month"]), f["channel"]])["conversions"]
    assert got.sum() == len(cust)
    assert (got.reindex(acq.index) == acq).all()
    assert (f["leads"] >= f["conversions"]).all() and (f["spend"] > 0).all()
    t = truth["funnel"]["marketing_funnel"]
    assert t["pays_back"]["display"] is False and t["meets_clv_cac_3x"]["search"] is True


def test_funnel_generator_is_deterministic(company):
    tables, _ = company
    a, ta = funnel_gen.generate(np.random.default_rng(3), tables["customers"], tables["transactions"])
    b, tb = funnel_gen.generate(np.random.default_rng(3), tables["customers"], tables["transactions"])
    pd.testing.assert_frame_equal(a["marketing_funnel"], b["marketing_funnel"])
    pd.testing.assert_frame_equal(a["market_size"], b["market_size"])
    assert ta == tb


# ----------------------------------------------------------------------------- measures vs independent values


def test_default_period_is_last_full_month(report):
    assert report.period.label == "2025-12" and report.compare_period.label == "2024-12"


@pytest.mark.parametrize("which", ["month", "year"])
def test_cac_and_new_customers_match_independent(company, report, year_report, which):
    tables, _ = company
    rep = report if which == "month" else year_report
    label = rep.period.label
    tx, months = _tx(tables), _months(label)
    new = _new_customers(tx, months, "channel")
    spend = _spend(tables, months).groupby("channel")["spend"].sum()
    for ch in spend.index:
        assert _value(rep, "new_customers", "channel", ch) == new.get(ch, 0)
        assert _value(rep, "cac", "channel", ch) == pytest.approx(spend[ch] / new[ch], rel=1e-9)
    assert _value(rep, "cac") == pytest.approx(spend.sum() / new.sum(), rel=1e-9)
    assert _value(rep, "spend") == pytest.approx(spend.sum(), rel=1e-9)


def test_clv_roas_roi_match_independent(company, report):
    tables, _ = company
    tx, (m,) = _tx(tables), _months("2025-12")
    upto = tx[(tx["ym"] <= m) & (tx["acq_ym"] <= m)]
    n_cust = upto.groupby("channel")["customer_id"].nunique()
    clv = upto.groupby("channel")["revenue"].sum() * GM / n_cust
    # attribution: revenue in the month from customers acquired within the 12 months up to it
    attr = tx[(tx["ym"] == m) & (tx["ym"] - tx["acq_ym"] < 12)].groupby("channel")["revenue"].sum()
    spend = _spend(tables, [m]).groupby("channel")["spend"].sum()
    new = _new_customers(tx, [m], "channel")
    for ch in spend.index:
        assert _value(report, "clv", "channel", ch) == pytest.approx(clv[ch], rel=1e-9)
        assert _value(report, "roas", "channel", ch) == pytest.approx(attr[ch] / spend[ch], rel=1e-9)
        assert _value(report, "marketing_roi", "channel", ch) == pytest.approx((attr[ch] * GM - spend[ch]) / spend[ch], rel=1e-9)
        assert _value(report, "clv_cac", "channel", ch) == pytest.approx(clv[ch] / (spend[ch] / new[ch]), rel=1e-9)
    overall_clv = upto["revenue"].sum() * GM / upto["customer_id"].nunique()
    assert _value(report, "clv") == pytest.approx(overall_clv, rel=1e-9)
    assert _value(report, "roas") == pytest.approx(attr.sum() / spend.sum(), rel=1e-9)


def test_conversion_rate_and_wilson_interval(company, report):
    tables, _ = company
    f = _spend(tables, _months("2025-12"))
    for _, r in f.iterrows():
        lo, hi = _wilson(r["conversions"], r["leads"])
        assert _value(report, "conversion_rate", "channel", r["channel"]) == pytest.approx(
            r["conversions"] / r["leads"], rel=1e-12
        )
        assert _value(report, "conversion_rate_low", "channel", r["channel"]) == pytest.approx(lo, rel=1e-9)
        assert _value(report, "conversion_rate_high", "channel", r["channel"]) == pytest.approx(hi, rel=1e-9)
    assert _value(report, "conversion_rate") == pytest.approx(f["conversions"].sum() / f["leads"].sum())


def test_revenue_growth_market_share_retention(company, report):
    tables, _ = company
    tx, (m,) = _tx(tables), _months("2025-12")
    rev = tx.groupby(["ym", "region"])["revenue"].sum()
    for reg in ["North", "South", "East", "West"]:
        assert _value(report, "revenue", "region", reg) == pytest.approx(rev[(m, reg)], rel=1e-9)
        assert _value(report, "revenue_growth_yoy", "region", reg) == pytest.approx(
            rev[(m, reg)] / rev[(m - 12, reg)] - 1, rel=1e-9
        )
        assert _value(report, "revenue_growth_pop", "region", reg) == pytest.approx(
            rev[(m, reg)] / rev[(m - 1, reg)] - 1, rel=1e-9
        )
    total = tx.groupby("ym")["revenue"].sum()
    assert _value(report, "revenue_growth_yoy") == pytest.approx(total[m] / total[m - 12] - 1, rel=1e-9)
    mk = tables["market_size"]
    mk = mk[pd.to_datetime(mk["month"]) == "2025-12-01"].set_index("region")["market_size"]
    for reg in mk.index:
        assert _value(report, "market_share", "region", reg) == pytest.approx(rev[(m, reg)] / mk[reg], rel=1e-9)
    assert _value(report, "market_share") == pytest.approx(total[m] / mk.sum(), rel=1e-9)
    cohort = tx[tx["acq_ym"] == m - 3]
    active = cohort[(cohort["ym"] == m) & (cohort["revenue"] > 0)]["customer_id"].nunique()
    assert _value(report, "retention_3m") == pytest.approx(active / cohort["customer_id"].nunique(), rel=1e-12)
    # cohort table: the same cohort, 3 months on
    c = report.cohorts
    row = c[(c["cohort"] == "2025-09") & (c["months_since_acquisition"] == 3)].iloc[0]
    assert row["active_customers"] == active and row["customers"] == cohort["customer_id"].nunique()
    assert (c.loc[c["months_since_acquisition"] == 0, "retention"] == 1.0).all()


def test_payback_months_match_independent(company, report):
    tables, _ = company
    tx, (m,) = _tx(tables), _months("2025-12")
    tx = tx[tx["ym"] <= m]
    for ch in ["search", "email", "social"]:
        cac = _value(report, "cac", "channel", ch)
        t = tx[tx["channel"] == ch]
        cust = t.drop_duplicates("customer_id").set_index("customer_id")["acq_ym"]
        profit = t.assign(k=t["ym"] - t["acq_ym"]).groupby(["customer_id", "k"])["revenue"].sum() * GM
        expected = None
        for k in range(0, m - cust.min() + 1):
            ids = cust[cust + k <= m].index
            mine = profit[profit.index.get_level_values("k") <= k]
            per = mine.groupby(level="customer_id").sum().reindex(ids).fillna(0.0)
            if per.mean() >= cac:
                expected = k + 1
                break
        got = _value(report, "payback_months", "channel", ch)
        assert expected is not None and got == expected, (ch, got, expected)
    disp = report.kpis[
        (report.kpis["period"] == "2025-12")
        & (report.kpis["dimension_value"] == "display")
        & (report.kpis["metric"] == "payback_months")
    ].iloc[0]
    # display's CAC is above the value its customers realise: only the oldest cohorts ever cover it
    others = [_value(report, "payback_months", "channel", ch) for ch in ["search", "email", "social", "affiliate"]]
    assert np.isnan(disp["value"]) or disp["value"] > max(12, *others)


# ----------------------------------------------------------------------------- planted economics


@pytest.mark.parametrize("which", ["month", "year"])
def test_planted_channel_economics_come_out(company, report, year_report, which):
    _, truth = company
    planted = truth["funnel"]["marketing_funnel"]
    table = (report if which == "month" else year_report).tables["channel"]
    for ch, ratio in planted["clv_cac_ratio"].items():
        got = table.loc[ch, "clv_cac"]
        if ratio > 3:
            assert got > 3 and table.loc[ch, "clv_cac_status"] == "on target", (ch, got)
        if ratio < 1:
            assert got < 1 and table.loc[ch, "clv_cac_status"] == "off target", (ch, got)
        assert table.loc[ch, "pays_back"] == planted["pays_back"][ch]
    summary = kpi_summary.summary(report)
    assert summary["channel_verdict"]["display"]["pays_back"] is False
    assert summary["channel_verdict"]["email"]["status"] == "on target"


def test_planted_cac_conversion_and_share_recovered(company, year_report):
    _, truth = company
    planted = truth["funnel"]["marketing_funnel"]
    table = year_report.tables["channel"]
    for ch, cac in planted["cac"].items():
        assert table.loc[ch, "cac"] == pytest.approx(cac, rel=0.08), ch  # spend noise sd 0.10 a month
        rate = planted["conversion_rate"][ch]
        assert table.loc[ch, "conversion_rate_low"] - 0.02 < rate < table.loc[ch, "conversion_rate_high"] + 0.02
    share = truth["funnel"]["market_size"]["share_trajectory"]
    months = truth["funnel"]["market_size"]["share_months"]
    planted_2025 = {r: np.mean([s for s, mm in zip(v, months) if mm.startswith("2025")]) for r, v in share.items()}
    regions = year_report.tables["region"]
    for r, s in planted_2025.items():
        assert regions.loc[r, "market_share"] == pytest.approx(s, rel=0.05), r


def test_scorecard_statuses_and_sentences(report):
    sc = report.scorecard.set_index("metric")
    assert list(sc.index) == kpi.SCORECARD_METRICS
    assert set(sc["status"]) <= set(kpi.STATUSES)
    for k, r in sc.iterrows():
        assert isinstance(r["sentence"], str) and r["sentence"].endswith(".")
        if pd.notna(r["value"]) and pd.notna(r["compare_value"]):
            assert r["change"] == pytest.approx(r["value"] - r["compare_value"])
    # the ROI target is the ROAS target at the gross margin (5 x 0.4 - 1)
    assert sc.loc["marketing_roi", "target"] == pytest.approx(1.0)
    assert "'" in sc.loc["cac", "sentence"]  # names the channel that moved CAC most
    k = kpi.kpis_csv(report)
    assert list(k.columns) == kpi.KPI_COLUMNS
    assert not np.isinf(k["value"]).any()


def test_status_rule():
    values = np.array([3.2, 2.8, 2.6, float("nan"), 1.0])
    targets = np.array([3.0, 3.0, 3.0, 3.0, float("nan")])
    assert list(kpi.statuses(values, targets, "higher")) == ["on target", "watch", "off target", "not available", "no target"]
    assert list(kpi.statuses(np.array([105.0, 120.0]), np.array([100.0, 100.0]), "lower")) == ["watch", "off target"]
    rates = kpi.statuses(np.array([0.06, 0.04]), np.array([0.10, 0.10]), "higher", absolute_band=0.05)
    assert list(rates) == ["watch", "off target"]
    assert list(kpi.statuses(np.array([5.0]), np.array([1.0]), None)) == ["no target"]


# ----------------------------------------------------------------------------- bad inputs


def _mini(extra_tx_channel=None):
    """Two channels a/b, customers every month of 2024-2025 except channel b in 2025-06."""
    rows, cid = [], 0
    months = pd.date_range("2024-01-01", "2025-12-01", freq="MS")
    for m in months:
        for ch in ("a", "b"):
            if ch == "b" and m == pd.Timestamp("2025-06-01"):
                continue
            for _ in range(2):
                cid += 1
                rows.append((f"C{cid}", m + pd.Timedelta(days=3), 100.0, ch, "N"))
                rows.append((f"C{cid}", m + pd.Timedelta(days=40), 50.0, ch, "N"))
    rows.append(("Z", pd.Timestamp("2025-12-31"), 10.0, "a", "N"))
    if extra_tx_channel:
        rows.append(("X1", pd.Timestamp("2025-03-05"), 80.0, extra_tx_channel, "N"))
    tx = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "channel", "region"])
    f = pd.DataFrame(
        [(m, ch, 100.0, 10, 2) for m in months for ch in ("a", "b")],
        columns=["month", "channel", "spend", "leads", "conversions"],
    )
    f.loc[(f["month"] == "2025-06-01") & (f["channel"] == "b"), "conversions"] = 0
    return tx, f


def _cell(rep, metric, seg, period):
    k = rep.kpis
    return k[(k["period"] == period) & (k["dimension_value"] == seg) & (k["metric"] == metric)].iloc[0]


@pytest.fixture(scope="module")
def mini_report():
    tx, f = _mini()
    return kpi.kpi_report(tx, f, None, period="2025-06", targets={"cac": 30.0}, clv_method="historical", dimensions=["channel"])


def test_month_without_new_customers_has_undefined_cac(mini_report):
    rep = mini_report
    cell = _cell(rep, "cac", "b", "2025-06")
    assert np.isnan(cell["value"]) and cell["status"] == "not available"
    assert cell["note"] == "no new customers: CAC undefined (spend 100)"
    assert _cell(rep, "clv_cac", "b", "2025-06")["note"] == "CAC undefined (no new customers)"
    assert kpi.fmt_value(cell["value"], "currency") == "n/a"
    # blended CAC still defined: 200 spend / 2 new customers
    assert _value(rep, "cac", period="2025-06") == pytest.approx(100.0)
    assert not np.isinf(rep.kpis["value"]).any()


def test_spend_without_leads_is_reported():
    tx, f = _mini()
    f.loc[(f["month"] == "2025-12-01") & (f["channel"] == "a"), ["leads", "conversions"]] = 0
    with pytest.warns(KpiWarning, match="have spend or conversions but no leads"):
        rep = kpi.kpi_report(tx, f, clv_method="historical", dimensions=["channel"])
    cell = _cell(rep, "conversion_rate", "a", "2025-12")
    assert np.isnan(cell["value"]) and cell["note"] == "spend or conversions recorded without leads"
    overall = _cell(rep, "conversion_rate", "all", "2025-12")
    assert overall["value"] == pytest.approx(0.2)  # channel b only: 2 of 10
    assert overall["note"] == "channel-months with spend but no leads left out"


def test_period_outside_the_data():
    tx, f = _mini()
    with pytest.raises(
        AnalysisError,
        match=r"reporting period 2026-01 is outside the data: the transactions cover "
        r"the full months 2024-01 to 2025-12",
    ):
        kpi.kpi_report(tx, f, period="2026-01")
    with pytest.raises(AnalysisError, match="outside the data"):
        kpi.kpi_report(tx, f, period="2023")
    with pytest.raises(AnalysisError, match="is not understood"):
        kpi.kpi_report(tx, f, period="Dec 2025")


def test_comparison_period_outside_the_data_gives_no_change():
    tx, f = _mini()
    rep = kpi.kpi_report(tx, f, period="2024-06", clv_method="historical", dimensions=["channel"])
    assert any("comparison period 2023-06 is outside the data" in n for n in rep.notes)
    sc = rep.scorecard.set_index("metric")
    assert sc["change"].isna().all()
    assert _cell(rep, "revenue_growth_yoy", "all", "2024-06")["note"] == "comparison period outside the data"


def test_unknown_channels_in_one_file_only():
    tx, f = _mini(extra_tx_channel="referral")
    f = pd.concat(
        [
            f,
            pd.DataFrame(
                {"month": [pd.Timestamp("2025-12-01")], "channel": ["tv"], "spend": [500.0], "leads": [5], "conversions": [1]}
            ),
        ],
        ignore_index=True,
    )
    with pytest.warns(KpiWarning) as rec:
        rep = kpi.kpi_report(tx, f, period="2025", clv_method="historical", dimensions=["channel"])
    msgs = " | ".join(str(w.message) for w in rec)
    assert "channel(s) ['referral'] appear in the transactions but not in the marketing funnel" in msgs
    assert "channel(s) ['tv'] appear in the marketing funnel but not in the transactions" in msgs
    ref = _cell(rep, "cac", "referral", "2025")
    assert np.isnan(ref["value"]) and ref["note"] == "channel not in the marketing funnel"
    assert ref["status"] == "not available"
    tv = _cell(rep, "cac", "tv", "2025")
    assert np.isnan(tv["value"]) and tv["note"] == "channel has no customers in the transactions"
    # blended CAC uses channels in both files: (24 x 100 spend) / (23 + 23 new customers)... computed plainly:
    new_ab = tx[tx["channel"].isin(["a", "b"])].groupby("customer_id")["order_date"].min()
    new_ab = int((new_ab.dt.year == 2025).sum())
    assert _value(rep, "cac", period="2025") == pytest.approx(2400.0 / new_ab)


def test_months_outside_the_funnel_are_not_available():
    tx, f = _mini()
    f = f[f["month"] >= "2025-01-01"]  # the funnel starts a year after the transactions
    rep = kpi.kpi_report(tx, f, period="2024-06", clv_method="historical", dimensions=["channel"])
    cell = _cell(rep, "cac", "all", "2024-06")
    assert np.isnan(cell["value"]) and cell["note"] == "the marketing funnel does not cover this period"
    assert _cell(rep, "spend", "a", "2024-06")["note"] == "the marketing funnel does not cover this period"
    assert _cell(rep, "cac", "a", "2025-06")["value"] == pytest.approx(50.0)  # 100 spend / 2 new


def test_more_conversions_than_leads_is_an_error():
    tx, f = _mini()
    f.loc[0, "conversions"] = 50
    with pytest.raises(AnalysisError, match="more conversions than leads"):
        kpi.kpi_report(tx, f)


def test_no_market_file_and_unknown_target(mini_report):
    assert _cell(mini_report, "market_share", "all", "2025-06")["note"] == "no market size file given"
    tx, f = _mini()
    with pytest.raises(AnalysisError, match=r"unknown target\(s\) \['roi'\]"):
        kpi.kpi_report(tx, f, targets={"roi": 4})


def test_cac_benchmark_target_given(mini_report):
    cell = _cell(mini_report, "cac", "all", "2025-12")  # the monthly trend rows carry statuses too
    assert cell["target"] == 30.0 and cell["status"] == "off target"  # 200 / 5 = 40 > 33


def test_predictive_clv_used_when_available_and_fallback(monkeypatch):
    tx, f = _mini()
    inp = kpi.prepare_inputs(tx, f, dimensions=["channel"])
    end = pd.Timestamp("2025-12-01")

    def fit_clv(transactions, horizon_months, gross_margin, as_of):
        assert transactions["order_date"].max() < as_of == pd.Timestamp("2026-01-01")
        ids = transactions["customer_id"].unique()
        return types.SimpleNamespace(available=True, reason="", customers=pd.DataFrame({"customer_id": ids, "clv": 10.0}))

    monkeypatch.setattr(scorecard, "fit_clv", fit_clv)
    rep = kpi.kpi_report(tx, f, dimensions=["channel"])
    assert rep.clv_method.startswith("predictive")
    upto = tx[tx["order_date"] < "2026-01-01"]  # the mini data run into 2026-01 (a partial month)
    hist = (upto["revenue"].sum() * GM) / upto["customer_id"].nunique()
    assert _value(rep, "clv") == pytest.approx(hist + 10.0)
    assert _value(rep, "clv_cac") == pytest.approx((hist + 10.0) / _value(rep, "cac"))
    nov = tx[tx["order_date"] < "2025-12-01"]  # trend months stay historical
    assert _value(rep, "clv", period="2025-11") == pytest.approx(nov["revenue"].sum() * GM / nov["customer_id"].nunique())

    def broken(transactions, horizon_months, gross_margin, as_of):
        raise RuntimeError("did not converge")

    monkeypatch.setattr(scorecard, "fit_clv", broken)
    vals, why = kpi.predictive_clv(inp, end, ["channel"])
    assert vals is None and "fit failed" in why and "did not converge" in why
    with pytest.raises(AnalysisError, match="predictive CLV was asked for but is not possible"):
        kpi.kpi_report(tx, f, clv_method="predictive")


def test_planted_economics_hold_with_predictive_clv(company):
    tables, truth = company
    rep = kpi.kpi_report(tables["transactions"], tables["marketing_funnel"], None, dimensions=["channel"])
    assert rep.clv_method.startswith("predictive"), rep.clv_method
    table = rep.tables["channel"]
    hist = _value(rep, "clv", "channel", "display", period="2025-11")  # months without override: historical
    assert table.loc["display", "clv"] > hist  # realised + expected future value
    for ch, ratio in truth["funnel"]["marketing_funnel"]["clv_cac_ratio"].items():
        if ratio > 3:
            assert table.loc[ch, "clv_cac"] > 3, ch
        if ratio < 1:
            assert table.loc[ch, "clv_cac"] < 1 and not table.loc[ch, "pays_back"], ch


def test_market_smaller_than_own_revenue_is_not_reported_as_a_share():
    """Issue 19: a market size below the company's own revenue gave a 4,387,372 % share marked ok."""
    tx, f = _mini()
    months = pd.date_range("2024-01-01", "2025-12-01", freq="MS")
    market = pd.DataFrame({"month": months, "region": "N", "market_size": 1.0})  # far below ~450 a month
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = kpi.kpi_report(tx, f, market, period="2025-06", clv_method="historical", dimensions=["region"])
    cell = _cell(rep, "market_share", "all", "2025-06")
    assert np.isnan(cell["value"]) and cell["status"] == "not available"
    assert "revenue exceeds the market size" in cell["note"] and "currency, unit and scope" in cell["note"]
    market["market_size"] = 1e6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = kpi.kpi_report(tx, f, market, period="2025-06", clv_method="historical", dimensions=["region"])
    assert 0 < _cell(ok, "market_share", "all", "2025-06")["value"] < 0.01


def test_scorecard_for_people_with_the_run_currency(report):
    from marksell.kpi import summary as kpi_text

    shown = kpi_text.scorecard_display(report, currency="€")
    rows = shown.frame.set_index("measure")
    revenue = report.scorecard.set_index("metric").loc["revenue", "value"]
    assert rows.loc["Revenue", "value"] == f"€{revenue:,.0f}"
    assert shown.kinds["value"] == "figure" and shown.kinds["status"] == "text"
    assert "text-align:right;white-space:nowrap'>€" in shown._repr_html_()
    assert kpi.fmt_change(-1234.5, "currency", "€") == "-€1,234" and kpi.fmt_change(5.0, "currency") == "+5.00"


def test_growth_axis_is_cut_with_a_note_not_stretched_to_the_first_year(report):
    import matplotlib.pyplot as plt

    from marksell.kpi import plots as kpi_plots

    low, high, cut = kpi_plots.axis_limits(np.array([0.1, 0.2, 0.3] * 10 + [9.0, 10.0]), cap=kpi_plots.GROWTH_CAP)
    assert high <= kpi_plots.GROWTH_CAP * 1.1 and low >= -1.1 and cut == 2
    fig = kpi_plots.trend_figure(report)
    growth = next(ax for ax in fig.axes if ax.get_title().startswith("Revenue growth vs a year earlier"))
    top = growth.get_ylim()[1]
    k = report.kpis
    values = k[(k["metric"] == "revenue_growth_yoy") & k["period"].str.fullmatch(r"\d{4}-\d{2}")]["value"].dropna()
    assert top <= kpi_plots.GROWTH_CAP * 1.1
    if (values > top).any():
        assert f"{int((values > top).sum())} value(s) above" in growth.get_title()
    plt.close(fig)


@pytest.mark.parametrize("currency, money", [("€", "€"), ("", "")])
def test_currency_in_sentences_tiles_findings_and_brief(currency, money):
    """The run's currency (default none) is written in front of money wherever the report shows it."""
    import matplotlib.pyplot as plt

    from marksell.kpi import brief
    from marksell.kpi import plots as kpi_plots
    from marksell.kpi import summary as kpi_text

    tx, f = _mini()
    given = {"currency": currency} if currency else {}  # none by default
    rep = kpi.kpi_report(
        tx, f, None, period="2025-06", targets={"cac": 30.0}, clv_method="historical", dimensions=["channel"], **given
    )
    assert rep.currency == currency
    sentences = rep.scorecard.set_index("metric")["sentence"]
    # 2024-06: 4 new customers x 100 + 4 second orders x 50; 2025-06: channel b won nobody
    assert sentences["revenue"] == (
        f"Revenue fell from {money}600.00 (2024-06) to {money}400.00; mostly channel 'b' (-{money}200.00 on its own)."
    )
    assert sentences["cac"].startswith(f"Customer acquisition cost rose from {money}50.00 (2024-06) to {money}100.00;")
    assert sentences["roas"].startswith("Return on ad spend fell from 3.00x")  # ratios take no currency
    fig = kpi_plots.scorecard_figure(rep)
    tiles = [t.get_text() for ax in fig.axes for t in ax.texts]
    plt.close(fig)
    assert f"{money}400.00" in tiles and f"2024-06: {money}600.00" in tiles and f"target ≤ {money}30.00" in tiles
    fig = kpi_plots.channel_comparison(rep)
    assert fig.axes[0].get_title() == (f"CAC and CLV ({currency})" if currency else "CAC and CLV")
    plt.close(fig)
    fig = kpi_plots.trend_figure(rep, metrics=("cac",), by=None)
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert ticks and all(t.lstrip("-").startswith(money) for t in ticks) and not any("e+" in t for t in ticks)
    shown = kpi_text.scorecard_display(rep).frame.set_index("measure")
    assert shown.loc["Revenue", "value"] == f"{money}400.00"
    assert any(s.endswith(f"the blended {money}54.17).") for s in kpi_text.trend_findings(rep))
    summary = kpi_text.summary(rep)
    assert summary["currency"] == currency
    assert sentences["revenue"] in brief.brief(summary).answer
    if not currency:
        assert "€" not in " ".join([*sentences, *tiles, kpi_text.headline_markdown(rep)])

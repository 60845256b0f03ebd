"""Tests of the data audit helpers on small synthetic frames and files."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from marksell import audit
from marksell.audit import plots as audit_plots
from marksell.data.contracts import CONTRACTS

FUNNEL = CONTRACTS["marketing_funnel"]
PANEL = CONTRACTS["price_panel"]
TX = CONTRACTS["transactions"]


def funnel_frame(months=None, channels=("search", "social"), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = months if months is not None else pd.date_range("2023-01-01", "2024-12-01", freq="MS")
    rows = [
        {
            "month": m,
            "channel": c,
            "spend": round(float(rng.lognormal(7, 0.1)), 2),
            "leads": int(rng.integers(80, 120)),
            "conversions": int(rng.integers(8, 12)),
        }
        for m in months
        for c in channels
    ]
    return pd.DataFrame(rows)


def write_csv(path, df: pd.DataFrame) -> str:
    df.to_csv(path, index=False, date_format="%Y-%m-%d")
    return str(path)


# ----------------------------------------------------------------------------- frame checks


def test_missing_values_counted_exactly():
    df = funnel_frame()
    df["leads"] = df["leads"].astype("float64")
    df.loc[[0, 5, 9], "leads"] = np.nan
    df.loc[[3], "spend"] = np.nan
    m = audit.missing_values(df).set_index("column")
    assert m.loc["leads", "missing"] == 3
    assert m.loc["spend", "missing"] == 1
    assert m.loc["month", "missing"] == 0
    assert m.loc["leads", "share"] == pytest.approx(3 / 48)
    issues = audit.audit_frame(df, "marketing_funnel").issues()
    row = issues[(issues["check"] == "missing values") & (issues["column"] == "leads")].iloc[0]
    assert row["count"] == 3
    assert "3 of 48 rows (6.2%)" in row["detail"]


def test_duplicate_keys_and_exact_duplicates():
    df = funnel_frame()
    clash = df.iloc[[4]].assign(spend=1.0)  # same month and channel, other figures
    exact = df.iloc[[7]]
    df = pd.concat([df, clash, exact], ignore_index=True)
    d = audit.duplicates(df, FUNNEL).set_index("check")
    assert d.loc["exact duplicate rows", "count"] == 1
    assert d.loc["duplicate keys", "count"] == 2
    assert d.loc["duplicate keys", "columns"] == "month, channel"
    assert d.loc["duplicate keys", "groups"] == 2
    key4 = f"{df.at[4, 'month'].date()} / {df.at[4, 'channel']}"
    assert key4 in d.loc["duplicate keys", "examples"]


def test_duplicate_keys_not_checked_without_a_key():
    df = pd.DataFrame({"customer_id": ["a", "a"], "order_date": pd.to_datetime(["2024-01-02"] * 2), "revenue": [10.0, 12.0]})
    d = audit.duplicates(df, TX).set_index("check")
    assert d.loc["exact duplicate rows", "count"] == 0
    assert np.isnan(d.loc["duplicate keys", "count"])


def test_planted_outlier_is_the_one_flagged():
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
            "revenue": np.round(rng.lognormal(4, 0.4, n), 2),
        }
    )
    df.loc[123, "revenue"] = 25_000.0
    o = audit.outliers(df, TX).set_index("column")
    assert o.loc["revenue", "scale"] == "log"
    assert o.loc["revenue", "count"] == 1
    assert o.loc["revenue", "n_high"] == 1
    assert "c123" in o.loc["revenue", "examples"] and "25,000" in o.loc["revenue", "examples"]


def test_outliers_are_judged_within_groups():
    # product B costs ten times product A: not an outlier; one week of A at B's price is one
    weeks = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    rng = np.random.default_rng(5)
    a = pd.DataFrame(
        {
            "date": weeks,
            "product_id": "A",
            "price": np.round(rng.normal(10, 0.3, 30), 2),
            "units": rng.integers(50, 70, 30).astype(float),
        }
    )
    b = a.assign(product_id="B", price=np.round(rng.normal(100, 3, 30), 2))
    a.loc[10, "price"] = 100.0
    df = pd.concat([a, b], ignore_index=True)
    o = audit.outliers(df, PANEL).set_index("column")
    assert o.loc["price", "count"] == 1
    assert f"{weeks[10].date()} / A" in o.loc["price", "examples"]
    pooled = audit.outliers(df, PANEL, by=[]).set_index("column")
    assert pooled.loc["price", "count"] == 0  # pooled fences are too wide to see it


def test_mostly_zero_share_is_not_flagged_but_a_real_outlier_is():
    """A promotion share that is 0 in most months has no spread to judge by: no false alarms."""
    months = pd.date_range("2020-01-01", periods=48, freq="MS")
    rng = np.random.default_rng(2)
    promo = np.where(rng.random(48) < 0.3, rng.choice([0.25, 0.5, 1.0], 48), 0.0)
    sales = np.round(rng.normal(1000, 30, 48), 2)
    sales[20] = 20_000.0
    df = pd.DataFrame({"date": months, "region": "North", "sales": sales, "promo": promo})
    o = audit.outliers(df, CONTRACTS["sales_history"], keys=["region"]).set_index("column")
    assert o.loc["sales", "count"] == 1 and "2021-09-01" in o.loc["sales", "examples"]
    assert o.loc["promo", "count"] == 0 and (promo > 0).sum() >= 8


def test_negative_values_and_their_rule():
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "order_date": pd.to_datetime(["2024-01-01"] * 4),
            "revenue": [10.0, -4.0, 5.0, -1.0],
            "quantity": [1, -1, 1, 1],
        }
    )
    neg = audit.negative_values(df, TX).set_index("column")
    assert neg.loc["revenue", "count"] == 2
    assert neg.loc["revenue", "rule"] == "allowed (returns/credits)"
    assert neg.loc["quantity", "rule"] == "allowed (all on rows with negative 'revenue', i.e. returns)"
    df.loc[0, "quantity"] = -2  # a negative quantity on a sale
    assert audit.negative_values(df, TX).set_index("column").loc["quantity", "rule"] == "no rule"
    f = funnel_frame().assign(spend=lambda d: d["spend"].where(d.index != 2, -3.0))
    assert audit.negative_values(f, FUNNEL).set_index("column").loc["spend", "rule"] == "breaks the contract"


# ----------------------------------------------------------------------------- coverage and gaps


def test_monthly_gaps_detected():
    months = pd.date_range("2023-01-01", "2024-12-01", freq="MS").delete([4, 5])
    cov = audit.date_coverage(funnel_frame(months), FUNNEL).iloc[0]
    assert cov["frequency"] == "month"
    assert cov["periods_expected"] == 24
    assert cov["missing_periods"] == 2
    assert cov["first_missing"] == pd.Timestamp("2023-05-01")
    assert cov["first_date"] == pd.Timestamp("2023-01-01") and cov["last_date"] == pd.Timestamp("2024-12-01")


def test_weekly_gaps_on_monday_weeks_and_per_series():
    weeks = pd.date_range("2024-01-01", periods=20, freq="W-MON")
    a = pd.DataFrame({"date": weeks, "product_id": "A", "price": 10.0, "units": 5.0})
    b = pd.DataFrame({"date": weeks.delete([3, 4, 5]), "product_id": "B", "price": 10.0, "units": 5.0})
    df = pd.concat([a, b], ignore_index=True)
    cov = audit.date_coverage(df, PANEL).iloc[0]
    assert cov["frequency"] == "week" and cov["missing_periods"] == 0 and cov["periods_expected"] == 20
    per = audit.date_coverage(df, PANEL, by=["product_id"]).set_index("product_id")
    assert per.loc["B", "missing_periods"] == 3
    assert per.loc["B", "first_missing"] == weeks[3]
    assert per.loc["A", "missing_periods"] == 0
    issues = audit.audit_frame(df, "panel").issues()
    row = issues[issues["check"] == "series gaps"].iloc[0]
    assert row["count"] == 3 and "1 of 2 series" in row["detail"] and "B: 3" in row["detail"]
    jan = audit.rows_by_month({"panel": df}).set_index("month").loc[pd.Timestamp("2024-01-01")]
    assert jan["rows"] == 8 and jan["rows_per_period"] == pytest.approx(8 / 5)  # five Mondays in January


def test_transactions_gaps_are_months_without_orders():
    days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    days = days[days.month != 3]
    df = pd.DataFrame({"customer_id": "a", "order_date": days, "revenue": 1.0})
    cov = audit.date_coverage(df, TX).iloc[0]
    assert cov["frequency"] == "month"
    assert (cov["periods_expected"], cov["missing_periods"]) == (6, 1)
    assert cov["first_missing"] == pd.Timestamp("2024-03-01")
    counts = audit.rows_per_period(df, "order_date")
    assert counts.loc[pd.Timestamp("2024-03-01")] == 0 and counts.loc[pd.Timestamp("2024-01-01")] == 31


# ----------------------------------------------------------------------------- files


def test_contract_violation_reported_in_words(tmp_path):
    df = funnel_frame().astype({"spend": object})
    df.loc[2, "spend"] = "12 EUR"
    df = pd.concat([df, df.iloc[[5]]], ignore_index=True)  # a duplicated month and channel
    path = write_csv(tmp_path / "funnel.csv", df)
    fa = audit.audit_file("funnel", path)
    assert fa.status == "failed" and fa.frame is None
    assert fa.raw_rows == 49
    rep = fa.report
    spend = rep[rep["column"] == "spend"]["problem"].tolist()
    assert any("Column 'spend': expected numbers, found 1 non-numeric value(s)" in s and "'12 EUR'" in s for s in spend)
    dup = rep[rep["column"] == "month, channel"]
    assert len(dup) == 1  # reported once, not once per key column
    assert dup["problem"].iloc[0].startswith("Columns 'month, channel': expected one row per month, channel")
    assert (rep["status"] == "failed").all() and (rep["kind"] == "marketing_funnel").all()


def test_missing_file_and_missing_column_are_failures_in_words(tmp_path):
    fa = audit.audit_file("transactions", str(tmp_path / "nope.csv"))
    assert fa.status == "failed" and "no such file" in fa.problems[0]["problem"]
    path = write_csv(tmp_path / "tx.csv", pd.DataFrame({"customer_id": ["a"], "order_dt": ["2024-01-01"], "revenue": [1.0]}))
    fa = audit.audit_file("transactions", path)
    assert fa.status == "failed"
    words = " ".join(p["problem"] for p in fa.problems)
    assert "Column 'order_date': expected a required column" in words and "order_dt" in words


def test_warnings_reported_with_column_and_mapping_applied(tmp_path):
    df = pd.DataFrame(
        {"Customer": ["a", "b", "c"], "order_date": ["2024-01-01", "2024-01-02", "2024-01-03"], "revenue": [10.0, -2.5, 3.0]}
    )
    path = write_csv(tmp_path / "tx.csv", df)
    fa = audit.audit_file("transactions", path, {"Customer": "customer_id"})
    assert fa.status == "warnings"
    assert "customer_id" in fa.frame.columns
    w = fa.report.iloc[0]
    assert w["column"] == "revenue" and w["problem"].startswith("1 row(s) with negative 'revenue'")
    assert fa.problems[0]["count"] == 1


def test_audit_all_overview_issues_and_summary(tmp_path):
    months = pd.date_range("2023-01-01", "2023-12-01", freq="MS").delete(6)
    funnel = funnel_frame(months)
    funnel["leads"] = funnel["leads"].astype(object)
    funnel.loc[0, "leads"] = None
    tx = pd.DataFrame({"customer_id": ["a", "b"], "order_date": ["2024-01-01", "2024-02-03"], "revenue": [10.0, 20.0]})
    sales = pd.DataFrame(
        {
            "date": list(pd.date_range("2024-01-01", periods=6, freq="MS")) * 2,
            "region": ["N"] * 6 + ["S"] * 6,
            "sales": np.arange(12, dtype=float) + 1,
        }
    )
    sales = sales.drop(index=[8])  # S misses a month
    paths = {
        "transactions": write_csv(tmp_path / "tx.csv", tx),
        "funnel": write_csv(tmp_path / "f.csv", funnel),
        "sales": write_csv(tmp_path / "s.csv", sales),
        "market": str(tmp_path / "missing.csv"),
    }
    res = audit.audit_all(paths, keys={"sales": ["region"]})
    ov = res.overview.set_index("kind")
    assert list(ov.index) == ["transactions", "marketing_funnel", "sales_history", "market_size"]
    assert ov.loc["transactions", "status"] == "ok" and ov.loc["transactions", "rows"] == 2
    assert ov.loc["transactions", "last_date"] == pd.Timestamp("2024-02-03")
    assert ov.loc["marketing_funnel", "status"] == "failed"  # a missing count breaks the contract
    assert ov.loc["market_size", "status"] == "failed" and pd.isna(ov.loc["market_size", "rows"])
    assert ov.loc["sales_history", "status"] == "ok" and ov.loc["sales_history", "n_findings"] == 1
    assert set(res.loaded()) == {"transactions", "sales_history"}
    issues = res.issues()
    assert list(issues.columns) == audit.ISSUE_COLUMNS
    leads = issues[(issues["kind"] == "marketing_funnel") & (issues["column"] == "leads")].iloc[0]
    assert leads["check"] == "contract" and leads["count"] == 1 and "missing value" in leads["detail"]
    gap = issues[(issues["kind"] == "sales_history") & (issues["check"] == "series gaps")].iloc[0]
    assert gap["count"] == 1 and "S: 1" in gap["detail"]
    s = audit.summary(res)
    json.dumps(s)
    assert s["n_failed"] == 2 and s["inputs"]["sales_history"]["findings"] == {"series gaps": 1}
    dups = audit.duplicates_table(res).set_index("kind")
    assert dups.loc["sales_history", "key"] == "date, region" and dups.loc["sales_history", "duplicate_key_rows"] == 0
    assert pd.isna(dups.loc["transactions", "duplicate_key_rows"])
    actions = audit.action_list(res)
    assert actions[0].startswith("Fix: marketing_funnel") and "1 problem(s)" in actions[0]
    assert any(a.startswith("Fix: sales_history - 1 of 2 series have missing months") for a in actions)
    counts = audit.rows_by_month(res.loaded())
    assert counts.groupby("kind")["rows"].sum().to_dict() == {"transactions": 2, "sales_history": 11}


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown input kind 'leads'"):
        audit.audit_all({"leads": ""})


def test_charts_return_figures():
    df = funnel_frame(pd.date_range("2023-01-01", "2023-12-01", freq="MS").delete(3))
    df["leads"] = df["leads"].astype("float64")
    df.loc[1, "leads"] = np.nan
    frames = {"marketing_funnel": audit.audit_frame(df, "marketing_funnel")}
    fig = audit_plots.coverage_timeline(audit.rows_by_month({"marketing_funnel": df}))
    assert isinstance(fig, Figure)
    m = audit.missing_matrix(frames)
    assert m.loc["marketing_funnel", "leads"] == pytest.approx(1 / 22)
    assert isinstance(audit_plots.missing_heatmap(m), Figure)
    matplotlib.pyplot.close("all")


def test_returns_are_judged_among_returns():
    rng = np.random.default_rng(11)
    n = 600
    revenue = np.round(rng.lognormal(4, 0.4, n), 2)
    revenue[:30] = -np.round(rng.lognormal(4, 0.4, 30), 2)  # ordinary returns
    revenue[40] = 30_000.0  # a typing error
    revenue[5] = -30_000.0  # and a return of it
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) % 200, "D"),
            "revenue": revenue,
        }
    )
    o = audit.outliers(df, TX).set_index("column").loc["revenue"]
    assert o["scale"] == "log, by sign"
    assert (o["count"], o["n_high"], o["n_low"]) == (2, 1, 1)
    assert "c40" in o["examples"] and "c5 " in o["examples"]


def test_mixed_frequencies_in_a_sales_history():
    # a monthly and a quarterly series: neither has a gap, and the file has none on the quarterly grid
    monthly = pd.DataFrame({"date": pd.date_range("2020-01-01", "2021-12-01", freq="MS"), "series_id": "m", "sales": 10.0})
    quarterly = pd.DataFrame({"date": pd.date_range("2019-01-01", "2021-10-01", freq="QS"), "series_id": "q", "sales": 30.0})
    df = pd.concat([monthly, quarterly.drop(index=[2])], ignore_index=True)  # q misses 2019 Q3
    fa = audit.audit_frame(df, "sales_history", keys=["series_id"])
    per = fa.series_coverage.set_index("series_id")
    assert per.loc["m", "frequency"] == "month" and per.loc["m", "missing_periods"] == 0
    assert per.loc["q", "frequency"] == "quarter" and per.loc["q", "missing_periods"] == 1
    assert per.loc["q", "first_missing"] == pd.Timestamp("2019-07-01")
    cov = fa.coverage.iloc[0]
    assert cov["frequency"] == "quarter" and cov["missing_periods"] == 1
    counts = audit.rows_by_month({"sales_history": df}).set_index("month")
    # Q1 has a row (February is inside it); Q3 has none
    assert counts.loc[[pd.Timestamp("2019-02-01"), pd.Timestamp("2019-08-01")], "missing"].tolist() == [False, True]


def test_planted_store_closure_found_as_a_zero_run():
    weeks = pd.date_range("2024-01-01", periods=26, freq="W-MON")
    rows = [
        {"date": w, "store_id": s, "product_id": p, "price": 5.0, "units": 40.0}
        for w in weeks
        for s in ("S1", "S2")
        for p in ("A", "B")
    ]
    df = pd.DataFrame(rows)
    closed = (df["store_id"] == "S2") & df["date"].between(weeks[8], weeks[11])
    df.loc[closed, "units"] = 0.0
    df.loc[(df["store_id"] == "S1") & (df["product_id"] == "A") & (df["date"] == weeks[3]), "units"] = 0.0  # one-off
    runs = audit.zero_runs(df, PANEL)
    assert len(runs) == 2 and set(runs["product_id"]) == {"A", "B"} and set(runs["store_id"]) == {"S2"}
    assert (runs["start"] == weeks[8]).all() and (runs["end"] == weeks[11]).all() and (runs["periods"] == 4).all()
    issue = audit.audit_frame(df, "price_panel").issues().set_index("check").loc["zero runs"]
    assert issue["count"] == 2 and "S2 / A: 2024-02-26 to 2024-03-18 (4)" in issue["detail"]


def test_chart_captions_are_written_from_the_audit(tmp_path):
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "order_date": ["2024-01-05", "2024-02-03", "2024-04-09", "2024-04-10"],
            "revenue": [10.0, 20.0, 5.0, 7.0],
            "channel": ["web", None, "web", "shop"],
        }
    )
    res = audit.audit_all({"transactions": write_csv(tmp_path / "tx.csv", tx)})
    assert audit.coverage_caption(res) == (
        "Rows per month of 1 input(s) with dates, 2024-01 to 2024-04; 1 period(s) without any row: transactions (1)."
    )
    assert audit.missing_caption(res) == (
        "Share of missing values per input and column: 1 column(s) miss values; most in transactions 'channel' (25%)."
    )
    full = tx.assign(order_date=["2024-01-05", "2024-02-03", "2024-03-09", "2024-04-10"], channel="web")
    clean = audit.audit_all({"transactions": write_csv(tmp_path / "ok.csv", full)})
    assert audit.coverage_caption(clean).endswith("2024-01 to 2024-04; no period without rows.")
    assert "no column misses any value" in audit.missing_caption(clean)

"""Tests of marksell.segmentation.rfm: RFM table/scores/segments, clusters vs the planted segments."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from marksell.errors import AnalysisError
from marksell.sample import customers as sample_customers
from marksell.segmentation import rfm as sg
from marksell.segmentation import summary as sr


@pytest.fixture(scope="module")
def sample():
    tables, truth = sample_customers.generate(np.random.default_rng(42))
    rfm = sg.rfm_table(tables["transactions"])
    return tables, truth, rfm


@pytest.fixture(scope="module")
def fm_fit(sample):
    _, _, rfm = sample
    return sg.fit_clusters(rfm, n_clusters=0, seed=0, features=("frequency", "monetary"))


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "order_id"]).assign(
        order_date=lambda d: pd.to_datetime(d["order_date"])
    )


SMALL = _tx(
    [
        ("A", "2024-01-01", 10.0, "o1"),
        ("A", "2024-01-01", 5.0, "o2"),
        ("A", "2024-01-10", 20.0, "o3"),
        ("A", "2024-01-12", -5.0, "o3"),
        ("B", "2024-01-05", 50.0, "o4"),
        ("C", "2024-01-02", 8.0, "o5"),
        ("C", "2024-01-20", 12.0, "o6"),
    ]
)


def test_rfm_table_merges_same_day_orders_and_nets_returns():
    rfm = sg.rfm_table(SMALL).set_index("customer_id")
    assert rfm.attrs["as_of"] == pd.Timestamp("2024-01-21")  # day after the last order
    assert rfm.loc["A", "frequency"] == 2  # two orders on 1 Jan merged
    assert rfm.loc["A", "recency_days"] == 11 and rfm.loc["A", "tenure_days"] == 20
    assert rfm.loc["A", "monetary_total"] == pytest.approx(30.0)  # 35 gross - 5 returned
    assert rfm.loc["A", "monetary"] == pytest.approx(15.0)
    assert rfm.loc["B", "frequency"] == 1 and rfm.loc["C", "recency_days"] == 1


def test_rfm_table_without_merging_counts_orders_and_respects_as_of():
    rfm = sg.rfm_table(SMALL, merge_same_day=False).set_index("customer_id")
    assert rfm.loc["A", "frequency"] == 3
    cut = sg.rfm_table(SMALL, as_of="2024-01-10").set_index("customer_id")
    assert cut.loc["A", "frequency"] == 1 and cut.loc["A", "recency_days"] == 9
    assert "C" in cut.index and cut.loc["C", "frequency"] == 1
    assert any("on or after as_of" in n for n in cut.attrs["notes"])


def test_rfm_scores_ties_share_a_score_and_edges_are_shown(sample):
    _, _, rfm = sample
    scored, edges = sg.rfm_scores(rfm)
    one_order = scored["frequency"] == 1
    assert one_order.mean() > 0.2  # heavy ties at 1 order
    assert scored.loc[one_order, "f_score"].nunique() == 1 and scored.loc[one_order, "f_score"].iloc[0] == 1
    assert scored[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    # 5 = best: most recent customers have r_score 5, highest spend m_score 5
    assert scored.loc[scored["recency_days"].idxmin(), "r_score"] == 5
    assert scored.loc[scored["monetary"].idxmax(), "m_score"] == 5
    f = edges[edges["measure"] == "frequency"]
    assert f["customers"].sum() == len(rfm) and (f["from"] <= f["to"]).all()
    assert (f["from"].to_numpy()[1:] > f["to"].to_numpy()[:-1]).all()  # bins do not overlap


def test_rfm_segment_rules_name_every_score_pair():
    grid = pd.DataFrame([(r, f) for r in range(1, 6) for f in range(1, 6)], columns=["r_score", "f_score"])
    seg = sg.rfm_segments(grid)
    assert not (seg == "Unclassified").any()
    named = dict(zip(zip(grid["r_score"], grid["f_score"]), seg))
    assert named[(5, 5)] == "Champions" and named[(1, 1)] == "Lost" and named[(1, 5)] == "Cannot lose them"
    assert named[(5, 1)] == "New" and named[(2, 3)] == "At risk" and named[(3, 3)] == "Need attention"
    assert set(seg) <= set(sg.RFM_SEGMENT_RULES["segment"])


def test_kmeans_on_frequency_and_spend_recovers_planted_segments_ari_at_least_0_6(sample, fm_fit):
    _, truth, rfm = sample
    res = fm_fit
    planted = rfm["customer_id"].map(truth["segment_of"])
    ari = adjusted_rand_score(planted, res.labels)
    assert res.k_automatic and 3 <= res.k <= 8, res.evidence
    assert ari >= 0.6, ari
    assert res.stability["ari_mean"] >= 0.8  # bootstrap refits agree with the chosen solution
    assert set(res.evidence.columns) >= {"k", "silhouette", "inertia"}


def test_kmeans_on_full_rfm_at_k4_ari_at_least_0_35(sample):
    # recency mostly reflects life-cycle stage, so full RFM recovers the planted types less well
    _, truth, rfm = sample
    res = sg.fit_clusters(rfm, n_clusters=4, seed=0, n_boot=2)
    ari = adjusted_rand_score(rfm["customer_id"].map(truth["segment_of"]), res.labels)
    assert ari >= 0.35, ari
    assert not res.k_automatic


def test_kmeans_with_the_planted_number_of_clusters_ari_at_least_0_7(sample):
    _, truth, rfm = sample
    res = sg.fit_clusters(rfm, n_clusters=4, seed=0, features=("frequency", "monetary"), n_boot=2)
    ari = adjusted_rand_score(rfm["customer_id"].map(truth["segment_of"]), res.labels)
    assert ari >= 0.7, ari


def test_cluster_names_are_plain_words_and_unique(sample, fm_fit):
    _, truth, rfm = sample
    res = fm_fit
    names = list(res.names.values())
    assert len(set(names)) == res.k
    assert res.names[0].startswith("Recent frequent high-spend")  # cluster 0 = most valuable
    planted = rfm["customer_id"].map(truth["segment_of"])
    top = planted[res.labels == 0].value_counts(normalize=True)
    assert top.index[0] == "loyal high spenders" and top.iloc[0] > 0.8
    assert any("one-time" in n for n in names) and any("low-spend" in n for n in names)


def test_gaussian_mixture_option_runs_and_labels_everyone(sample):
    _, _, rfm = sample
    res = sg.fit_clusters(rfm, n_clusters=4, seed=0, method="gmm", n_boot=2, features=("frequency", "monetary"))
    assert len(res.labels) == len(rfm) and set(res.labels) <= set(range(4))


def test_segment_profiles_shares_and_channel_mix(sample):
    tables, truth, rfm = sample
    rfm = rfm.assign(segment=rfm["customer_id"].map(truth["segment_of"]))
    prof = sg.segment_profiles(rfm, by="segment").set_index("group")
    assert prof["share_customers"].sum() == pytest.approx(1.0)
    assert prof["share_revenue"].sum() == pytest.approx(1.0)
    mix = prof[[c for c in prof.columns if c.startswith("channel:")]]
    assert np.allclose(mix.sum(axis=1), 1.0)
    # display brings mostly one-and-done customers (planted)
    assert mix["channel:display"].idxmax() == "one-and-done"
    assert prof.loc["loyal high spenders", "share_revenue"] > prof.loc["loyal high spenders", "share_customers"] * 2


def test_pareto_concentration_exact_values():
    values = np.array([91.0] + [1.0] * 9)
    curve, stats = sg.pareto_concentration(values)
    assert stats["top_10pct_revenue_share"] == pytest.approx(0.91)
    assert stats["customer_share_for_80pct_revenue"] == pytest.approx(0.1)
    assert stats["gini"] == pytest.approx(0.81)
    assert curve["revenue_share"].iloc[-1] == pytest.approx(1.0)


def test_action_table_lists_aims_and_value_at_stake():
    cust = pd.DataFrame(
        {"rfm_segment": ["Champions", "Lost", "At risk"], "monetary_total": [100.0, 5.0, 40.0], "clv": [50.0, 1.0, 20.0]}
    )
    act = sg.action_table(cust)
    assert list(act["segment"]) == ["Champions", "At risk", "Lost"]
    assert dict(zip(act["segment"], act["aim"])) == {"Champions": "retain", "At risk": "win back", "Lost": "let go"}


# ---------------------------------------------------------------------------------- bad input
def test_no_transactions_gives_clear_message():
    with pytest.raises(AnalysisError, match="no transactions"):
        sg.rfm_table(SMALL.iloc[0:0])


def test_non_numeric_revenue_names_column_and_examples():
    bad = SMALL.assign(revenue=SMALL["revenue"].astype(str).where(SMALL.index != 2, "$20"))
    with pytest.raises(AnalysisError, match=r"column 'revenue' must be numeric.*\$20"):
        sg.rfm_table(bad)


def test_missing_column_suggests_columns_mapping():
    with pytest.raises(AnalysisError, match="columns"):
        sg.rfm_table(SMALL.drop(columns="revenue"))


def test_future_dated_orders_are_left_out_with_a_note():
    tx = pd.concat([SMALL, _tx([("B", "2200-01-01", 99.0, "o9")])], ignore_index=True)
    rfm = sg.rfm_table(tx)
    assert rfm.attrs["as_of"] == pd.Timestamp("2024-01-21")
    assert any("dated after today" in n for n in rfm.attrs["notes"])
    assert rfm.set_index("customer_id").loc["B", "frequency"] == 1


def test_single_order_in_total_gives_rfm_but_clustering_explains():
    rfm = sg.rfm_table(SMALL.iloc[:1])
    assert len(rfm) == 1 and rfm["frequency"].iloc[0] == 1
    with pytest.raises(AnalysisError, match="at least 3 customers"):
        sg.fit_clusters(rfm)


def test_only_returns_means_no_customers():
    with pytest.raises(AnalysisError, match="no customers"):
        sg.rfm_table(SMALL.assign(revenue=-SMALL["revenue"].abs()))


def test_all_customers_with_one_order_get_frequency_score_1_not_a_middle_score():
    tx = _tx([(f"C{i}", f"2024-01-{i + 1:02d}", 10.0 + i, f"o{i}") for i in range(20)])
    scored, edges = sg.rfm_scores(sg.rfm_table(tx))
    assert (scored["f_score"] == 1).all()
    assert set(sg.rfm_segments(scored)) <= {"New", "Promising", "About to sleep", "Hibernating", "Lost"}


def test_customers_whose_orders_all_fall_on_one_day_are_new_not_lost():
    """A one-day export: every last order is on the latest day of the data (recency 1 day for all), so
    nobody is "longest ago"; with one occasion each they are first-time buyers: New, scored r 5, f 1."""
    tx = _tx([(f"C{i}", "2025-03-14", 10.0 + i, f"o{i}-{j}") for i in range(12) for j in range(1 + i % 3)])
    rfm = sg.rfm_table(tx)
    assert (rfm["recency_days"] == 1).all() and (rfm["frequency"] == 1).all()
    scored, edges = sg.rfm_scores(rfm)
    assert (scored["r_score"] == 5).all() and (scored["f_score"] == 1).all()
    assert set(sg.rfm_segments(scored)) == {"New"}
    recency = edges[edges["measure"] == "recency"]
    assert recency[["score", "customers", "share"]].values.tolist() == [[5, 12, 1.0]]
    feats = sg.cluster_features(rfm)
    assert (feats["recency"] == 0).all() and (feats["frequency"] == 0).all()  # not rounding noise blown to 1 sd
    names = sg.fit_clusters(rfm, n_clusters=3, seed=1).names.values()
    assert all(n.startswith("one-time ") for n in names), names  # neither "Lapsed" nor "Recent": recency says nothing
    # the same customers on three days: recency ranks them again, the oldest last orders score 1
    spread = tx.assign(
        order_date=pd.to_datetime(["2025-03-12", "2025-03-13", "2025-03-14"])[tx["customer_id"].str[1:].astype(int) % 3]
    )
    spread_scores, _ = sg.rfm_scores(sg.rfm_table(spread))
    assert sorted(set(spread_scores["r_score"])) == [1, 3, 5]
    assert sg.tied_score("frequency", pd.Series([3, 3]), 5) == 3 and sg.tied_score("monetary", pd.Series([9.0])) == 3


def test_report_helpers_join_clv_and_summarise_the_run(sample, fm_fit):
    from sklearn.metrics import adjusted_rand_score

    from marksell.segmentation import clv
    from marksell.segmentation import summary as sr

    tables, truth, rfm = sample
    scored, _ = sg.rfm_scores(rfm)
    scored["rfm_segment"] = sg.rfm_segments(scored)
    scored["cluster"] = fm_fit.labels
    scored["cluster_name"] = scored["cluster"].map(fm_fit.names)
    ari, table = sr.agreement_with_planted(scored, truth["segment_of"])
    planted = scored["customer_id"].map(truth["segment_of"])
    assert ari == pytest.approx(adjusted_rand_score(planted, scored["cluster"])) and ari >= 0.6
    assert table.to_numpy().sum() == len(scored) and set(table.columns) == set(planted)
    res = clv.fit_clv(tables["transactions"])
    customers = sr.score_customers(scored, res)
    assert len(customers) == len(scored) and list(customers[sr.CUSTOMER_COLUMNS].columns) == sr.CUSTOMER_COLUMNS
    one = customers.set_index("customer_id").loc[res.customers["customer_id"].iloc[0]]
    assert one["clv"] == pytest.approx(res.customers["clv"].iloc[0])
    rows = sr.summary_rows(sg.segment_profiles(customers, by="rfm_segment"), sg.segment_profiles(customers, by="cluster_name"))
    assert set(rows["kind"]) == {"rfm_segment", "cluster"}
    s = sr.summary(rfm, {"gini": 0.5}, fm_fit, ["frequency", "monetary"], res, customers, None, ari)
    assert s["customers"] == len(rfm) and s["clusters"]["ari_vs_planted"] == ari
    assert s["clv"]["total_clv"] == pytest.approx(customers["clv"].sum()) and s["holdout"] is None
    assert set(s["clv"]["params"]) >= {"r", "alpha", "a", "b"}


# --------------------------------------------------------------------------- findings in words
def test_group_findings_are_written_from_the_profiles():
    prof = pd.DataFrame(
        {
            "group": ["Champions", "Lost", "Loyal"],
            "customers": [10, 60, 30],
            "share_customers": [0.1, 0.6, 0.3],
            "share_revenue": [0.5, 0.1, 0.4],
            "total_clv": [300.0, 10.0, 90.0],
        }
    )
    text = sr.explain_groups(prof)
    assert text == (
        "More revenue than headcount: Champions (10% of customers, 50% of revenue). "
        "Many customers, little revenue: Lost (60% of customers, 10% of revenue)."
    )
    assert sr.explain_value(prof).startswith(
        "Most future value sits in Champions (75% of expected value, 50% of past revenue) and Loyal (22% of expected value"
    )
    assert sr.explain_value(prof.drop(columns="total_clv")).startswith("Future value is not available")


def test_notebook_clusters_agree_with_the_committed_planted_segments():
    """The comparison the notebook used to print, on the committed files: clusters of
    data/sample/transactions.csv against the segments in data/sample/ground_truth.json (README: ARI 0.83)."""
    import json

    from marksell.data import load_transactions
    from marksell.paths import sample_path

    truth = json.loads(sample_path("ground_truth").read_text())["customers"]
    rfm = sg.rfm_table(load_transactions(""))
    cl = sg.fit_clusters(rfm, seed=42, features=("frequency", "monetary"), n_boot=2)  # the notebook's choice of k
    scored = rfm.assign(cluster=cl.labels, cluster_name=pd.Series(cl.labels, index=rfm.index).map(cl.names))
    ari, table = sr.agreement_with_planted(scored, truth["segment_of"])
    assert ari >= 0.75
    assert sorted(table.columns) == sorted(truth["segment_names"])


def test_pareto_concentration_of_all_negative_revenue_names_the_cause():
    """Issue 19: all-negative revenue gave KeyError 'top_20pct_revenue_share' in the notebook."""
    from marksell.errors import AnalysisError

    with pytest.raises(AnalysisError, match="every customer has zero or negative net revenue.*sign of the revenue"):
        sg.pareto_concentration([-5.0, -1.0, 0.0])


def test_namesake_clusters_are_told_apart_by_what_separates_them():
    z = pd.DataFrame({"recency": [-1.0, -0.9, 0.0], "frequency": [2.0, 1.0, -0.3], "monetary": [1.5, 1.4, 0.0]}, index=[0, 1, 2])
    names = sg.name_clusters(z)
    assert names == {
        0: "Recent frequent high-spend customers (more frequent)",
        1: "Recent frequent high-spend customers (less frequent)",
        2: "Cooling occasional mid-spend customers",
    }
    three = pd.DataFrame(
        {"recency": [1.0, 1.0, 1.0], "frequency": [-0.5, -0.4, -0.3], "monetary": [-1.0, -2.0, -3.0]}, index=["a", "b", "c"]
    )
    assert sg.name_clusters(three) == {
        "c": "Lapsed occasional low-spend customers (lowest spend)",
        "b": "Lapsed occasional low-spend customers (middle monetary)",
        "a": "Lapsed occasional low-spend customers (highest spend)",
    }


def _profiles(**cols):
    base = {
        "group": ["Top", "Fading", "Young", "Dormant"],
        "customers": [100, 100, 100, 700],
        "share_customers": [0.1, 0.1, 0.1, 0.7],
        "share_revenue": [0.6, 0.3, 0.02, 0.08],
        "avg_frequency": [9.0, 4.0, 1.2, 1.1],
        "avg_p_alive": [0.95, 0.2, 0.97, 0.5],
        "total_clv": [7000.0, 300.0, 1300.0, 1400.0],
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_findings_name_the_groups_that_meet_each_rule():
    conc = {"top_20pct_revenue_share": 0.81, "customer_share_for_80pct_revenue": 0.19}
    lines = sr.findings(
        _profiles(),
        conc,
        {"ari_mean": 0.9, "stable": True},
        {"total_error_pct": -3.14, "customer_correlation": 0.7},
        currency="€",
    )
    assert lines[0] == (
        "**Where revenue comes from:** the top 20 % of customers bring 81 % of net revenue; 19 % of customers make 80 % of it."
    )
    assert lines[1].startswith("**Retain:** Top hold 70 % of the expected future value with 10 % of the customers")
    assert lines[2].startswith(
        "**Win back:** Fading brought 30 % of past revenue but holds 3 % of the expected "
        "value (20 % likely still active, €3 expected per customer)"
    )
    assert lines[3].startswith("**Grow:** Young buy less often than average but are likely still active")
    assert lines[4].startswith("**Let go:** Dormant are 70 % of the customers but hold 14 % of the expected value")
    assert lines[5] == (
        "**How sure:** the clusters hold when customers are resampled (mean adjusted Rand index "
        "0.90); on the held-out period the CLV model's total repeat purchases were off by 3.1 % "
        "(customer-level correlation 0.70)."
    )


def test_findings_without_clv_say_what_was_not_assessed():
    conc = {"top_20pct_revenue_share": 0.5, "customer_share_for_80pct_revenue": 0.6}
    lines = sr.findings(_profiles().drop(columns=["total_clv", "avg_p_alive"]), conc)
    assert lines[1].startswith("**Retain:** Top and Fading hold 90 % of the past revenue")
    assert lines[2].startswith("**Win back, grow, let go:** not assessed")
    assert len(lines) == 3


def test_rfm_statistics_and_display_kinds_for_people_tables():
    rfm = pd.DataFrame({"recency_days": [1, 10, 100], "frequency": [1, 2, 9], "monetary": [5.0, 50.0, 500.0]})
    stats = sr.rfm_statistics(rfm)
    assert list(stats.index) == ["lowest", "10th percentile", "median", "mean", "90th percentile", "highest"]
    assert stats.loc["median", "monetary"] == 50.0 and stats.loc["highest", "frequency"] == 9
    assert stats.loc["mean", "recency_days"] == pytest.approx(37.0)
    frame = pd.DataFrame(columns=["group", "channel:search", "region:West", "estimate", "ci_low", "customers"])
    assert sr.display_kinds(frame) == {
        "channel:search": "share",
        "region:West": "share",
        "estimate": "estimate",
        "ci_low": "estimate",
    }


@pytest.mark.parametrize("currency, money", [("€", "€"), ("EUR", "EUR "), ("", "")])
def test_describe_rfm_writes_amounts_with_the_run_currency(currency, money):
    rfm = pd.DataFrame({"recency_days": [1, 10, 100, 5], "frequency": [1, 1, 2, 12], "monetary": [40.0, 60.0, 1500.0, 9000.0]})
    text = sr.describe_rfm(rfm, currency)
    # medians 1.5 -> "2" purchases and 780; means 4.0 purchases and 2,650
    assert text.startswith(
        f"The median customer has made 2 purchase(s) and spends {money}780 per purchase; "
        f"the averages are 4.0 purchases and {money}2,650. 50% of customers bought once."
    )
    assert "pulls them up" in text


THREADS_DURING_FITS = """
import numpy as np, pandas as pd
from threadpoolctl import threadpool_info
from marksell.segmentation import rfm as sg

seen = []
kmeans = sg._kmeans


def watched(*args, **kwargs):
    seen.append(max(i["num_threads"] for i in threadpool_info()))
    return kmeans(*args, **kwargs)


sg._kmeans = watched
rng = np.random.default_rng(0)
rfm = pd.DataFrame({"customer_id": range(300), "recency_days": rng.integers(1, 400, 300),
                    "frequency": rng.integers(1, 20, 300), "monetary": rng.gamma(2, 50, 300)})
sg.fit_clusters(rfm, n_clusters=0, n_boot=2)
print(max(seen), len(seen))
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: every library runs one thread anyway")
def test_clustering_fits_run_on_one_thread_in_a_fresh_interpreter():
    """The one-thread block reaches only libraries loaded before it: scikit-learn's OpenMP runtime, loaded by
    its first import, ran k-means on every core (spinning against a second run of a parallel batch, results
    depending on the machine's cores)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", THREADS_DURING_FITS], capture_output=True, text=True, env=env, check=True)
    most, fits = map(int, out.stdout.split())
    assert fits > 2
    assert most == 1

"""Assembling the segmentation notebook's outputs: scored customers, agreement with planted truth,
and the run summary written to ``summary.json``."""

from __future__ import annotations

import pandas as pd

#: Columns of the ``customers.csv`` artifact (one row per customer).
CUSTOMER_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
                    "m_score", "rfm_segment", "cluster", "cluster_name", "p_alive",
                    "expected_purchases", "clv"]


def score_customers(scored: pd.DataFrame, clv_result) -> pd.DataFrame:
    """RFM scores, segments and clusters (``scored``) joined with each customer's CLV figures
    (``p_alive``, ``expected_purchases``, ``clv``; missing when CLV could not be fitted)."""
    cols = ["customer_id", "p_alive", "expected_purchases", "clv"]
    return scored.merge(clv_result.customers[cols], on="customer_id", how="left")


def agreement_with_planted(scored: pd.DataFrame, segment_of: dict) -> tuple[float, pd.DataFrame]:
    """Adjusted Rand index between the clusters and the planted segments, and their crosstab
    (rows: cluster names, columns: planted segments)."""
    from sklearn.metrics import adjusted_rand_score

    planted = scored["customer_id"].map(segment_of)
    ari = float(adjusted_rand_score(planted, scored["cluster"]))
    return ari, pd.crosstab(scored["cluster_name"], planted)


def summary_rows(by_segment: pd.DataFrame, by_cluster: pd.DataFrame) -> pd.DataFrame:
    """The ``segment_summary.csv`` artifact: profiles of RFM segments and clusters, one table."""
    return pd.concat([by_segment.assign(kind="rfm_segment"), by_cluster.assign(kind="cluster")],
                     ignore_index=True)


def summary(rfm: pd.DataFrame, concentration: dict, clusters, cluster_features, clv_result,
            customers: pd.DataFrame, holdout: dict | None, ari_vs_planted: float | None = None) -> dict:
    """The figures of a segmentation run for ``summary.json``."""
    res = clv_result
    out = {
        "customers": len(rfm), "as_of": rfm.attrs["as_of"], "concentration": concentration,
        "clusters": {"k": clusters.k, "automatic": clusters.k_automatic,
                     "features": list(cluster_features), "evidence": clusters.evidence,
                     "stability": clusters.stability, "names": clusters.names},
        "clv": {"available": res.available, "reason": res.reason, "params": res.params(),
                "bgnbd": res.bgnbd.as_dict() if res.bgnbd else None,
                "gamma_gamma": res.gamma_gamma.as_dict() if res.gamma_gamma else None,
                "total_clv": float(customers["clv"].sum()) if res.available else None,
                "settings": res.settings},
        "holdout": None if holdout is None else {k: v for k, v in holdout.items() if k != "fit"},
    }
    if ari_vs_planted is not None:
        out["clusters"]["ari_vs_planted"] = ari_vs_planted
    return out


# --------------------------------------------------------------------------- findings in words
def describe_rfm(rfm: pd.DataFrame) -> str:
    """How the typical customer compares with the average one (frequency and spend)."""
    f, m = rfm["frequency"], rfm["monetary"]
    one = float((f <= 1).mean())
    text = (f"The median customer has made {f.median():.0f} purchase(s) and spends {m.median():,.0f} per purchase; "
            f"the averages are {f.mean():.1f} purchases and {m.mean():,.0f}. {one:.0%} of customers bought once.")
    if f.mean() > 1.2 * f.median() or m.mean() > 1.2 * m.median():
        text += (" The averages sit above the medians: a smaller group of frequent or high-spending customers "
                 "pulls them up, which is why the groups below say more than the average customer.")
    return text


def explain_groups(profiles: pd.DataFrame, what: str = "segment") -> str:
    """Which groups bring more revenue than their headcount, and which bring less."""
    p = profiles[profiles["customers"] > 0]
    ratio = p["share_revenue"] / p["share_customers"]
    over = p[ratio > 1.5].sort_values("share_revenue", ascending=False)
    under = p[ratio < 0.5].sort_values("share_customers", ascending=False)
    lines = []
    if len(over):
        lines.append("More revenue than headcount: " + "; ".join(
            f"{r['group']} ({r['share_customers']:.0%} of customers, {r['share_revenue']:.0%} of revenue)"
            for _, r in over.iterrows()) + ".")
    if len(under):
        lines.append("Many customers, little revenue: " + "; ".join(
            f"{r['group']} ({r['share_customers']:.0%} of customers, {r['share_revenue']:.0%} of revenue)"
            for _, r in under.iterrows()) + ".")
    return " ".join(lines) or f"Revenue is spread roughly in proportion to the customers in each {what}."


def explain_value(profiles: pd.DataFrame) -> str:
    """Where the expected future value sits, compared with past revenue (needs ``total_clv``)."""
    if "total_clv" not in profiles or not profiles["total_clv"].notna().any():
        return "Future value is not available (the CLV models could not be fitted)."
    p = profiles.assign(share_clv=profiles["total_clv"] / profiles["total_clv"].sum())
    p = p.sort_values("share_clv", ascending=False)
    top = p.head(2)
    text = ("Most future value sits in " + " and ".join(
        f"{r['group']} ({r['share_clv']:.0%} of expected value, {r['share_revenue']:.0%} of past revenue)"
        for _, r in top.iterrows()) + ".")
    fading = p[(p["share_revenue"] > 0.1) & (p["share_clv"] < 0.5 * p["share_revenue"])]
    if len(fading):
        text += (" Past revenue that is unlikely to come back: " + "; ".join(
            f"{r['group']} ({r['share_revenue']:.0%} of past revenue, {r['share_clv']:.0%} of expected value)"
            for _, r in fading.iterrows()) + ".")
    return text

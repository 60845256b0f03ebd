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


def run_summary(rfm: pd.DataFrame, concentration: dict, clusters, cluster_features, clv_result,
                customers: pd.DataFrame, holdout: dict | None, ari_vs_planted: float | None = None
                ) -> dict:
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

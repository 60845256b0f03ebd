"""Assembling the segmentation notebook's outputs: scored customers, agreement with planted truth,
and the run summary written to ``summary.json``."""

from __future__ import annotations

import pandas as pd

from marksell.reporting.numbers import money, share

#: Columns of the ``customers.csv`` artifact (one row per customer).
CUSTOMER_COLUMNS = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "cluster",
    "cluster_name",
    "p_alive",
    "expected_purchases",
    "clv",
]


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
    return pd.concat([by_segment.assign(kind="rfm_segment"), by_cluster.assign(kind="cluster")], ignore_index=True)


def summary(
    rfm: pd.DataFrame,
    concentration: dict,
    clusters,
    cluster_features,
    clv_result,
    customers: pd.DataFrame,
    holdout: dict | None,
    ari_vs_planted: float | None = None,
    currency: str = "",
) -> dict:
    """The figures of a segmentation run for ``summary.json``."""
    res = clv_result
    out = {
        "customers": len(rfm),
        "as_of": rfm.attrs["as_of"],
        "currency": currency,
        "concentration": concentration,
        "clusters": {
            "k": clusters.k,
            "automatic": clusters.k_automatic,
            "features": list(cluster_features),
            "evidence": clusters.evidence,
            "stability": clusters.stability,
            "names": clusters.names,
        },
        "clv": {
            "available": res.available,
            "reason": res.reason,
            "params": res.params(),
            "bgnbd": res.bgnbd.as_dict() if res.bgnbd else None,
            "gamma_gamma": res.gamma_gamma.as_dict() if res.gamma_gamma else None,
            "total_clv": float(customers["clv"].sum()) if res.available else None,
            "settings": res.settings,
        },
        "holdout": None if holdout is None else {k: v for k, v in holdout.items() if k != "fit"},
        "warnings": list(res.warnings),  # results not to be trusted: the run is marked `warning`
    }
    if ari_vs_planted is not None:
        out["clusters"]["ari_vs_planted"] = ari_vs_planted
    return out


# --------------------------------------------------------------------------- findings in words
def describe_rfm(rfm: pd.DataFrame, currency: str = "") -> str:
    """How the typical customer compares with the average one (frequency and spend, money in ``currency``)."""
    f, m = rfm["frequency"], rfm["monetary"]
    one = float((f <= 1).mean())
    text = (
        f"The median customer has made {f.median():.0f} purchase(s) and spends {money(m.median(), currency)} per "
        f"purchase; the averages are {f.mean():.1f} purchases and {money(m.mean(), currency)}. "
        f"{one:.0%} of customers bought once."
    )
    if f.mean() > 1.2 * f.median() or m.mean() > 1.2 * m.median():
        text += (
            " The averages sit above the medians: a smaller group of frequent or high-spending customers "
            "pulls them up, which is why the groups below say more than the average customer."
        )
    return text


def explain_groups(profiles: pd.DataFrame, what: str = "segment") -> str:
    """Which groups bring more revenue than their headcount, and which bring less."""
    p = profiles[profiles["customers"] > 0]
    ratio = p["share_revenue"] / p["share_customers"]
    over = p[ratio > 1.5].sort_values("share_revenue", ascending=False)
    under = p[ratio < 0.5].sort_values("share_customers", ascending=False)
    lines = []
    if len(over):
        lines.append(
            "More revenue than headcount: "
            + "; ".join(
                f"{r['group']} ({r['share_customers']:.0%} of customers, {r['share_revenue']:.0%} of revenue)"
                for _, r in over.iterrows()
            )
            + "."
        )
    if len(under):
        lines.append(
            "Many customers, little revenue: "
            + "; ".join(
                f"{r['group']} ({r['share_customers']:.0%} of customers, {r['share_revenue']:.0%} of revenue)"
                for _, r in under.iterrows()
            )
            + "."
        )
    return " ".join(lines) or f"Revenue is spread roughly in proportion to the customers in each {what}."


def explain_value(profiles: pd.DataFrame) -> str:
    """Where the expected future value sits, compared with past revenue (needs ``total_clv``)."""
    if "total_clv" not in profiles or not profiles["total_clv"].notna().any():
        return "Future value is not available (the CLV models could not be fitted)."
    p = profiles.assign(share_clv=profiles["total_clv"] / profiles["total_clv"].sum())
    p = p.sort_values("share_clv", ascending=False)
    top = p.head(2)
    text = (
        "Most future value sits in "
        + " and ".join(
            f"{r['group']} ({r['share_clv']:.0%} of expected value, {r['share_revenue']:.0%} of past revenue)"
            for _, r in top.iterrows()
        )
        + "."
    )
    fading = p[(p["share_revenue"] > 0.1) & (p["share_clv"] < 0.5 * p["share_revenue"])]
    if len(fading):
        text += (
            " Past revenue that is unlikely to come back: "
            + "; ".join(
                f"{r['group']} ({r['share_revenue']:.0%} of past revenue, {r['share_clv']:.0%} of expected value)"
                for _, r in fading.iterrows()
            )
            + "."
        )
    return text


def findings(
    by_segment: pd.DataFrame, concentration: dict, stability: dict | None = None, holdout: dict | None = None, currency: str = ""
) -> list[str]:
    """What this means, written from the run: where revenue and future value sit, whom to retain, win back,
    grow and let go, and how far the groups and the value model can be trusted.

    ``by_segment`` is :func:`segment_profiles` by segment (with ``total_clv`` and ``avg_p_alive`` when the
    CLV models were fitted); each sentence names the groups of this customer base that meet its rule.
    """
    p, has_clv, value = _ranked_segments(by_segment)
    out = [
        f"**Where revenue comes from:** the top 20 % of customers bring "
        f"{_pct(concentration['top_20pct_revenue_share'])} of net revenue; "
        f"{_pct(concentration['customer_share_for_80pct_revenue'])} of customers make 80 % of it."
    ]
    top = p[p[value] >= 1.5 * p["share_customers"]].head(3)
    top = top if len(top) else p.head(1)
    what = "expected future value" if has_clv else "past revenue"
    out.append(
        f"**Retain:** {_names(top)} hold {_pct(top[value].sum())} of the {what} with "
        f"{_pct(top['share_customers'].sum())} of the customers: reward them rather than discount to them."
    )
    if not has_clv:
        out.append(
            "**Win back, grow, let go:** not assessed: they need the lifetime-value model, which could not "
            "be fitted on this data (see section 6)."
        )
    else:
        out.extend(_value_actions(p, set(top["group"]), currency))
    sure = _how_sure(stability, holdout)
    if sure:
        out.append("**How sure:** " + "; ".join(sure) + ".")
    return out


def _ranked_segments(by_segment: pd.DataFrame) -> tuple[pd.DataFrame, bool, str]:
    """The segments with customers, by their share of value, largest first; whether the CLV was fitted; and the
    value column ranked on (``share_clv``, added here, with the CLV, else ``share_revenue``)."""
    p = by_segment[by_segment["customers"] > 0].copy()
    has_clv = "total_clv" in p and p["total_clv"].notna().any() and p["total_clv"].sum() > 0
    value = "share_clv" if has_clv else "share_revenue"
    if has_clv:
        p["share_clv"] = p["total_clv"] / p["total_clv"].sum()
    return p.sort_values(value, ascending=False, kind="stable"), has_clv, value


def _value_actions(p: pd.DataFrame, taken: set, currency: str) -> list[str]:
    """Win back, grow and let go, each from the groups not named before (``taken``: the groups to retain)."""
    out = []
    fading = p[(p["share_revenue"] >= 0.02) & (p["share_clv"] < 0.5 * p["share_revenue"]) & ~p["group"].isin(taken)]
    if len(fading):
        out.append(
            "**Win back:** "
            + "; ".join(
                f"{r.group} brought {_pct(r.share_revenue)} of past revenue but holds {_pct(r.share_clv)} of "
                f"the expected value ({_pct(r.avg_p_alive)} likely still active, "
                f"{money(r.total_clv / r.customers, currency)} expected per customer)"
                for r in fading.itertuples()
            )
            + ": a win-back offer should cost less than that expected value."
        )
    else:
        out.append(
            "**Win back:** no segment's past revenue is fading: each keeps at least half of its share "
            "of revenue in expected value."
        )
    taken = taken | set(fading["group"])
    grow = _growth_groups(p, taken)
    if len(grow):
        out.append(
            f"**Grow:** {_names(grow)} buy less often than average but are likely still active and hold "
            f"more of the expected value ({_pct(grow['share_clv'].sum())}) than of past revenue "
            f"({_pct(grow['share_revenue'].sum())}): move them to a second and third order."
        )
    taken = taken | set(grow["group"])
    let_go = p[(p["share_clv"] < 0.5 * p["share_customers"]) & ~p["group"].isin(taken)]
    if len(let_go):
        out.append(
            f"**Let go:** {_names(let_go)} are {_pct(let_go['share_customers'].sum())} of the customers "
            f"but hold {_pct(let_go['share_clv'].sum())} of the expected value: low-cost reminders only."
        )
    return out


def _growth_groups(p: pd.DataFrame, taken: set) -> pd.DataFrame:
    """Up to three groups not yet named that buy less often than the average customer, are at least as likely
    to be active, and hold more of the expected value than of past revenue."""
    mean_f = (p["avg_frequency"] * p["customers"]).sum() / p["customers"].sum()
    mean_alive = (p["avg_p_alive"] * p["customers"]).sum() / p["customers"].sum()
    return p[
        (p["avg_frequency"] < mean_f)
        & (p["avg_p_alive"] >= mean_alive)
        & (p["share_clv"] > p["share_revenue"])
        & ~p["group"].isin(taken)
    ].head(3)


def _how_sure(stability: dict | None, holdout: dict | None) -> list[str]:
    """How far the groups (resampling stability) and the value model (held-out period) can be trusted."""
    sure = []
    if stability and stability.get("ari_mean") is not None:
        sure.append(
            f"the clusters {'hold' if stability.get('stable') else 'shift'} when customers are resampled "
            f"(mean adjusted Rand index {stability['ari_mean']:.2f})"
        )
    if holdout and holdout.get("total_error_pct") is not None:
        sure.append(
            f"on the held-out period the CLV model's total repeat purchases were off by "
            f"{abs(holdout['total_error_pct']):.1f} % (customer-level correlation "
            f"{holdout.get('customer_correlation', float('nan')):.2f})"
        )
    return sure


def _pct(value: float) -> str:
    """A share with one decimal when it is below 1 % (so that a real, small share does not read 0 %)."""
    return share(value, 1 if 0 < abs(value) < 0.01 else 0)


def _names(frame: pd.DataFrame) -> str:
    names = [str(g) for g in frame["group"]]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --------------------------------------------------------------------------- tables for people
#: Display kinds of columns whose names do not say them (see ``reporting.tables.table``).
_ESTIMATES = ("estimate", "std_error", "ci_low", "ci_high")


def display_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Kinds for ``reporting.tables.table``: channel/region mix columns are shares, model parameters
    estimates (significant digits, as their sizes differ by orders of magnitude)."""
    kinds = {c: "share" for c in frame.columns if str(c).startswith(("channel:", "region:"))}
    kinds.update({c: "estimate" for c in _ESTIMATES if c in frame.columns})
    return kinds


def rfm_statistics(rfm: pd.DataFrame) -> pd.DataFrame:
    """The spread of recency, frequency and spend for people (instead of ``describe()``): one row per
    statistic (lowest, 10th percentile, median, mean, 90th percentile, highest), one column per measure."""
    cols = [c for c in ("recency_days", "frequency", "monetary", "monetary_total", "tenure_days") if c in rfm]
    x = rfm[cols].astype(float)
    stats = {
        "lowest": x.min(),
        "10th percentile": x.quantile(0.1),
        "median": x.median(),
        "mean": x.mean(),
        "90th percentile": x.quantile(0.9),
        "highest": x.max(),
    }
    return pd.DataFrame(stats).T.rename_axis("statistic")

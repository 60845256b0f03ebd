"""Reading fitted elasticities: promotion lift, comparison with planted truth, the wide table, naive vs
corrected with the endogeneity test, and short descriptions and a summary for the notebook."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from marksell.errors import AnalysisError
from marksell.pricing.estimators import Z95


# --------------------------------------------------------------------------- promotions
def promo_lift(fits: pd.DataFrame, method: str = "iv") -> pd.DataFrame:
    """Promotion lift per product: % more units in a promo week at the same price (95 % CI).

    The lift is ``exp(b) - 1`` for the promo coefficient ``b`` of the log-log model, i.e. the effect
    of the promotion itself (display, feature) on top of its price cut, which the elasticity covers.
    """
    sub = fits[(fits["method"] == method) & (fits["level"] == "product")]
    if sub.empty:
        raise AnalysisError(f"No '{method}' rows in the elasticity table; run fit_elasticities with it.")
    b, se = sub["promo_coef"].astype(float), sub["promo_se"].astype(float)
    out = pd.DataFrame(
        {
            "product_id": sub["product_id"],
            "category": sub["category"],
            "method": method,
            "lift_pct": np.expm1(b) * 100,
            "ci_low_pct": np.expm1(b - Z95 * se) * 100,
            "ci_high_pct": np.expm1(b + Z95 * se) * 100,
            "identified": sub["identified"] & b.notna(),
        }
    )
    out["reason"] = np.where(out["identified"], "", np.where(sub["identified"], "no promo variation", sub["reason"].fillna("")))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- truth & summary
def compare_to_truth(fits: pd.DataFrame, truth: dict) -> pd.DataFrame:
    """Join product rows with planted elasticities: error and whether the 95 % CI covers the truth."""
    sub = fits[fits["level"] == "product"].copy()
    sub["true_elasticity"] = sub["product_id"].map(truth)
    sub = sub[sub["true_elasticity"].notna()]
    sub["error"] = sub["elasticity"] - sub["true_elasticity"]
    sub["covered"] = (sub["ci_low"] <= sub["true_elasticity"]) & (sub["true_elasticity"] <= sub["ci_high"])
    return sub[
        ["product_id", "method", "elasticity", "ci_low", "ci_high", "true_elasticity", "error", "covered", "identified"]
    ].reset_index(drop=True)


def truth_coverage(check: pd.DataFrame) -> pd.DataFrame:
    """Per method, from :func:`compare_to_truth`: products compared, how many 95 % intervals cover
    the planted elasticity, and the mean absolute error."""
    return check.groupby("method").agg(
        products=("product_id", "size"), covered=("covered", "sum"), mean_abs_error=("error", lambda s: s.abs().mean())
    )


def wide_table(fits: pd.DataFrame, level: str = "product", digits: int = 2) -> pd.DataFrame:
    """One row per product (or category), one column per method: ``estimate [ci_low, ci_high]``.

    Unidentified cells read ``not identified``; ``n_obs`` and the 2SLS first-stage F are appended.
    """
    sub = fits[fits["level"] == level]
    cells = np.where(
        sub["identified"],
        sub["elasticity"].map(lambda v: f"{v:.{digits}f}")
        + " ["
        + sub["ci_low"].map(lambda v: f"{v:.{digits}f}")
        + ", "
        + sub["ci_high"].map(lambda v: f"{v:.{digits}f}")
        + "]",
        "not identified",
    )
    out = sub.assign(cell=cells).pivot(index="product_id", columns="method", values="cell")
    out = out[[m for m in fits["method"].unique() if m in out.columns]]
    first = sub.drop_duplicates("product_id").set_index("product_id")
    out["n_obs"] = sub.groupby("product_id")["n_obs"].max()
    if "iv" in set(sub["method"]):
        out["first_stage_f"] = sub[sub["method"] == "iv"].set_index("product_id")["first_stage_f"].round(1)
    out.insert(0, "category", first["category"])
    return out


def naive_vs_corrected(
    fits: pd.DataFrame, naive: str = "ols", corrected: str = "iv", truth: dict | None = None, alpha: float = 0.01
) -> pd.DataFrame:
    """Naive and corrected elasticities side by side, with a test of whether prices are endogenous.

    ``endogeneity_p`` is the heteroskedasticity-robust regression-based Durbin-Wu-Hausman test of the
    2SLS fit (the first-stage residual added to the naive equation); when the 2SLS rows are missing it
    falls back to the classic Hausman contrast ``(corrected - naive) / sqrt(se_c^2 - se_n^2)``.
    ``prices_respond_to_demand`` = p < ``alpha`` (1 % by default: many products are tested at once, so a
    stricter level keeps false alarms rare). With ``truth`` (product -> elasticity) the absolute
    errors of both estimates are added.
    """
    cols = ["product_id", "elasticity", "std_error", "identified", "endogeneity_p"]
    a = fits[(fits["method"] == naive) & (fits["level"] == "product")][cols].set_index("product_id")
    b = fits[(fits["method"] == corrected) & (fits["level"] == "product")][cols].set_index("product_id")
    if a.empty or b.empty:
        raise AnalysisError(f"Need both '{naive}' and '{corrected}' rows; fitted methods: {sorted(fits['method'].unique())}.")
    out = pd.DataFrame({naive: a["elasticity"], corrected: b["elasticity"]})
    out["gap"] = out[corrected] - out[naive]
    iv = fits[(fits["method"] == "iv") & (fits["level"] == "product")].set_index("product_id")["endogeneity_p"]
    if iv.notna().any():
        out["endogeneity_p"] = iv.reindex(out.index).astype(float)
    else:
        var = (b["std_error"] ** 2 - a["std_error"] ** 2).astype(float)
        z = out["gap"] / np.sqrt(var.where(var > 0, np.nan))
        out["endogeneity_p"] = 2 * stats.norm.sf(z.abs())
    out["prices_respond_to_demand"] = out["endogeneity_p"] < alpha
    both = (a["identified"] & b["identified"]).reindex(out.index).fillna(False).astype(bool)
    out.loc[~both, ["gap", "endogeneity_p"]] = np.nan
    out.loc[~both, "prices_respond_to_demand"] = False
    if truth:
        out["truth"] = out.index.map(truth)
        out[f"abs_error_{naive}"] = (out[naive] - out["truth"]).abs()
        out[f"abs_error_{corrected}"] = (out[corrected] - out["truth"]).abs()
    return out.reset_index()


def describe_panel(panel: pd.DataFrame) -> str:
    """One line on what the panel holds: rows, products, stores, weeks, zero-unit weeks."""
    parts = [f"{len(panel):,} rows"]
    for col, word in (("product_id", "products"), ("store_id", "stores"), ("category", "categories")):
        if col in panel.columns:
            parts.append(f"{panel[col].nunique()} {word}")
    if "date" in panel.columns:
        parts.append(f"{panel['date'].nunique()} weeks ({panel['date'].min():%Y-%m-%d} to {panel['date'].max():%Y-%m-%d})")
    parts.append(f"{int((panel['units'] == 0).sum())} zero-unit rows")
    return ", ".join(parts)


def explain_comparison(comparison: pd.DataFrame, naive: str = "ols", corrected: str = "iv") -> str:
    """A few sentences on which products the naive estimate misleads, for the notebook."""
    flagged = comparison[comparison["prices_respond_to_demand"]]
    n = len(comparison)
    if flagged.empty:
        what = "the product" if n == 1 else f"any of the {n} products"
        return (
            f"For {what} the {corrected} estimate does not differ from the naive one by more than chance "
            "(endogeneity test p >= 0.01): prices look unrelated to demand shocks here, and the (more "
            "precise) naive estimates can be used; the corrected ones remain the safer reading."
        )
    lines = [
        f"For **{len(flagged)} of {n}** products the naive and corrected estimates differ by more than "
        f"chance ({', '.join(flagged['product_id'])}):"
    ]
    for _, r in flagged.iterrows():
        direction = "more" if r["gap"] < 0 else "less"
        lines.append(
            f"- {r['product_id']}: naive {r[naive]:.2f} vs corrected {r[corrected]:.2f} — demand is "
            f"{direction} price-sensitive than the naive regression says."
        )
    lines.append("Use the corrected estimates for these products; the naive ones would mis-price them.")
    return "\n".join(lines)


def summary(
    fits: pd.DataFrame, recs: pd.DataFrame | None = None, comparison: pd.DataFrame | None = None, notes=(), **settings
) -> dict:
    """``summary.json`` of a run: settings, counts, median elasticity per method, the products whose prices
    respond to demand (from the naive-vs-corrected ``comparison``) and the run's notes."""
    prod = fits[fits["level"] == "product"]
    out = {"settings": settings, "n_products": int(prod["product_id"].nunique()), "methods": {}}
    for m, g in prod.groupby("method", sort=True):
        ok = g[g["identified"]]
        out["methods"][m] = {
            "identified": int(len(ok)),
            "not_identified": int((~g["identified"]).sum()),
            "median_elasticity": float(ok["elasticity"].median()) if len(ok) else None,
            "weak_instrument": int(g["weak_instrument"].sum()),
        }
    out["zero_unit_weeks_excluded"] = int(prod.drop_duplicates("product_id")["n_zero_units"].sum())
    if recs is not None:
        out["recommendations"] = {s: int(n) for s, n in recs["status"].str.split(":").str[0].value_counts().items()}
    if comparison is not None:
        out["prices_respond_to_demand"] = comparison.loc[comparison["prices_respond_to_demand"], "product_id"].tolist()
    out["notes"] = list(notes)
    return out


# --------------------------------------------------------------------------- findings in words
def _ids(ids, limit: int = 6) -> str:
    ids = [str(i) for i in ids]
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def explain_fits(fits: pd.DataFrame, method: str) -> str:
    """What the product elasticities of ``method`` say: how many are clearly negative, which are
    inelastic (|e| < 1), the range, and how many could not be estimated."""
    sub = fits[(fits["method"] == method) & (fits["level"] == "product")]
    ok = sub[sub["identified"]]
    if ok.empty:
        return f"No product could be estimated by {method} (see the identification guard below)."
    n = len(ok)
    clear = ok[ok["ci_high"] < 0]
    inelastic = ok[ok["elasticity"] > -1]
    what = "the product" if n == 1 else f"{len(clear)} of {n} products"
    lines = [
        f"By {method}, {what} {'has' if n == 1 else 'have'} a clearly negative elasticity (whole 95 % "
        f"interval below 0); estimates range from {ok['elasticity'].min():.2f} to {ok['elasticity'].max():.2f} "
        f"(median {ok['elasticity'].median():.2f}), with intervals "
        f"{(ok['ci_high'] - ok['ci_low']).median():.2f} wide in the median."
    ]
    if len(inelastic):
        lines.append(
            f"Inelastic (|e| < 1): {_ids(inelastic['product_id'])}: their volume reacts less than proportionally to price."
        )
    else:
        lines.append("No product is inelastic (every estimate is below -1).")
    bad = sub[~sub["identified"]]
    if len(bad):
        lines.append(f"Not estimated: {_ids(bad['product_id'])} (see the identification guard).")
    return " ".join(lines)


def explain_zero_weeks(zero_view: pd.DataFrame, n_rows: int) -> str:
    """Share of zero-unit rows and how far the Poisson and log-log estimates are apart."""
    zeros = int(zero_view["zero_unit_weeks"].sum())
    gap = (zero_view["ppml"] - zero_view["ols"]).abs() if {"ppml", "ols"} <= set(zero_view.columns) else None
    text = f"{zeros:,} of {n_rows:,} rows ({zeros / max(n_rows, 1):.1%}) have zero units."
    if gap is not None and gap.notna().any():
        text += (
            f" The Poisson and log-log estimates differ by at most {gap.max():.2f} "
            f"({zero_view['ppml'].sub(zero_view['ols']).abs().idxmax()})."
        )
    return text


def explain_cross(relations: pd.DataFrame) -> str:
    """The clear substitute and complement pairs found, in words."""
    if relations.empty:
        return "No pair of products shows a clear cross-price effect (every interval contains 0)."
    lines = []
    for kind in ("substitute", "complement"):
        part = relations[relations["relation"] == kind]
        if len(part):
            pairs = [f"{r['product_id']} when {r['price_of']} gets dearer ({r['elasticity']:+.2f})" for _, r in part.iterrows()]
            verb = "sells more" if kind == "substitute" else "sells less"
            lines.append(
                f"- {kind.capitalize()}s ({len(part)}): {verb}: "
                + "; ".join(pairs[:6])
                + (f"; and {len(pairs) - 6} more" if len(pairs) > 6 else "")
                + "."
            )
    return "\n".join(lines)


def explain_lift(lift: pd.DataFrame) -> str:
    """The range of promotion lifts and the products where promotions work hardest."""
    ok = lift[lift["identified"]]
    if ok.empty:
        return "No promotion lift could be estimated (no product has promotion weeks with price variation)."
    top = ok.sort_values("lift_pct", ascending=False).head(3)
    return (
        f"Promotions add between {ok['lift_pct'].min():.0f} % and {ok['lift_pct'].max():.0f} % volume on top of "
        f"their price cut ({len(ok)} products); the largest lifts: "
        + ", ".join(
            f"{r['product_id']} {r['lift_pct']:+.0f} % ({r['ci_low_pct']:.0f} to {r['ci_high_pct']:.0f})"
            for _, r in top.iterrows()
        )
        + "."
    )

"""Effects of each variant against control: lifts, intervals, p-values, corrections, guardrails.

Per metric kind (all vectorised over rows, so the same code serves one comparison, every metric
and variant, or every day of a sequential look):

- ``mean``: Welch's unequal-variance t interval and test (Satterthwaite degrees of freedom).
- ``binary``: Newcombe's hybrid score interval for a difference of proportions (Wilson intervals
  for each arm combined; Newcombe 1998, method 10), which keeps its coverage at small rates where
  the Wald interval does not; p-value from the pooled two-proportion z-test (the test under the
  null of equal rates).
- ``ratio`` (sum of a numerator over sum of a denominator per variant, e.g. revenue per order):
  the delta method on the per-unit influence ``(y - R x) / mean(x)``, normal interval; units are
  the randomisation units, so orders of one customer are not treated as independent.
- relative lift ``treatment / control - 1`` for every kind: delta method, normal interval.
- CUPED (Deng et al. 2013) when a metric has a pre-period covariate: ``theta = cov(y, x) / var(x)``
  pooled *within* variants (so the treatment effect does not leak into theta; with two variants
  the adjusted lift equals the treatment coefficient of an ANCOVA), adjusted mean
  ``mean(y) - theta (mean_v(x) - mean(x))``, variance of the adjusted values
  ``var(y) - 2 theta cov(y, x) + theta^2 var(x)``. The share of variance removed and the
  unadjusted interval are reported beside the adjusted one.

Multiple comparisons: Holm over the treatment variants for the primary metric (it decides, so the
family-wise error is controlled); Benjamini-Hochberg over every other metric and variant (they
inform, so the false discovery rate is enough). Guardrails are judged by their interval against a
tolerated relative drop (non-inferiority), not by a p-value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from marksell.experiments.stats import Moments

RESULT_COLUMNS = [
    "metric",
    "variant",
    "n",
    "mean",
    "control_mean",
    "abs_lift",
    "rel_lift",
    "ci_low",
    "ci_high",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
    "p_adjusted",
    "cuped",
    "variance_reduction",
    "prob_beat_control",
]


def wilson(successes: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions (vectorised)."""
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def newcombe(pt: np.ndarray, nt: np.ndarray, pc: np.ndarray, nc: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe hybrid score interval for ``pt - pc`` (method 10 of Newcombe 1998)."""
    z = sps.norm.ppf(1 - alpha / 2)
    lt, ut = wilson(pt * nt, nt, z)
    lc, uc = wilson(pc * nc, nc, z)
    d = pt - pc
    return (d - np.sqrt((pt - lt) ** 2 + (uc - pc) ** 2), d + np.sqrt((ut - pt) ** 2 + (pc - lc) ** 2))


def pooled_z_pvalue(pt, nt, pc, nc) -> np.ndarray:
    """Two-sided p-value of the pooled two-proportion z-test."""
    pooled = (pt * nt + pc * nc) / (nt + nc)
    se = np.sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nc))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (pt - pc) / se, 0.0)
    return 2 * sps.norm.sf(np.abs(z))


def welch(mt, vt, nt, mc, vc, nc, alpha: float, df_infinite=None):
    """Welch difference ``mt - mc``: (se, df, ci_low, ci_high, p_value); unit variances ``v``.

    Rows where ``df_infinite`` is true use the normal distribution (delta-method ratios).
    """
    at, ac = vt / nt, vc / nc
    se = np.sqrt(at + ac)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (at + ac) ** 2 / (at**2 / (nt - 1) + ac**2 / (nc - 1))
        if df_infinite is not None:
            df = np.where(df_infinite, np.inf, df)
        df = np.where(np.isfinite(df) | np.isinf(df), df, np.inf)
        q = sps.t.ppf(1 - alpha / 2, df)
        stat = (mt - mc) / se
        p = 2 * sps.t.sf(np.abs(stat), df)
    d = mt - mc
    return se, df, d - q * se, d + q * se, p


def relative(mt, var_mt, mc, var_mc, alpha: float):
    """Relative lift ``mt / mc - 1`` with its delta-method normal interval; variances of the means."""
    z = sps.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = mt / mc - 1.0
        se = np.sqrt(var_mt / mc**2 + mt**2 * var_mc / mc**4)
    return rel, rel - z * se, rel + z * se


#: Columns that split a moments table into separate comparisons (looks over time, segments).
GROUP_KEYS = ("look", "segment")


def _keys(table: pd.DataFrame) -> list[str]:
    """Grouping keys of one comparison: the metric, and the look or segment when a table has several."""
    return [k for k in GROUP_KEYS if k in table.columns] + ["metric"]


def cuped_theta(table: pd.DataFrame) -> pd.Series:
    """CUPED theta per metric (and look): within-variant cov(y, x) over within-variant var(x), pooled."""
    keys = _keys(table)
    t = table[table["x_var"].notna()]
    if t.empty:
        return pd.Series(dtype=float)
    dof = t["n"] - 1
    num = (t["cov_y_x"] * dof).groupby([t[k] for k in keys], sort=False).sum()
    den = (t["x_var"] * dof).groupby([t[k] for k in keys], sort=False).sum()
    return num / den.where(den > 0)


def _lookup(table: pd.DataFrame, values: pd.Series) -> pd.Series:
    """``values`` (indexed by the grouping keys) aligned with the rows of ``table``."""
    keys = _keys(table)
    index = pd.MultiIndex.from_frame(table[keys]) if len(keys) > 1 else pd.Index(table[keys[0]])
    return pd.Series(values.reindex(index).to_numpy(), index=table.index)


def estimates(table: pd.DataFrame, cuped: bool = True) -> pd.DataFrame:
    """Per (variant, metric): ``estimate`` and ``unit_var`` (variance of one unit's contribution).

    ``var(estimate) = unit_var / n``. Ratio metrics use the delta-method influence; metrics with a
    covariate are CUPED-adjusted when ``cuped`` is true (``theta`` column, else NaN).
    """
    out = table.copy()
    ratio = out["kind"].eq("ratio").to_numpy()
    r = out["mean"] / out["den_mean"]
    ratio_var = (out["var"] - 2 * r * out["cov_num_den"] + r**2 * out["den_var"]) / out["den_mean"] ** 2
    out["estimate"] = np.where(ratio, r, out["mean"])
    out["unit_var"] = np.where(ratio, ratio_var, out["var"])
    out["theta"] = np.nan
    if cuped and out["x_var"].notna().any():
        keys = [out[k] for k in _keys(out)]
        theta = _lookup(out, cuped_theta(out))
        w = out["n"] * out["x_mean"]
        x_bar = _lookup(out, w.groupby(keys).sum() / out["n"].groupby(keys).sum())
        adj = theta.notna() & ~ratio
        adj_est = out["mean"] - theta * (out["x_mean"] - x_bar)
        adj_var = out["var"] - 2 * theta * out["cov_y_x"] + theta**2 * out["x_var"]
        out.loc[adj, "estimate"] = adj_est[adj]
        out.loc[adj, "unit_var"] = adj_var[adj]
        out.loc[adj, "theta"] = theta[adj]
    return out


def _pair(est: pd.DataFrame, control: str) -> pd.DataFrame:
    keys = _keys(est)
    ctrl = est[est["variant"] == control]
    trt = est[est["variant"] != control]
    cols = ["n", "mean", "estimate", "unit_var", "var"]
    renamed = ctrl[keys + cols].rename(columns={c: f"c_{c}" for c in cols})
    merged = trt.merge(renamed, on=keys, how="left", sort=False)
    merged.index = trt.index
    return merged


def compare(est: pd.DataFrame, control: str, alpha: float) -> pd.DataFrame:
    """Lift of each non-control variant over ``control`` for every metric in ``est``."""
    t = _pair(est, control)
    nt, nc = t["n"].to_numpy(float), t["c_n"].to_numpy(float)
    mt, mc = t["estimate"].to_numpy(float), t["c_estimate"].to_numpy(float)
    vt, vc = t["unit_var"].to_numpy(float), t["c_unit_var"].to_numpy(float)
    ratio = t["kind"].eq("ratio").to_numpy()
    se, _, lo, hi, p = welch(mt, vt, nt, mc, vc, nc, alpha, df_infinite=ratio)
    plain_binary = t["kind"].eq("binary").to_numpy() & t["theta"].isna().to_numpy()
    if plain_binary.any():
        pt_, pc_ = np.where(plain_binary, mt, 0.5), np.where(plain_binary, mc, 0.5)
        nlo, nhi = newcombe(pt_, nt, pc_, nc, alpha)
        lo = np.where(plain_binary, nlo, lo)
        hi = np.where(plain_binary, nhi, hi)
        p = np.where(plain_binary, pooled_z_pvalue(pt_, nt, pc_, nc), p)
    rel, rlo, rhi = relative(mt, vt / nt, mc, vc / nc, alpha)
    out = pd.DataFrame(
        {
            "metric": t["metric"].to_numpy(),
            "variant": t["variant"].to_numpy(),
            "kind": t["kind"].to_numpy(),
            "n": nt.astype(int),
            "control_n": nc.astype(int),
            "mean": mt,
            "control_mean": mc,
            "abs_lift": mt - mc,
            "se": se,
            "ci_low": lo,
            "ci_high": hi,
            "rel_lift": rel,
            "rel_ci_low": rlo,
            "rel_ci_high": rhi,
            "p_value": p,
        }
    )
    for key in reversed(GROUP_KEYS):
        if key in t.columns:
            out.insert(0, key, t[key].to_numpy())
    return out


def lift_table(moments: Moments, control: str, alpha: float = 0.05) -> pd.DataFrame:
    """Every metric and variant against control, CUPED-adjusted where a covariate is given.

    Columns of :data:`RESULT_COLUMNS` (``p_adjusted`` and ``prob_beat_control`` filled later) plus
    ``kind``, ``se``, ``theta`` and the unadjusted ``raw_mean``, ``raw_ci_low``, ``raw_ci_high``,
    ``raw_rel_ci_low``, ``raw_rel_ci_high``, ``raw_p_value``.
    """
    plain = compare(estimates(moments.table, cuped=False), control, alpha)
    adjusted_est = estimates(moments.table, cuped=True)
    adj = compare(adjusted_est, control, alpha)
    theta = adjusted_est[adjusted_est["variant"] != control]["theta"].to_numpy()
    out = adj.copy()
    out["cuped"] = ~np.isnan(theta)
    out["theta"] = theta
    for col in ("mean", "control_mean", "ci_low", "ci_high", "rel_ci_low", "rel_ci_high", "p_value", "se"):
        out[f"raw_{col}"] = plain[col].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = 1.0 - (adj["se"] / plain["se"]).to_numpy() ** 2
    out["variance_reduction"] = np.where(out["cuped"], reduction, np.nan)
    out["mean"] = plain["mean"].to_numpy()  # observed means; the lift is the adjusted one
    out["control_mean"] = plain["control_mean"].to_numpy()
    out["p_adjusted"] = np.nan
    out["prob_beat_control"] = np.nan
    return out


def adjust(results: pd.DataFrame, primary: str, alpha: float = 0.05) -> pd.DataFrame:
    """Fill ``p_adjusted`` and ``correction``: Holm for the primary metric, BH for the others."""
    out = results.copy()
    out["correction"] = np.where(out["metric"] == primary, "holm", "benjamini-hochberg")
    for method, mask in (("holm", out["metric"] == primary), ("fdr_bh", out["metric"] != primary)):
        p = out.loc[mask, "p_value"].to_numpy(float)
        ok = ~np.isnan(p)
        adjusted = np.full(p.shape, np.nan)
        if ok.any():
            adjusted[ok] = multipletests(p[ok], alpha=alpha, method=method)[1]
        out.loc[mask, "p_adjusted"] = adjusted
    return out


def guardrail_status(results: pd.DataFrame, guardrails: dict[str, float]) -> pd.DataFrame:
    """Per guardrail metric and variant: ``ok``, ``inconclusive`` or ``breached``.

    ``guardrails`` maps a metric to the relative drop it may suffer (0.02 = 2 % worse is
    tolerated; higher values are better). ``breached``: the whole interval lies below the
    tolerance; ``ok``: the interval's lower end is above it; else ``inconclusive``.
    """
    rows = results[results["metric"].isin(list(guardrails))]
    tol = rows["metric"].map(guardrails).astype(float)
    status = np.where(rows["rel_ci_high"] < -tol, "breached", np.where(rows["rel_ci_low"] >= -tol, "ok", "inconclusive"))
    return pd.DataFrame(
        {
            "metric": rows["metric"].to_numpy(),
            "variant": rows["variant"].to_numpy(),
            "tolerated_drop": tol.to_numpy(),
            "rel_lift": rows["rel_lift"].to_numpy(),
            "rel_ci_low": rows["rel_ci_low"].to_numpy(),
            "rel_ci_high": rows["rel_ci_high"].to_numpy(),
            "status": status,
        }
    )

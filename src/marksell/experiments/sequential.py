"""Always-valid inference: intervals that stay honest however often the results are looked at.

A fixed-horizon 95 % interval covers the true effect 95 % of the time *at one pre-planned look*.
Looking every day and stopping at the first "significant" day makes the chance of a false win much
larger than 5 %. A confidence sequence covers the true effect at *every* look at once with
probability 1 - alpha, so it can be watched daily and a test stopped whenever it excludes zero.

The bound is the two-sided normal-mixture boundary (Robbins 1970; the mixture sequential probability
ratio test of Johari et al. 2017, in the asymptotic form of Waudby-Smith et al. 2023 and Howard et
al. 2021): with ``n`` units so far, the estimate's standard error ``se`` (from the same Welch or
delta-method variance as the fixed interval) and a mixing parameter ``rho`` (in units),

    half width = se * sqrt((n + rho) / n * log((n + rho) / (rho * alpha^2))).

``rho`` sets where the sequence is tightest; it is chosen as ``n_plan / (2 log(1/alpha) +
log(1 + 2 log(1/alpha)))`` so that it is tightest at the planned (or, by default, the final)
number of units (Howard et al. 2021, section 3.5). The always-valid p-value is the running
minimum of ``1 / M_n`` with ``M_n = sqrt(rho / (n + rho)) exp(n z^2 / (2 (n + rho)))`` and
``z = estimate / se``.

Looks over time are rebuilt from the exposure dates: the look on day ``d`` holds every unit exposed
up to ``d`` with its final metric value (a live dashboard would see partly accrued metrics).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.experiments.effects import compare, estimates
from marksell.experiments.stats import MOMENT_COLUMNS, Metric, cell_sums, sums_to_moments, variant_codes


def mixing_rho(n_plan: float, alpha: float) -> float:
    """Mixing parameter that makes the boundary tightest at ``n_plan`` units."""
    la = np.log(1.0 / alpha)
    return float(n_plan / (2 * la + np.log1p(2 * la)))


def half_width(se, n, rho: float, alpha: float):
    """Half width of the always-valid interval (vectorised over looks)."""
    n = np.asarray(n, dtype=float)
    return se * np.sqrt((n + rho) / n * np.log((n + rho) / (rho * alpha**2)))


def always_valid_p(estimate, se, n, rho: float) -> np.ndarray:
    """Always-valid p-value at each look (in look order), ``min(1, 1 / M_n)`` running minimum."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z2 = np.where(se > 0, (np.asarray(estimate) / se) ** 2, 0.0)
        log_m = 0.5 * np.log(rho / (n + rho)) + n * z2 / (2 * (n + rho))
    p = np.minimum(1.0, np.exp(-log_m))
    return np.minimum.accumulate(p)


def cumulative_moments(
    units: pd.DataFrame, metrics: list[Metric], variants: list[str], day_col: str, variant_col: str = "variant"
) -> pd.DataFrame:
    """Moments of every look (day): units exposed up to that day, per variant and metric."""
    days = pd.to_datetime(units[day_col]).dt.normalize()
    day_index = pd.DatetimeIndex(sorted(days.unique()))
    d = day_index.get_indexer(days)
    v = variant_codes(units[variant_col], variants)
    k = len(variants)
    cols = {c: units[c].to_numpy(dtype=float) for m in metrics for c in m.columns}
    sums = cell_sums((d * k + v).astype(np.intp), len(day_index) * k, cols, metrics)
    shifts = sums.pop("shifts")
    cum = {key: np.cumsum(a.reshape(len(day_index), k, len(metrics)), axis=0) for key, a in sums.items()}
    cum["shifts"] = {key: val[None, None, :] for key, val in shifts.items()}
    mom = sums_to_moments(cum)
    n_days, m = len(day_index), len(metrics)
    table = pd.DataFrame(
        {
            "look": np.repeat(day_index.to_numpy(), k * m),
            "variant": np.tile(np.repeat(np.asarray(variants, dtype=object), m), n_days),
            "metric": np.tile(np.asarray([x.name for x in metrics], dtype=object), n_days * k),
            "kind": np.tile(np.asarray([x.kind for x in metrics], dtype=object), n_days * k),
        }
    )
    for key in MOMENT_COLUMNS[3:]:
        table[key] = mom[key].reshape(-1)
    return table


def looks(
    cumulative: pd.DataFrame, control: str, alpha: float, n_plan: float | None = None, cuped: bool = True, bonferroni: int = 1
) -> pd.DataFrame:
    """Fixed-horizon and always-valid intervals at every look, per metric and variant.

    Columns: ``look, metric, variant, n_total, abs_lift, ci_low, ci_high`` (fixed-horizon, as if
    that look were the only one), ``p_value``, ``seq_ci_low, seq_ci_high, seq_p_value``
    (always-valid, at ``alpha / bonferroni`` when several variants are compared). Looks with fewer
    than two units in a variant are dropped.
    """
    ok = cumulative.groupby("look")["n"].transform("min") >= 2
    table = cumulative[ok]
    res = compare(estimates(table, cuped=cuped), control, alpha)
    res["n_total"] = res["n"] + res["control_n"]
    if n_plan is None:
        n_plan = float(res["n_total"].max()) if len(res) else 1.0
    a = alpha / max(bonferroni, 1)
    rho = mixing_rho(n_plan, a)
    hw = half_width(res["se"].to_numpy(), res["n_total"].to_numpy(), rho, a)
    res["seq_ci_low"] = res["abs_lift"] - hw
    res["seq_ci_high"] = res["abs_lift"] + hw
    res = res.sort_values(["metric", "variant", "look"], kind="stable").reset_index(drop=True)
    res["seq_p_value"] = np.nan
    for _, idx in res.groupby(["metric", "variant"], sort=False).groups.items():
        g = res.loc[idx]
        res.loc[idx, "seq_p_value"] = always_valid_p(g["abs_lift"].to_numpy(), g["se"].to_numpy(), g["n_total"].to_numpy(), rho)
    res["rho"] = rho
    return res[
        [
            "look",
            "metric",
            "variant",
            "n_total",
            "abs_lift",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "seq_ci_low",
            "seq_ci_high",
            "seq_p_value",
            "rho",
        ]
    ]


def first_significant(look_table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per metric and variant: first look where the fixed p-value, and the always-valid one, fell below alpha."""
    rows = []
    for (metric, variant), g in look_table.groupby(["metric", "variant"], sort=False):
        fixed = g.loc[g["p_value"] < alpha, "look"]
        seq = g.loc[g["seq_p_value"] < alpha, "look"]
        rows.append(
            {
                "metric": metric,
                "variant": variant,
                "first_fixed_significant": fixed.iloc[0] if len(fixed) else pd.NaT,
                "first_sequential_significant": seq.iloc[0] if len(seq) else pd.NaT,
                "looks": len(g),
            }
        )
    return pd.DataFrame(rows)

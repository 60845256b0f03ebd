"""Effects by segment (channel, region, device, ...) and a test of whether they differ.

Each segment level gets its own lift and interval (same methods as the whole test, CUPED
included). Looking at many segments finds "winners" by chance: with 10 levels and no real
difference, the chance that at least one interval excludes zero is about 40 %. So the question
asked first is whether the effect differs between levels at all: Cochran's Q test of
heterogeneity (``Q = sum w_i (lift_i - pooled)^2`` with ``w_i = 1 / se_i^2``, chi-square with
``levels - 1`` degrees of freedom) and ``I^2``, the share of the spread beyond chance. Per-level
intervals are for reading, not for decisions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from marksell.experiments.effects import compare, estimates
from marksell.experiments.stats import MOMENT_COLUMNS, Metric, group_moments, variant_codes

MIN_UNITS = 2


def segment_moments(
    units: pd.DataFrame, segment_col: str, metrics: list[Metric], variants: list[str], variant_col: str = "variant"
) -> pd.DataFrame:
    """Moments per (segment level, variant, metric), with a ``segment`` column holding the level."""
    levels = pd.Categorical(units[segment_col].astype(str))
    cats = list(levels.categories)
    v = variant_codes(units[variant_col], variants)
    k, m = len(variants), len(metrics)
    cols = {c: units[c].to_numpy(dtype=float) for x in metrics for c in x.columns}
    mom = group_moments((levels.codes * k + v).astype(np.intp), len(cats) * k, cols, metrics)
    table = pd.DataFrame(
        {
            "segment": np.repeat(np.asarray(cats, dtype=object), k * m),
            "variant": np.tile(np.repeat(np.asarray(variants, dtype=object), m), len(cats)),
            "metric": np.tile(np.asarray([x.name for x in metrics], dtype=object), len(cats) * k),
            "kind": np.tile(np.asarray([x.kind for x in metrics], dtype=object), len(cats) * k),
        }
    )
    for key in MOMENT_COLUMNS[3:]:
        table[key] = mom[key].reshape(-1)
    return table


def cochran_q(lift: np.ndarray, se: np.ndarray) -> dict:
    """Cochran's Q, its p-value and I^2 for independent estimates with standard errors."""
    ok = np.isfinite(lift) & np.isfinite(se) & (se > 0)
    lift, se = lift[ok], se[ok]
    if len(lift) < 2:
        return {"q": np.nan, "df": 0, "p_value": np.nan, "i2": np.nan, "pooled": np.nan}
    w = 1 / se**2
    pooled = float(np.sum(w * lift) / np.sum(w))
    q = float(np.sum(w * (lift - pooled) ** 2))
    df = len(lift) - 1
    return {
        "q": q,
        "df": df,
        "p_value": float(sps.chi2.sf(q, df)),
        "i2": max(0.0, (q - df) / q) if q > 0 else 0.0,
        "pooled": pooled,
    }


def segment_effects(
    units: pd.DataFrame,
    segment_cols: list[str],
    metrics: list[Metric],
    variants: list[str],
    control: str,
    alpha: float = 0.05,
    variant_col: str = "variant",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lift per segment level (``by_level``) and Cochran's Q per segment column (``heterogeneity``).

    Levels where a variant has fewer than ``MIN_UNITS`` units or no variance are left out of both
    (counted in ``levels_skipped``).
    """
    levels, tests = [], []
    for col in segment_cols:
        table = segment_moments(units, col, metrics, variants, variant_col)
        res = compare(estimates(table, cuped=True), control, alpha)
        usable = (res["n"] >= MIN_UNITS) & (res["control_n"] >= MIN_UNITS) & (res["se"] > 0)
        res.insert(0, "segment_column", col)
        res = res.rename(columns={"segment": "level"})
        levels.append(res[usable])
        for (metric, variant), g in res.groupby(["metric", "variant"], sort=False):
            keep = usable.loc[g.index]
            q = cochran_q(g.loc[keep, "abs_lift"].to_numpy(), g.loc[keep, "se"].to_numpy())
            tests.append(
                {
                    "segment_column": col,
                    "metric": metric,
                    "variant": variant,
                    "levels": int(keep.sum()),
                    "levels_skipped": int((~keep).sum()),
                    **q,
                }
            )
    by_level = pd.concat(levels, ignore_index=True) if levels else pd.DataFrame()
    return by_level, pd.DataFrame(tests)

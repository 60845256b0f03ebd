"""Is the test itself sound? Sample ratio mismatch, units in several variants, exposure over time.

A sample ratio mismatch (SRM: the variants' unit counts differ from the planned split by more than
chance allows) means assignment or logging dropped or duplicated units in a way that may depend on
the treatment, so the lift cannot be trusted however small its p-value (Fabijan et al. 2019). The
test is Pearson's chi-square against the planned split; the threshold is ``SRM_ALPHA`` = 0.001, as
in GrowthBook and most platforms, because the check runs on every test and every look, and a false
alarm stops a valid test.

Exposure over time: a split that drifts from day to day (a variant switched off for a while, a
ramp-up done for one variant only) mixes days with different visitors into the comparison; it is
tested with a chi-square test of homogeneity of the split across days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

SRM_ALPHA = 0.001
HEALTH_COLUMNS = ["check", "value", "p_value", "status", "detail"]


def planned_split(variants: list[str], expected_split: dict | None) -> np.ndarray:
    """Planned share of each variant (equal when ``expected_split`` is empty), normalised to 1."""
    if not expected_split:
        return np.full(len(variants), 1.0 / len(variants))
    w = np.array([float(expected_split.get(v, 0.0)) for v in variants])
    return w / w.sum()


def sample_ratio(counts: dict[str, int], expected_split: dict | None = None) -> dict:
    """Chi-square test of the observed unit counts per variant against the planned split."""
    variants = list(counts)
    observed = np.array([counts[v] for v in variants], dtype=float)
    share = planned_split(variants, expected_split)
    chi2, p = sps.chisquare(observed, share * observed.sum())
    return {
        "chi2": float(chi2),
        "p_value": float(p),
        "observed_share": observed / observed.sum(),
        "planned_share": share,
        "variants": variants,
        "flagged": bool(p < SRM_ALPHA),
    }


def exposure_balance(days: pd.Series, variant: pd.Series) -> dict:
    """Chi-square test that the split is the same every day (days with units only)."""
    table = pd.crosstab(days, variant)
    table = table.loc[table.sum(axis=1) > 0]
    if len(table) < 2 or table.shape[1] < 2:
        return {"chi2": np.nan, "p_value": np.nan, "days": len(table), "flagged": False}
    chi2, p, dof, _ = sps.chi2_contingency(table.to_numpy())
    return {"chi2": float(chi2), "p_value": float(p), "days": len(table), "dof": int(dof), "flagged": bool(p < SRM_ALPHA)}


def health_table(
    counts: dict[str, int], expected_split: dict | None, crossovers: int, dropped_crossovers: bool, exposure: dict | None
) -> pd.DataFrame:
    """``health.csv``: one row per check with its value, p-value, status and a one-line detail."""
    srm = sample_ratio(counts, expected_split)
    obs = ", ".join(f"{v} {s:.1%}" for v, s in zip(srm["variants"], srm["observed_share"]))
    plan = ", ".join(f"{v} {s:.1%}" for v, s in zip(srm["variants"], srm["planned_share"]))
    rows = [
        {
            "check": "sample_ratio_mismatch",
            "value": srm["chi2"],
            "p_value": srm["p_value"],
            "status": "failed" if srm["flagged"] else "ok",
            "detail": f"observed {obs}; planned {plan}; chi-square p < {SRM_ALPHA} fails",
        }
    ]
    rows.append(
        {
            "check": "units_in_several_variants",
            "value": float(crossovers),
            "p_value": np.nan,
            "status": "ok" if crossovers == 0 else ("warning" if dropped_crossovers else "failed"),
            "detail": (
                "no unit is in more than one variant"
                if crossovers == 0
                else f"{crossovers} units were in more than one variant" + (" and were removed" if dropped_crossovers else "")
            ),
        }
    )
    if exposure is None:
        rows.append(
            {
                "check": "exposure_balance_over_time",
                "value": np.nan,
                "p_value": np.nan,
                "status": "skipped",
                "detail": "no exposure timestamps in the data",
            }
        )
    else:
        rows.append(
            {
                "check": "exposure_balance_over_time",
                "value": exposure["chi2"],
                "p_value": exposure["p_value"],
                "status": "failed" if exposure["flagged"] else ("ok" if exposure["days"] > 1 else "skipped"),
                "detail": f"split compared across {exposure['days']} days; chi-square p < {SRM_ALPHA} fails",
            }
        )
    return pd.DataFrame(rows, columns=HEALTH_COLUMNS)

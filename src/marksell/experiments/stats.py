"""Sufficient statistics per variant and metric: everything later steps need, in one pass.

Every estimate in this package (means, lifts, Welch and Newcombe intervals, delta-method ratios,
CUPED, sequential bounds, Bayesian posteriors, power) is a function of a few sums per variant and
metric: the number of units ``n``, the sum and the sum of squares of the metric, and, where needed,
the same for a denominator (ratio metrics such as revenue per order) or a pre-period covariate
(CUPED) with the cross-product. Computing them with ``numpy.bincount`` over integer variant codes
is one vectorised pass per column, so ten million units cost about as much as reading them.

Values are centred on their overall mean before squaring (``center_*`` columns keep the shift), so
sums of squares do not lose precision when a metric's mean is large against its spread.

The result is a long frame, one row per (``variant``, ``metric``), with columns ``n``,
``mean``, ``var`` (unit-level sample variance) and, when present, ``den_mean``, ``den_var``,
``cov_num_den`` (ratio metrics) and ``x_mean``, ``x_var``, ``cov_y_x`` (covariate). A table that
already holds ``n, sum, sum_sq`` per variant and metric gives the same frame through
:func:`moments_from_aggregates` (no ratio metrics or covariates there: those need unit rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KINDS = ("binary", "mean", "ratio")

MOMENT_COLUMNS = [
    "variant",
    "metric",
    "kind",
    "n",
    "mean",
    "var",
    "den_mean",
    "den_var",
    "cov_num_den",
    "x_mean",
    "x_var",
    "cov_y_x",
]


@dataclass(frozen=True)
class Metric:
    """One metric: its name, kind and the columns behind it.

    ``kind`` is ``binary`` (0/1 per unit: a conversion), ``mean`` (any number per unit: revenue) or
    ``ratio`` (sum of ``numerator`` over sum of ``denominator``: revenue per order). ``covariate``
    names a pre-period column for CUPED (binary and mean metrics only).
    """

    name: str
    kind: str
    numerator: str
    denominator: str | None = None
    covariate: str | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in (self.numerator, self.denominator, self.covariate) if c]


@dataclass
class Moments:
    """Per-variant, per-metric summaries (see the module docstring) and the variant order."""

    table: pd.DataFrame
    variants: list[str]
    metrics: list[Metric] = field(default_factory=list)

    def row(self, variant: str, metric: str) -> pd.Series:
        t = self.table
        return t[(t["variant"] == variant) & (t["metric"] == metric)].iloc[0]


SUM_KEYS = ("n", "s", "ss", "ds", "dss", "sd", "xs", "xss", "sx")


def cell_sums(codes: np.ndarray, k: int, columns: dict[str, np.ndarray], metrics: list[Metric]) -> dict[str, np.ndarray]:
    """Additive sums per cell, arrays of shape ``(k, len(metrics))``; values centred per column.

    ``codes`` are integer cell codes in ``0..k-1`` (variants, or day x variant cells) and
    ``columns`` maps column names to float arrays aligned with ``codes``. Keys: ``n``; ``s, ss``
    (metric); ``ds, dss, sd`` (denominator, its cross-product with the metric); ``xs, xss, sx``
    (covariate). Sums of cells add up (so cumulative sums give looks over time);
    :func:`sums_to_moments` turns them into means and variances.
    """
    m = len(metrics)
    out = {key: np.full((k, m), np.nan) for key in SUM_KEYS}
    out["n"] = np.repeat(np.bincount(codes, minlength=k).astype(float)[:, None], m, axis=1)
    shifts = {key: np.zeros(m) for key in ("s", "ds", "xs")}
    cache: dict[str, tuple[float, np.ndarray]] = {}

    def centred(col: str) -> tuple[float, np.ndarray]:
        if col not in cache:
            values = columns[col]
            shift = float(values.mean()) if values.size else 0.0
            cache[col] = (shift, values - shift)
        return cache[col]

    def add(j: int, col: str, first: str, second: str) -> np.ndarray:
        shift, c = centred(col)
        shifts[first][j] = shift
        out[first][:, j] = np.bincount(codes, weights=c, minlength=k)
        out[second][:, j] = np.bincount(codes, weights=c * c, minlength=k)
        return c

    for j, metric in enumerate(metrics):
        y = add(j, metric.numerator, "s", "ss")
        if metric.denominator:
            d = add(j, metric.denominator, "ds", "dss")
            out["sd"][:, j] = np.bincount(codes, weights=y * d, minlength=k)
        if metric.covariate:
            x = add(j, metric.covariate, "xs", "xss")
            out["sx"][:, j] = np.bincount(codes, weights=y * x, minlength=k)
    out["shifts"] = shifts  # type: ignore[assignment]
    return out


def sums_to_moments(sums: dict) -> dict[str, np.ndarray]:
    """Means, variances (``n - 1``) and covariances from :func:`cell_sums` (any leading shape)."""
    n = sums["n"]
    shifts = sums["shifts"]
    with np.errstate(invalid="ignore", divide="ignore"):
        safe_n = np.where(n > 0, n, np.nan)
        dof = np.where(n > 1, n - 1.0, np.nan)

        def var(s, ss):
            return (ss - s * s / safe_n) / dof

        def cov(a, b, ab):
            return (ab - a * b / safe_n) / dof

        return {
            "n": n,
            "mean": shifts["s"] + sums["s"] / safe_n,
            "var": var(sums["s"], sums["ss"]),
            "den_mean": shifts["ds"] + sums["ds"] / safe_n,
            "den_var": var(sums["ds"], sums["dss"]),
            "cov_num_den": cov(sums["s"], sums["ds"], sums["sd"]),
            "x_mean": shifts["xs"] + sums["xs"] / safe_n,
            "x_var": var(sums["xs"], sums["xss"]),
            "cov_y_x": cov(sums["s"], sums["xs"], sums["sx"]),
        }


def group_moments(codes: np.ndarray, k: int, columns: dict[str, np.ndarray], metrics: list[Metric]) -> dict[str, np.ndarray]:
    """Moments per cell: arrays of shape ``(k, len(metrics))`` (see :func:`cell_sums`)."""
    return sums_to_moments(cell_sums(codes, k, columns, metrics))


def _frame(arrays: dict[str, np.ndarray], variants: list[str], metrics: list[Metric]) -> pd.DataFrame:
    k, m = len(variants), len(metrics)
    table = pd.DataFrame(
        {
            "variant": np.repeat(np.asarray(variants, dtype=object), m),
            "metric": np.tile(np.asarray([x.name for x in metrics], dtype=object), k),
            "kind": np.tile(np.asarray([x.kind for x in metrics], dtype=object), k),
        }
    )
    for key in MOMENT_COLUMNS[3:]:
        table[key] = arrays[key].reshape(-1)
    return table


def variant_codes(values: pd.Series, variants: list[str]) -> np.ndarray:
    """Integer code of each row's variant in ``variants`` (-1: not listed or missing), without
    converting every row to text (only the distinct values are)."""
    cat = pd.Categorical(values)
    lookup = np.array([variants.index(str(c)) if str(c) in variants else -1 for c in cat.categories] + [-1], dtype=np.intp)
    return lookup[cat.codes]  # code -1 (missing) picks the trailing -1


def unit_moments(
    units: pd.DataFrame, metrics: list[Metric], variant_col: str = "variant", variants: list[str] | None = None
) -> Moments:
    """Moments from unit-level rows (one row per unit), variants in the given (or sorted) order."""
    if variants is None:
        variants = sorted(str(v) for v in units[variant_col].dropna().unique())
    codes = variant_codes(units[variant_col], variants)
    if (codes < 0).any():
        raise ValueError(f"{variant_col!r} holds variants outside {variants}")
    cols = {c: units[c].to_numpy(dtype=float) for m in metrics for c in m.columns}
    arrays = group_moments(codes, len(variants), cols, metrics)
    return Moments(_frame(arrays, variants, metrics), list(variants), list(metrics))


def moments_from_aggregates(table: pd.DataFrame, kinds: dict[str, str] | None = None) -> Moments:
    """Moments from a summary table with ``variant, metric, n, sum, sum_sq`` (one row per pair).

    ``kinds`` maps metric to ``binary`` or ``mean``; missing metrics are ``binary`` when
    ``sum == sum_sq`` in every variant (0/1 values), else ``mean``.
    """
    kinds = dict(kinds or {})
    t = table.copy()
    t["variant"] = t["variant"].astype(str)
    t["metric"] = t["metric"].astype(str)
    n = t["n"].to_numpy(dtype=float)
    s = t["sum"].to_numpy(dtype=float)
    ss = t["sum_sq"].to_numpy(dtype=float)
    out = pd.DataFrame({"variant": t["variant"], "metric": t["metric"]})
    for name, g in t.groupby("metric", sort=False):
        if name not in kinds:
            kinds[name] = "binary" if np.allclose(g["sum"], g["sum_sq"]) else "mean"
    out["kind"] = out["metric"].map(kinds)
    out["n"] = n
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean"] = s / n
        out["var"] = (ss - s * s / n) / (n - 1.0)
    for key in MOMENT_COLUMNS[6:]:
        out[key] = np.nan
    variants = list(dict.fromkeys(out["variant"]))
    metrics = [Metric(name, kinds[name], name) for name in dict.fromkeys(out["metric"])]
    return Moments(out[MOMENT_COLUMNS].reset_index(drop=True), variants, metrics)

"""Prioritise market opportunities: criteria, weights, scores, dominance and the portfolio view.

Data contract (after loading): one row per opportunity with ``opportunity_id`` (unique string),
``name`` (string), optional ``group`` (string) and one numeric column per criterion.

The criteria specification is a table with one row per criterion:
``criterion`` (a column of the opportunities table), ``weight`` (>= 0, rescaled to sum to 1),
``direction`` (``benefit``: more is better, or ``cost``: less is better) and optional ``group``
(``attractiveness`` or ``ability``, used by the GE-McKinsey matrix). It is given as a dict, a
DataFrame, or a CSV/YAML file (see :func:`criteria_spec`); empty means :data:`DEFAULT_CRITERIA`.

Stability under weight changes lives in :mod:`marksell.prioritisation.sensitivity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from marksell.errors import AnalysisError

#: Default specification for the sample company (and any table with these columns).
#: Why these weights: the leadership team cares first about the prize (size, growth, margin:
#: 0.45 together) and then about whether we can win it (share, fit: 0.25), and penalises
#: competition, capital needed and risk (0.30 together). Groups feed the GE-McKinsey matrix:
#: market attractiveness = size, growth, margin, competitive intensity; ability to win =
#: achievable share, capability fit, investment, risk.
DEFAULT_CRITERIA: dict[str, dict] = {
    "market_size": {"weight": 0.15, "direction": "benefit", "group": "attractiveness"},
    "growth_pct": {"weight": 0.15, "direction": "benefit", "group": "attractiveness"},
    "margin_pct": {"weight": 0.15, "direction": "benefit", "group": "attractiveness"},
    "competitive_intensity": {"weight": 0.10, "direction": "cost", "group": "attractiveness"},
    "achievable_share_pct": {"weight": 0.10, "direction": "benefit", "group": "ability"},
    "capability_fit": {"weight": 0.15, "direction": "benefit", "group": "ability"},
    "investment": {"weight": 0.10, "direction": "cost", "group": "ability"},
    "risk": {"weight": 0.10, "direction": "cost", "group": "ability"},
}

#: An illustrative AHP judgement matrix over the default criteria (same order as
#: :data:`DEFAULT_CRITERIA`), as a leadership workshop might fill it in on Saaty's 1-9 scale:
#: margin matters most, then growth; investment least. Its consistency ratio is about 0.01.
EXAMPLE_AHP: dict = {
    "criteria": list(DEFAULT_CRITERIA),
    "matrix": [
        [1, 1, 1 / 2, 2, 2, 1, 3, 2],
        [1, 1, 1, 2, 3, 1, 3, 2],
        [2, 1, 1, 3, 3, 2, 3, 3],
        [1 / 2, 1 / 2, 1 / 3, 1, 1, 1 / 2, 2, 1],
        [1 / 2, 1 / 3, 1 / 3, 1, 1, 1 / 2, 1, 1],
        [1, 1, 1 / 2, 2, 2, 1, 3, 2],
        [1 / 3, 1 / 3, 1 / 3, 1 / 2, 1, 1 / 3, 1, 1 / 2],
        [1 / 2, 1 / 2, 1 / 3, 1, 1, 1 / 2, 2, 1],
    ],
}

METHODS = ("wsum", "topsis")
METHOD_LABELS = {"wsum": "weighted sum", "topsis": "TOPSIS"}

#: Saaty's random consistency index by matrix size (Saaty 1980 for n <= 10; the commonly used
#: extension for 11..15).
RANDOM_INDEX = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.53,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}


# --------------------------------------------------------------------------- specification
def criteria_spec(criteria: dict | pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
    """Normalise a criteria specification into a table ``criterion, weight, direction, group``.

    Parameters
    ----------
    criteria
        * empty (``None``, ``{}``, ``""``): :data:`DEFAULT_CRITERIA`;
        * dict ``{criterion: {"weight": w, "direction": d, "group": g}}`` or
          ``{criterion: (w, d)}`` / ``{criterion: [w, d, g]}``;
        * DataFrame with columns ``criterion, weight, direction`` (+ ``group``);
        * path (str/Path) to a ``.csv`` with those columns, or a ``.yaml``/``.yml`` file holding
          either a list of such records or a mapping like the dict form.

    Weights are checked (finite, >= 0, not all zero) and rescaled to sum to 1; the original
    weight is kept in ``weight_given``. A criterion without a group that is one of the default
    criteria takes its default group.
    """
    if criteria is None or (isinstance(criteria, (dict, str)) and len(criteria) == 0):
        spec, source = _spec_from_dict(DEFAULT_CRITERIA), "default"
    elif isinstance(criteria, pd.DataFrame):
        spec, source = criteria.copy(), "given"
    elif isinstance(criteria, dict):
        spec, source = _spec_from_dict(criteria), "given"
    elif isinstance(criteria, (str, Path)):
        spec, source = _spec_from_file(Path(criteria)), "file"
    else:
        raise AnalysisError(f"criteria must be a dict, a DataFrame or a path to a CSV/YAML file; got {type(criteria).__name__}")
    return _check_spec(spec, source)


def resolve_criteria(criteria, columns) -> tuple[pd.DataFrame, list[str]]:
    """The specification for a run: the user's (``criteria`` given, see :func:`criteria_spec`), else the
    documented default criteria that are columns of the table (``columns``), with a note on the others.

    Raises :class:`AnalysisError` when no default criterion is a column: only the user knows which of
    their columns are criteria and whether more is better, so they must give ``criteria`` or
    ``criteria_path``.
    """
    if criteria is not None and len(criteria):
        return criteria_spec(criteria), []
    names = [str(c) for c in columns]
    have = [c for c in DEFAULT_CRITERIA if c in names]
    if not have:
        others = [c for c in names if c not in ("opportunity_id", "name", "group")]
        raise AnalysisError(
            "none of the default criteria (" + ", ".join(DEFAULT_CRITERIA) + ") is a column of the "
            "opportunities table; give `criteria` or `criteria_path` with a weight and a direction "
            f"(benefit or cost) for your criterion columns ({', '.join(others) or 'none found'})"
        )
    spec = _check_spec(_spec_from_dict({c: DEFAULT_CRITERIA[c] for c in have}), "default")
    left_out = [c for c in DEFAULT_CRITERIA if c not in have]
    return spec, (
        [f"default criteria not in the table left out: {', '.join(left_out)}; weights rescaled over {', '.join(have)}"]
        if left_out
        else []
    )


def check_run_parameters(given: dict) -> None:
    """The runner's check of a prioritisation run before any kernel starts.

    ``given`` holds the parameters the user set. The criteria they name (``criteria`` or the file in
    ``criteria_path``) must be readable and be columns of the opportunities file after ``columns``;
    without either, at least one default criterion must be a column (see :func:`resolve_criteria`).
    Raises :class:`ParameterError` naming the parameter, the column and the file's columns.
    """
    from marksell.data.columns import input_columns
    from marksell.data.read import mapped_header
    from marksell.errors import ParameterError

    param = "criteria_path" if given.get("criteria_path") else "criteria"
    crit = given.get("criteria_path") or given.get("criteria")
    if param == "criteria_path" and not Path(str(crit)).expanduser().is_file():
        return  # the path checks report it
    mapping = input_columns(given.get("columns"), {"opportunities": True})["opportunities"]
    found = mapped_header(given.get("opportunities_path"), "opportunities", mapping)
    if found is None:
        return
    mapped, shown = found
    try:
        spec, _ = resolve_criteria(crit, mapped)
    except AnalysisError as exc:
        raise ParameterError(f"{param}: {exc}") from None
    absent = [c for c in spec["criterion"] if c not in mapped]
    if absent:
        raise ParameterError(
            f"{param}: {', '.join(f'`{c}`' for c in absent)} "
            f"{'is not a column' if len(absent) == 1 else 'are not columns'} of "
            f"{shown}; its columns (after `columns`) are {', '.join(mapped)}. Name "
            "your criterion columns, or map yours onto these names with `columns`."
        )


def _spec_from_dict(d: dict) -> pd.DataFrame:
    rows = []
    for crit, v in d.items():
        if isinstance(v, dict):
            rows.append({"criterion": crit, **v})
        elif isinstance(v, (list, tuple)) and len(v) in (2, 3):
            rows.append(dict(zip(["criterion", "weight", "direction", "group"], [crit, *v])))
        else:
            raise AnalysisError(
                f"criterion '{crit}': give {{'weight': w, 'direction': 'benefit'|'cost'}} or (weight, direction); got {v!r}"
            )
    return pd.DataFrame(rows)


def _spec_from_file(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise AnalysisError(
            f"criteria specification file not found: {path.name}. Fix: give the path to a "
            "CSV or YAML file with criterion, weight, direction (or leave it empty)."
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "criteria" in data:
            data = data["criteria"]
        if isinstance(data, list):
            return pd.DataFrame(data)
        if isinstance(data, dict):
            return _spec_from_dict(data)
        raise AnalysisError(
            f"{path.name}: expected a list of {{criterion, weight, direction}} records "
            "or a mapping criterion -> {weight, direction}"
        )
    raise AnalysisError(f"{path.name}: a criteria specification must be .csv, .yaml or .yml")


def _check_spec(spec: pd.DataFrame, source: str) -> pd.DataFrame:
    spec.columns = [str(c).strip().lower() for c in spec.columns]
    missing = [c for c in ("criterion", "weight", "direction") if c not in spec.columns]
    if missing:
        raise AnalysisError(
            f"criteria specification is missing column(s) {missing}; it needs criterion, weight, direction (optional group)"
        )
    spec = spec.assign(criterion=spec["criterion"].astype(str).str.strip())
    dup = spec["criterion"][spec["criterion"].duplicated()].tolist()
    if dup:
        raise AnalysisError(f"criteria specification lists criterion {dup} more than once; keep one row each")
    w = pd.to_numeric(spec["weight"], errors="coerce")
    for crit, raw, num in zip(spec["criterion"], spec["weight"], w):
        if pd.isna(num) or not np.isfinite(num):
            raise AnalysisError(f"criterion '{crit}': weight {raw!r} is not a number")
        if num < 0:
            raise AnalysisError(
                f"criterion '{crit}': weight {num:g} is negative; weights must be >= 0 "
                "(use direction 'cost' for criteria where less is better)"
            )
    if w.sum() <= 0:
        raise AnalysisError("all criteria weights are zero; give at least one criterion a positive weight")
    direction = spec["direction"].astype(str).str.strip().str.lower()
    for crit, d in zip(spec["criterion"], direction):
        if d not in ("benefit", "cost"):
            raise AnalysisError(
                f"criterion '{crit}': direction '{d}' must be 'benefit' (more is better) or 'cost' (less is better)"
            )
    group = spec["group"] if "group" in spec.columns else pd.Series([None] * len(spec))
    group = [
        DEFAULT_CRITERIA.get(c, {}).get("group")
        if (g is None or (isinstance(g, float) and np.isnan(g)))
        else str(g).strip().lower()
        for c, g in zip(spec["criterion"], group)
    ]
    return pd.DataFrame(
        {
            "criterion": spec["criterion"].to_numpy(),
            "weight": (w / w.sum()).to_numpy(dtype=float),
            "direction": direction.to_numpy(),
            "group": pd.array(group, dtype="string"),
            "weight_given": w.to_numpy(dtype=float),
            "source": source,
        }
    )


# --------------------------------------------------------------------------- validation
def decision_matrix(
    opps: pd.DataFrame, spec: pd.DataFrame, id_col: str = "opportunity_id", name_col: str = "name"
) -> pd.DataFrame:
    """Check the opportunities against the specification and return the numeric criteria matrix.

    Returns a float DataFrame indexed by opportunity id with one column per criterion (spec order).
    Raises :class:`AnalysisError` naming the column, criterion or rows for: missing id/name
    columns, duplicated ids, criteria not in the table, non-numeric or missing values, and
    constant criteria (which cannot separate the options).
    """
    missing = [c for c in (id_col, name_col) if c not in opps.columns]
    if missing:
        raise AnalysisError(
            f"opportunities table is missing required column(s) {missing}. "
            "Fix: map your columns with `columns`, e.g. {'Market': 'name'}"
        )
    ids = opps[id_col].astype("string")
    dup = sorted(set(ids[ids.duplicated()].dropna()))
    if dup:
        raise AnalysisError(
            f"{id_col} must be unique; duplicated: {dup}. Fix: give each opportunity its own id or merge the duplicated rows"
        )
    if ids.isna().any():
        rows = [int(i) for i in np.flatnonzero(ids.isna().to_numpy())]
        raise AnalysisError(f"{id_col} is empty in row(s) {rows}; every opportunity needs an id")
    absent = [c for c in spec["criterion"] if c not in opps.columns]
    if absent:
        numeric = [c for c in opps.columns if c not in (id_col, name_col, "group")]
        raise AnalysisError(
            f"criterion {absent} in the criteria specification is not a column of the "
            f"opportunities table (its criterion columns: {numeric}). Fix: add the column, "
            "rename it with `columns`, or drop the criterion from the specification"
        )
    if len(opps) < 2:
        raise AnalysisError("prioritisation needs at least two opportunities to compare")
    out = {}
    for crit in spec["criterion"]:
        raw = opps[crit]
        num = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = num.isna() & raw.notna()
        if bad.any():
            ex = [f"{i}: {v!r}" for i, v in zip(ids[bad].head(3), raw[bad].head(3))]
            raise AnalysisError(
                f"criterion '{crit}' has non-numeric value(s) for {ex}. Fix: remove units, currency signs or text from the column"
            )
        if num.isna().any():
            raise AnalysisError(
                f"criterion '{crit}' is missing for opportunity id(s) "
                f"{ids[num.isna()].tolist()[:5]}. Fix: fill the value in or drop the row"
            )
        if not np.isfinite(num.to_numpy()).all():
            raise AnalysisError(f"criterion '{crit}' has infinite values; use finite numbers")
        if num.nunique() == 1:
            raise AnalysisError(
                f"criterion '{crit}' has the same value ({num.iloc[0]:g}) for every "
                "opportunity, so it cannot separate them. Fix: drop it from the specification"
            )
        out[crit] = num.to_numpy()
    return pd.DataFrame(out, index=pd.Index(ids.to_numpy(), name=id_col))


# --------------------------------------------------------------------------- weights
@dataclass
class AHPResult:
    """Weights from an AHP pairwise-comparison matrix and its consistency check."""

    weights: pd.Series  #: principal eigenvector, summing to 1, indexed by criterion
    lambda_max: float  #: principal eigenvalue
    consistency_index: float  #: (lambda_max - n) / (n - 1)
    random_index: float  #: Saaty's random index for size n
    consistency_ratio: float  #: CI / RI (0 when n <= 2)
    consistent: bool  #: CR <= 0.10
    message: str  #: plain-words verdict; names the most inconsistent judgement


def ahp_weights(matrix, criteria: list[str] | None = None, threshold: float = 0.10) -> AHPResult:
    """Criteria weights from a pairwise-comparison matrix (Saaty's AHP, eigenvector method).

    ``matrix[i][j]`` says how much more important criterion i is than j on Saaty's 1-9 scale
    (``matrix[j][i]`` must be its reciprocal). ``matrix`` may also be a dict
    ``{"criteria": [...], "matrix": [[...]]}`` or a square DataFrame labelled by criterion.
    A consistency ratio above ``threshold`` (0.10, Saaty's rule) is flagged, not raised: the
    message names the comparison that disagrees most with the weights, which is the one to revisit.
    """
    if isinstance(matrix, dict):
        criteria = list(matrix.get("criteria") or criteria or [])
        matrix = matrix.get("matrix")
    if isinstance(matrix, pd.DataFrame):
        criteria = [str(c) for c in matrix.columns] if criteria is None else criteria
        matrix = matrix.to_numpy()
    try:
        a = np.array(matrix, dtype=float)
    except (TypeError, ValueError):
        raise AnalysisError("AHP matrix must be a square table of positive numbers (rows of equal length)") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise AnalysisError(
            f"AHP matrix is {' x '.join(map(str, a.shape))}; it must be square, one row and one column per criterion"
        )
    n = a.shape[0]
    criteria = list(criteria) if criteria else [f"c{i + 1}" for i in range(n)]
    if len(criteria) != n:
        raise AnalysisError(f"AHP matrix is {n} x {n} but {len(criteria)} criteria are named {criteria}")
    if n > max(RANDOM_INDEX):
        raise AnalysisError(
            f"AHP with {n} criteria is not supported (Saaty's random index is tabulated "
            f"up to {max(RANDOM_INDEX)}); group criteria or give weights directly"
        )
    if not np.isfinite(a).all() or (a <= 0).any():
        i, j = np.argwhere(~np.isfinite(a) | (a <= 0))[0]
        raise AnalysisError(
            f"AHP matrix entry ({criteria[i]}, {criteria[j]}) = {a[i, j]:g}; every "
            "comparison must be a positive number (1 = equal, 9 = extremely more important)"
        )
    bad = np.argwhere(~np.isclose(a * a.T, 1.0, rtol=1e-3))
    if len(bad):
        i, j = bad[0]
        raise AnalysisError(
            f"AHP matrix is not reciprocal: ({criteria[i]}, {criteria[j]}) = {a[i, j]:g} but "
            f"({criteria[j]}, {criteria[i]}) = {a[j, i]:g}; it should be {1 / a[i, j]:.4g}"
        )
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals.real[k])
    v = np.abs(vecs[:, k].real)
    w = v / v.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    cr = max(cr, 0.0)
    consistent = cr <= threshold
    # judgement that disagrees most with the weights (largest log-ratio error)
    err = np.abs(np.log(a) - np.log(np.outer(w, 1 / w)))
    i, j = np.unravel_index(np.argmax(np.triu(err, 1)), err.shape)
    if consistent:
        msg = f"Consistency ratio {cr:.3f} <= {threshold:.2f}: the pairwise judgements hang together, so the weights can be used."
    else:
        msg = (
            f"Consistency ratio {cr:.3f} > {threshold:.2f}: the judgements contradict each other more "
            "than Saaty's rule allows (e.g. A > B and B > C but C > A), so the weights are unreliable. "
            f"Revisit the comparison of '{criteria[i]}' with '{criteria[j]}': it says {a[i, j]:.3g}, "
            f"while the other judgements imply about {w[i] / w[j]:.3g}."
        )
    return AHPResult(pd.Series(w, index=criteria, name="weight"), lam, ci, ri, cr, consistent, msg)


def apply_ahp(spec: pd.DataFrame, ahp: AHPResult) -> pd.DataFrame:
    """Replace the specification's weights by AHP weights (criteria must match one to one)."""
    extra = sorted(set(ahp.weights.index) - set(spec["criterion"]))
    lacking = sorted(set(spec["criterion"]) - set(ahp.weights.index))
    if extra or lacking:
        raise AnalysisError(
            f"AHP matrix criteria do not match the specification: not in the specification "
            f"{extra}, not in the AHP matrix {lacking}. Fix: compare exactly the "
            "specification's criteria"
        )
    out = spec.copy()
    out["weight"] = ahp.weights.reindex(out["criterion"]).to_numpy()
    out["weight_given"] = out["weight"]
    out["source"] = "ahp"
    return out


def benefit_matrix(x: pd.DataFrame, spec: pd.DataFrame) -> np.ndarray:
    """Min-max normalise each criterion to [0, 1] with 1 = best (cost criteria reversed)."""
    v = x[spec["criterion"]].to_numpy(dtype=float)
    lo, hi = v.min(axis=0), v.max(axis=0)
    r = (v - lo) / np.where(hi > lo, hi - lo, 1.0)
    cost = (spec["direction"] == "cost").to_numpy()
    r[:, cost] = 1.0 - r[:, cost]
    return r


def entropy_weights(x: pd.DataFrame, spec: pd.DataFrame) -> pd.Series:
    """Shannon-entropy weights: criteria on which the options differ more get more weight.

    Each criterion is min-max normalised with 1 = best (:func:`benefit_matrix`), turned into
    shares p_ij = r_ij / sum_i r_ij, and its entropy e_j = -sum_i p_ij ln p_ij / ln n computed;
    the weight is proportional to the divergence 1 - e_j. A data-driven alternative view: it says
    where the options differ, not what matters to the business.
    """
    r = benefit_matrix(x, spec)
    p = r / r.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(len(r))
    d = 1.0 - e
    return pd.Series(d / d.sum(), index=spec["criterion"].to_numpy(), name="entropy_weight")


def weights_table(spec: pd.DataFrame, x: pd.DataFrame | None = None) -> pd.DataFrame:
    """``criterion, direction, group, weight, source`` (+ ``entropy_weight`` when ``x`` is given)."""
    out = spec[["criterion", "direction", "group", "weight", "source"]].copy()
    if x is not None:
        out["entropy_weight"] = entropy_weights(x, spec).to_numpy()
    return out


# --------------------------------------------------------------------------- scoring
def weighted_sum(x: pd.DataFrame, spec: pd.DataFrame) -> pd.Series:
    """Normalised weighted sum: sum_j w_j r_ij with r the min-max normalised matrix (1 = best)."""
    s = benefit_matrix(x, spec) @ spec["weight"].to_numpy(dtype=float)
    return pd.Series(s, index=x.index, name="score_wsum")


def vector_normalise(x: pd.DataFrame, spec: pd.DataFrame) -> np.ndarray:
    """TOPSIS vector normalisation: x_ij / sqrt(sum_i x_ij^2), column by column."""
    v = x[spec["criterion"]].to_numpy(dtype=float)
    return v / np.sqrt((v**2).sum(axis=0))


def topsis(x: pd.DataFrame, spec: pd.DataFrame, details: bool = False):
    """TOPSIS closeness coefficient (Hwang & Yoon 1981) with vector normalisation.

    Weighted normalised values v_ij = w_j x_ij / ||x_j||; the ideal takes the best value of
    each criterion (max for benefit, min for cost), the anti-ideal the worst; the closeness is
    d_anti / (d_ideal + d_anti) in [0, 1], 1 = at the ideal. With ``details`` returns a DataFrame
    with ``d_ideal, d_anti, closeness``.
    """
    v = vector_normalise(x, spec) * spec["weight"].to_numpy(dtype=float)
    benefit = (spec["direction"] == "benefit").to_numpy()
    ideal = np.where(benefit, v.max(axis=0), v.min(axis=0))
    anti = np.where(benefit, v.min(axis=0), v.max(axis=0))
    d_pos = np.sqrt(((v - ideal) ** 2).sum(axis=1))
    d_neg = np.sqrt(((v - anti) ** 2).sum(axis=1))
    c = d_neg / (d_pos + d_neg)
    if details:
        return pd.DataFrame({"d_ideal": d_pos, "d_anti": d_neg, "closeness": c}, index=x.index)
    return pd.Series(c, index=x.index, name="score_topsis")


def score_methods(x: pd.DataFrame, spec: pd.DataFrame, methods=METHODS) -> pd.DataFrame:
    """One ``score_<method>`` and ``rank_<method>`` column per method (rank 1 = best, ties share)."""
    funcs = {"wsum": weighted_sum, "topsis": topsis}
    unknown = [m for m in methods if m not in funcs]
    if unknown or not methods:
        raise AnalysisError(f"unknown method(s) {unknown}; choose from {list(funcs)}")
    out = pd.DataFrame(index=x.index)
    for m in methods:
        s = funcs[m](x, spec)
        out[f"score_{m}"] = s.to_numpy()
        out[f"rank_{m}"] = s.rank(ascending=False, method="min").astype(int).to_numpy()
    return out


def rank_agreement(scores: pd.DataFrame) -> pd.DataFrame:
    """Kendall's tau and Spearman's rho between the rank columns of every pair of methods."""
    ranks = [c for c in scores.columns if c.startswith("rank_")]
    rows = []
    for i, a in enumerate(ranks):
        for b in ranks[i + 1 :]:
            tau = stats.kendalltau(scores[a], scores[b])
            rho = stats.spearmanr(scores[a], scores[b])
            same_top = scores.index[scores[a] == 1].tolist() == scores.index[scores[b] == 1].tolist()
            rows.append(
                {
                    "method_a": a[5:],
                    "method_b": b[5:],
                    "kendall_tau": float(tau.statistic),
                    "spearman_rho": float(rho.statistic),
                    "max_rank_shift": int((scores[a] - scores[b]).abs().max()),
                    "same_top_choice": bool(same_top),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- dominance
def pareto_dominance(x: pd.DataFrame, spec: pd.DataFrame, chunk: int = 256) -> pd.DataFrame:
    """Flag every option that another option beats or equals on all criteria (and beats on one).

    Returns ``dominated`` (bool), ``dominated_by`` (';'-joined ids, best-scoring first is not
    implied: table order) and ``n_dominated_by``, indexed like ``x``. Identical rows do not
    dominate each other. Works in row chunks so that 10,000 options stay within memory.
    """
    v = x[spec["criterion"]].to_numpy(dtype=float)
    v = np.where((spec["direction"] == "cost").to_numpy(), -v, v)
    n = len(v)
    ids = x.index.to_numpy()
    by: list[str] = []
    count = np.zeros(n, dtype=int)
    for s in range(0, n, chunk):
        b = v[s : s + chunk]  # the options examined
        ge = (v[None, :, :] >= b[:, None, :]).all(axis=2)  # [i, k]: k at least as good as i everywhere
        gt = (v[None, :, :] > b[:, None, :]).any(axis=2)  # k strictly better somewhere
        dom = ge & gt
        count[s : s + chunk] = dom.sum(axis=1)
        by.extend(";".join(map(str, ids[row])) for row in dom)
    return pd.DataFrame({"dominated": count > 0, "dominated_by": by, "n_dominated_by": count}, index=x.index)


# --------------------------------------------------------------------------- portfolio
def ge_matrix(
    x: pd.DataFrame, spec: pd.DataFrame, attractiveness: list[str] | None = None, ability: list[str] | None = None
) -> pd.DataFrame:
    """GE-McKinsey coordinates: market attractiveness and ability to win, each on 0-1.

    Each axis is the weighted sum (weights renormalised within the group) of the min-max
    normalised criteria of its group (1 = best in this set of options, so the scale is
    relative). Defaults come from the specification's ``group`` column (``attractiveness`` /
    ``ability``). Thirds give low / medium / high; the nine cells are labelled
    ``invest`` (high-high, high-medium, medium-high), ``selective`` (the diagonal) and
    ``harvest`` (low-low, low-medium, medium-low).
    """
    groups = spec.set_index("criterion")["group"]
    attractiveness = list(attractiveness) if attractiveness else groups.index[groups == "attractiveness"].tolist()
    ability = list(ability) if ability else groups.index[groups == "ability"].tolist()
    for axis, cols in (("attractiveness", attractiveness), ("ability to win", ability)):
        if not cols:
            raise AnalysisError(
                f"no criteria for the {axis} axis: name them, or give the specification a "
                "'group' column with 'attractiveness' / 'ability'"
            )
        unknown = [c for c in cols if c not in set(spec["criterion"])]
        if unknown:
            raise AnalysisError(f"{axis} criteria {unknown} are not in the criteria specification")
    r = pd.DataFrame(benefit_matrix(x, spec), index=x.index, columns=spec["criterion"].to_numpy())
    w = spec.set_index("criterion")["weight"]

    def axis_score(cols):
        ww = w[cols]
        ww = ww / ww.sum() if ww.sum() > 0 else pd.Series(1.0 / len(cols), index=cols)
        return r[cols].to_numpy() @ ww.to_numpy()

    out = pd.DataFrame({"attractiveness": axis_score(attractiveness), "ability_to_win": axis_score(ability)}, index=x.index)
    out["zone"] = [ge_zone(a, b) for a, b in zip(out["attractiveness"], out["ability_to_win"])]
    return out


def _level(v: float) -> int:
    return 0 if v < 1 / 3 else (1 if v < 2 / 3 else 2)


def ge_zone(attractiveness: float, ability: float) -> str:
    """``invest`` / ``selective`` / ``harvest`` for a point on the 0-1 x 0-1 GE-McKinsey grid."""
    total = _level(attractiveness) + _level(ability)
    return "invest" if total >= 3 else ("selective" if total == 2 else "harvest")


def expected_value(
    opps: pd.DataFrame,
    size_col: str = "market_size",
    growth_col: str = "growth_pct",
    share_col: str = "achievable_share_pct",
    margin_col: str = "margin_pct",
    investment_col: str = "investment",
    horizon_years: int = 3,
) -> pd.DataFrame:
    """Expected yearly margin at the horizon: size x (1 + growth)^horizon x share x margin.

    Percent columns are divided by 100. Factors whose column is absent are left out (listed in
    ``attrs["factors"]``). When ``investment_col`` exists, ``value_per_investment`` divides the
    expected value by the investment (a payback-style view).
    """
    if size_col not in opps.columns:
        raise AnalysisError(f"expected value needs a market size column; '{size_col}' is not in the table")
    ev = pd.to_numeric(opps[size_col], errors="coerce").astype(float)
    used = [size_col]
    if growth_col in opps.columns:
        ev = ev * (1 + opps[growth_col].astype(float) / 100) ** horizon_years
        used.append(growth_col)
    for col in (share_col, margin_col):
        if col in opps.columns:
            ev = ev * opps[col].astype(float) / 100
            used.append(col)
    out = pd.DataFrame({"expected_value": ev.to_numpy()}, index=opps.index)
    if investment_col in opps.columns:
        out["value_per_investment"] = ev.to_numpy() / opps[investment_col].astype(float).to_numpy()
    out.attrs["factors"] = used
    return out

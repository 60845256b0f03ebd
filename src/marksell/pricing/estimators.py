"""The elasticity estimators: OLS, 2SLS and Poisson PML on demeaned arrays with robust covariances, and
the per-product fits (OLS, 2SLS, double machine learning, PPML) that turn them into result rows."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from marksell.errors import AnalysisError
from marksell.pricing.panel import PanelDesign, demean, group_codes

METHODS = ("ols", "iv", "dml", "ppml")
Z95 = float(stats.norm.ppf(0.975))
RESULT_COLUMNS = [
    "product_id",
    "category",
    "level",
    "method",
    "elasticity",
    "std_error",
    "ci_low",
    "ci_high",
    "n_obs",
    "identified",
    "reason",
    "first_stage_f",
    "weak_instrument",
    "r2",
    "n_zero_units",
    "promo_coef",
    "promo_se",
    "endogeneity_p",
    "fixed_effects",
    "se_type",
    "note",
]


# --------------------------------------------------------------------------- linear algebra core
def ppml_fit(
    y: np.ndarray,
    x: np.ndarray,
    groups: Sequence[np.ndarray],
    clusters: np.ndarray | None = None,
    dof_fe: int = 0,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> dict:
    """Poisson pseudo-maximum likelihood with absorbed fixed effects (IRLS + weighted demeaning).

    ``y`` are counts (zeros allowed), ``x`` regressors without constant. Fixed-effect levels whose
    units are all zero are uninformative and must be removed by the caller. Returns beta, cov
    (sandwich, HC1 or CR1 via ``clusters``), deviance R2 and the number of iterations.
    """
    mu = (y + y.mean()) / 2
    eta = np.log(mu)
    dev_old = np.inf
    for it in range(1, max_iter + 1):
        z = eta + (y - mu) / mu
        dm = demean(np.column_stack([z, x]), groups, tol=1e-10, weights=mu)
        sw = np.sqrt(mu)
        beta, *_ = np.linalg.lstsq(dm[:, 1:] * sw[:, None], dm[:, 0] * sw, rcond=None)
        r = dm[:, 0] - dm[:, 1:] @ beta
        eta = z - r
        mu = np.exp(np.clip(eta, -30, 30))
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
        if abs(dev - dev_old) / (0.1 + abs(dev)) < tol:
            break
        dev_old = dev
    xt = dm[:, 1:]
    bread = np.linalg.pinv((xt * mu[:, None]).T @ xt)
    n, k = xt.shape
    cov = _cov(xt, y - mu, bread, clusters, n - k - dof_fe)
    ybar = y.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        dev_null = 2 * float(np.sum(np.where(y > 0, y * np.log(y / ybar), 0.0) - (y - ybar)))
    return {"beta": beta, "cov": cov, "r2": 1 - dev / dev_null if dev_null > 0 else np.nan, "iterations": it}


def _cov(h: np.ndarray, resid: np.ndarray, bread: np.ndarray, clusters: np.ndarray | None, dof_resid: int) -> np.ndarray:
    """Sandwich covariance with score columns ``h`` (X or fitted X): HC1 or CR1."""
    n, k = h.shape
    if clusters is None:
        meat = (h * resid[:, None] ** 2).T @ h
        adj = n / max(dof_resid, 1)
    else:
        g = clusters
        n_g = int(g.max()) + 1
        sums = np.zeros((n_g, k))
        np.add.at(sums, g, h * resid[:, None])
        meat = sums.T @ sums
        n_clu = len(np.unique(g))
        adj = n_clu / max(n_clu - 1, 1) * (n - 1) / max(n - k, 1)
    return adj * bread @ meat @ bread


def ols_fit(y: np.ndarray, x: np.ndarray, clusters: np.ndarray | None = None, dof_fe: int = 0, r2_centred: bool = False) -> dict:
    """OLS of ``y`` on ``x`` (already demeaned, no constant). Returns beta, cov, r2, resid."""
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    n, k = x.shape
    cov = _cov(x, resid, xtx_inv, clusters, n - k - dof_fe)
    tss = float(((y - y.mean()) ** 2).sum() if r2_centred else (y**2).sum())
    r2 = 1.0 - float(resid @ resid) / tss if tss > 0 else np.nan
    return {"beta": beta, "cov": cov, "resid": resid, "r2": r2}


def tsls_fit(
    y: np.ndarray,
    endog: np.ndarray,
    exog: np.ndarray,
    instruments: np.ndarray,
    clusters: np.ndarray | None = None,
    dof_fe: int = 0,
) -> dict:
    """Two-stage least squares on demeaned arrays; coefficients ordered [endog..., exog...].

    Standard errors use residuals from the actual regressors (y - X b), not the second-stage
    fitted ones. ``first_stage_f`` holds, per endogenous regressor, the robust Wald F of the
    excluded instruments in its first stage.
    """
    n = len(y)
    x = np.column_stack([endog, exog])
    zfull = np.column_stack([instruments, exog])
    ztz_inv = np.linalg.pinv(zfull.T @ zfull)
    pi = ztz_inv @ (zfull.T @ x)
    xhat = zfull @ pi
    bread = np.linalg.pinv(xhat.T @ xhat)
    beta = bread @ (xhat.T @ y)
    resid = y - x @ beta
    k = x.shape[1]
    cov = _cov(xhat, resid, bread, clusters, n - k - dof_fe)
    kz = instruments.shape[1]
    f_stats = []
    for j in range(endog.shape[1]):
        first = ols_fit(endog[:, j], zfull, clusters, dof_fe)
        b, v = first["beta"][:kz], first["cov"][:kz, :kz]
        try:
            wald = float(b @ np.linalg.solve(v, b))
        except np.linalg.LinAlgError:
            wald = np.nan
        f_stats.append(wald / kz)
    return {"beta": beta, "cov": cov, "resid": resid, "first_stage_f": f_stats}


# --------------------------------------------------------------------------- estimation
def empty_row(**kw) -> dict:
    row = {c: np.nan for c in RESULT_COLUMNS}
    row.update(identified=False, weak_instrument=False, note="")
    row.update(kw)
    return row


def _guard(x_raw: np.ndarray, x_res: np.ndarray, n: int, k: int, dof_fe: int, min_obs: int, min_price_sd: float) -> str:
    """Reason the price effect is not identified on these rows, or '' when it is."""
    if n < min_obs:
        return f"too few observations: n={n} < min_obs={min_obs}"
    if np.ptp(x_raw) == 0:
        return f"a single price level ({np.exp(x_raw[0]):.2f}): price never changes, so its effect cannot be estimated"
    if n - k - dof_fe < 5:
        return f"too few observations for the fixed effects and controls (n={n}, parameters={k + dof_fe})"
    sd = float(np.sqrt(np.mean(x_res**2)))
    if sd < min_price_sd:
        return f"price barely varies after fixed effects and controls: sd of log price = {sd:.4f} < min_price_sd={min_price_sd}"
    return ""


def partial_out(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    if w.shape[1] == 0:
        return a
    coef, *_ = np.linalg.lstsq(w, a, rcond=None)
    return a - w @ coef


def drop_constant(w: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    keep = [j for j in range(w.shape[1]) if np.abs(w[:, j]).max(initial=0) > 1e-10]
    return w[:, keep], [names[j] for j in keep]


def fit_linear(
    des: PanelDesign,
    idx: np.ndarray,
    method: str,
    min_obs: int,
    min_price_sd: float,
    weak_f: float,
    seed: int,
    dml_folds: int,
    base: dict,
) -> dict:
    y, x, w, z = (a[idx] for a in des.demeaned())
    w, w_names = drop_constant(w, des.w_names)
    n = len(y)
    dof_fe = des.dof_fe(idx)
    clusters = des.clusters[idx] if des.clusters is not None else None
    if clusters is not None:
        clusters = group_codes(pd.Series(clusters))
    k = 1 + w.shape[1]
    x_res = partial_out(x, w)
    reason = _guard(des.x[idx], x_res, n, k, dof_fe, min_obs, min_price_sd)
    if not reason and not np.abs(y).max(initial=0) > 1e-12:
        reason = "units do not vary after fixed effects (every week sells the same)"
    if reason:
        return empty_row(**base, n_obs=n, reason=reason)
    row = empty_row(**base, n_obs=n, identified=True, reason="")
    n_miss = int(sum(des.n_missing.get(p, 0) for p in set(des.product[idx])))
    if n_miss:
        row["note"] = f"{n_miss} row(s) with a missing control/instrument value left out"
    centred = des.fixed_effects == "none"
    if method in ("iv", "dml") and z.shape[1]:
        z_res = partial_out(z, w)
        z_sd = np.sqrt((z_res**2).mean(axis=0))
        if np.any(z_sd < 1e-8):
            bad = [des.z_names[j] for j in np.where(z_sd < 1e-8)[0]]
            return empty_row(**base, n_obs=n, reason=f"instrument(s) {bad} do not vary after fixed effects and controls")
    if method == "ols":
        fit = ols_fit(y, np.column_stack([x, w]), clusters, dof_fe, r2_centred=centred)
        b, cov, r2 = fit["beta"], fit["cov"], fit["r2"]
    elif method == "iv":
        fit = tsls_fit(y, x[:, None], w, z, clusters, dof_fe)
        b, cov = fit["beta"], fit["cov"]
        resid = fit["resid"]
        tss = float(((y - y.mean()) ** 2).sum() if centred else (y**2).sum())
        r2 = 1 - float(resid @ resid) / tss
        f = fit["first_stage_f"][0]
        row.update(
            first_stage_f=f, weak_instrument=bool(not f >= weak_f), endogeneity_p=_endogeneity_p(y, x, w, z, clusters, dof_fe)
        )
        if not f >= weak_f:
            row["note"] = f"weak instrument(s): first-stage F={f:.1f} < {weak_f:g}; estimate unreliable"
    elif method == "dml":
        b, cov, r2, f, note = _dml(des, idx, y, x, w, z, clusters, seed, dml_folds)
        row["note"] = "; ".join(t for t in (row["note"], note) if t)
        if f is not None:
            row.update(first_stage_f=f, weak_instrument=bool(not f >= weak_f))
    else:
        raise AnalysisError(f"Unknown method '{method}'; choose from {list(METHODS)}.")
    se = float(np.sqrt(cov[0, 0]))
    row.update(elasticity=float(b[0]), std_error=se, ci_low=float(b[0] - Z95 * se), ci_high=float(b[0] + Z95 * se), r2=r2)
    if "promo" in w_names and method != "dml":
        j = 1 + w_names.index("promo")
        row.update(promo_coef=float(b[j]), promo_se=float(np.sqrt(cov[j, j])))
    return row


def _endogeneity_p(y, x, w, z, clusters, dof_fe) -> float:
    """Robust (regression-based, Wooldridge) Durbin-Wu-Hausman test: p-value of the first-stage
    residual added to the OLS demand equation; small p = price responds to the demand shock."""
    zw = np.column_stack([z, w])
    v = x - zw @ np.linalg.lstsq(zw, x, rcond=None)[0]
    fit = ols_fit(y, np.column_stack([x, w, v]), clusters, dof_fe + 1)
    t = fit["beta"][-1] / np.sqrt(fit["cov"][-1, -1])
    return float(2 * stats.norm.sf(abs(t)))


def _dml(des, idx, y, x, w, z, clusters, seed, folds):
    """Cross-fitted partialling-out; residual OLS (PLR) or residual 2SLS (PLIV with instruments)."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.model_selection import KFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    feats = [w]
    if "store_id" in des.d.columns:
        feats.append(group_codes(des.d["store_id"].iloc[idx])[:, None].astype(float))
    if "date" in des.d.columns:
        feats.append(group_codes(des.d["date"].iloc[idx])[:, None].astype(float))
    feats = np.column_stack(feats) if sum(f.shape[1] for f in feats) else np.zeros((len(y), 1))
    folds = min(folds, len(y))
    kf = KFold(n_splits=folds, shuffle=True, random_state=seed)
    n = len(y)
    # small samples: smaller leaves and no subsampling, else the trees could not split at all
    learner = ExtraTreesRegressor(
        n_estimators=25, max_depth=6, min_samples_leaf=min(10, max(2, n // 50)), max_features=0.6, random_state=seed
    )
    targets = np.column_stack([y, x, z])
    res = np.empty_like(targets)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(targets.shape[1]):
            res[:, j] = targets[:, j] - cross_val_predict(learner, feats, targets[:, j], cv=kf)
    ry, rx, rz = res[:, 0], res[:, 1], res[:, 2:]
    n = len(y)
    if rz.shape[1]:
        fit = tsls_fit(ry, rx[:, None], np.zeros((n, 0)), rz, clusters, 0)
        b, cov, f = fit["beta"], fit["cov"], fit["first_stage_f"][0]
        note = f"partially linear IV, {folds}-fold cross-fitted extra-trees"
    else:
        fit = ols_fit(ry, rx[:, None], clusters, 0)
        b, cov, f = fit["beta"], fit["cov"], None
        note = f"partialling-out (no instruments: corrects only for observed controls), {folds}-fold cross-fitted extra-trees"
    resid = ry - rx * b[0]
    r2 = 1 - float(resid @ resid) / float(ry @ ry) if ry @ ry > 0 else np.nan
    return b, cov, r2, f, note


def fit_ppml(des: PanelDesign, idx: np.ndarray, min_obs: int, min_price_sd: float, base: dict) -> dict:
    """Poisson PML on levels of units, zero weeks included, fixed effects absorbed."""
    y = des.y[idx]
    x = np.column_stack([des.x[idx], des.w[idx]])
    groups = [group_codes(pd.Series(g[idx])) for g in des.groups]
    # fixed-effect levels with no sales at all carry no information (and push mu to zero): drop them
    keep = np.ones(len(y), bool)
    for g in groups:
        keep &= (np.bincount(g, weights=y) > 0)[g]
    n_zero = int((y <= 0).sum())
    y, x = y[keep], x[keep]
    groups = [group_codes(pd.Series(g[keep])) for g in groups]
    x_dm = demean(x, groups)
    xw, names = drop_constant(x_dm[:, 1:], des.w_names)
    n = len(y)
    dof_fe = sum(int(g.max()) + 1 for g in groups) - (len(groups) - 1)
    reason = _guard(x[:, 0], partial_out(x_dm[:, 0], xw), n, 1 + xw.shape[1], dof_fe, min_obs, min_price_sd)
    if reason:
        return empty_row(**base, n_obs=n, reason=reason)
    keep_cols = [0] + [1 + des.w_names.index(c) for c in names]
    clusters = des.clusters[idx][keep] if des.clusters is not None else None
    if clusters is not None:
        clusters = group_codes(pd.Series(clusters))
    fit = ppml_fit(y, x[:, keep_cols], groups, clusters, dof_fe)
    b, se = float(fit["beta"][0]), float(np.sqrt(fit["cov"][0, 0]))
    row = empty_row(
        **base,
        n_obs=n,
        identified=True,
        reason="",
        elasticity=b,
        std_error=se,
        ci_low=b - Z95 * se,
        ci_high=b + Z95 * se,
        r2=fit["r2"],
        note=f"Poisson PML, {n_zero} zero-unit weeks kept; r2 = deviance R2",
    )
    if "promo" in names:
        j = 1 + names.index("promo")
        row.update(promo_coef=float(fit["beta"][j]), promo_se=float(np.sqrt(fit["cov"][j, j])))
    return row

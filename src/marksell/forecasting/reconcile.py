"""Coherent forecasts across hierarchy levels: bottom-up, OLS and MinT-shrink (numpy)."""

from __future__ import annotations

import numpy as np

from marksell.errors import ParameterError

RECONCILIATIONS = ("bottom_up", "ols", "mint_shrink")


def shrink_covariance(resid: np.ndarray) -> tuple[np.ndarray, float]:
    """Schäfer-Strimmer shrinkage of a residual covariance towards its diagonal.

    ``resid`` is (T, n) one-step residuals (not centred, as in Wickramasuriya et al. 2019 and the
    R package hts). Returns ``(W, lambda)``.
    """
    x = np.asarray(resid, dtype=float)
    T = x.shape[0]
    cov = x.T @ x / T
    sd = np.sqrt(np.diag(cov))
    sd[sd == 0] = 1.0
    xs = x / sd
    corr = cov / np.outer(sd, sd)
    v = (1.0 / (T * (T - 1))) * ((xs**2).T @ (xs**2) - (xs.T @ xs) ** 2 / T)
    np.fill_diagonal(v, 0.0)
    d = corr**2
    np.fill_diagonal(d, 0.0)
    lam = float(np.clip(v.sum() / d.sum(), 0.0, 1.0)) if d.sum() > 0 else 1.0
    W = lam * np.diag(np.diag(cov)) + (1 - lam) * cov
    return W, lam


def reconciliation_matrix(
    S: np.ndarray, method: str, bottom: list[int], resid: np.ndarray | None = None
) -> tuple[np.ndarray, dict]:
    """Matrix ``P`` (bottom x all) such that ``S @ P @ base`` is the reconciled forecast."""
    n_all, n_b = S.shape
    if method == "bottom_up":
        P = np.zeros((n_b, n_all))
        P[np.arange(n_b), bottom] = 1.0
        return P, {}
    if method == "ols":
        return np.linalg.solve(S.T @ S, S.T), {}
    if method == "mint_shrink":
        W, lam = shrink_covariance(resid)
        W = W + np.eye(n_all) * 1e-9 * max(np.trace(W) / n_all, 1e-12)
        Wi_S = np.linalg.solve(W, S)
        P = np.linalg.solve(S.T @ Wi_S, Wi_S.T)
        return P, {"lambda": lam}
    raise ParameterError(f"Unknown reconciliation {method!r}: use {list(RECONCILIATIONS)}.")


def _residual_matrix(resids: list[np.ndarray | None]) -> np.ndarray | None:
    """Stack the last common stretch of non-missing residuals (T, n); None when too short."""
    if any(r is None for r in resids):
        return None
    L = min(_tail_valid(r) for r in resids)
    if L < 3:
        return None
    return np.column_stack([r[-L:] for r in resids])


def _tail_valid(r: np.ndarray) -> int:
    bad = np.flatnonzero(np.isnan(r))
    return len(r) - (bad[-1] + 1) if len(bad) else len(r)


def residuals_for(results, ss, chosen, k):
    """One-step residuals of each series' chosen model at origin k (None = final)."""
    out = []
    for i, sid in enumerate(ss.ids):
        store = results[i]["final"] if k is None else results[i]["origins"][k]
        r = store[chosen[sid]][2]
        if r is None:  # theta: use ETS (or seasonal naive) residuals as the error proxy
            r = store.get("ets", store["snaive"])[2]
        out.append(r)
    return out


def reconcile_forecasts(ss, base, method, resids, notes):
    if method == "base":
        return base
    resid = None
    if method == "mint_shrink":
        resid = _residual_matrix(resids)
        if resid is None:
            notes.append("MinT-shrink skipped: fewer than 3 common in-sample residuals.")
            return None
    P, _ = reconciliation_matrix(ss.S, method, ss.bottom, resid)
    return ss.S @ (P @ base)

"""Predictive customer lifetime value: BG/NBD (repeat purchases) and Gamma-Gamma (spend).

Entry point for other modules (e.g. the KPI helper)::

    from marksell.segmentation.clv import fit_clv
    res = fit_clv(transactions, horizon_months=12, discount_rate=0.10, gross_margin=0.30)
    res.available          # False (with res.reason) when the models cannot be fitted
    res.customers          # one row per customer: customer_id, frequency, recency, T,
                           # monetary_value, p_alive, expected_purchases, expected_spend, clv
    res.bgnbd.params       # {"r", "alpha", "a", "b"};  res.gamma_gamma.params: {"p", "q", "gamma"}

``transactions`` follows the contract of :mod:`marksell.segmentation.rfm` (``customer_id``,
``order_date``, ``revenue``; returns negative). ``clv`` is the discounted gross margin expected
from the customer over the next ``horizon_months`` (net of the base's return rate).

Model summary (Fader, Hardie & Lee 2005). Per customer: ``frequency`` x = repeat purchase
occasions, ``recency`` t_x = time from first to last purchase, ``T`` = time from first purchase to
the end of the period, in ``time_unit`` (``"W"`` weeks, ``"D"`` days). BG/NBD: while alive a
customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase she drops out
with probability p ~ Beta(a, b). Gamma-Gamma: each purchase is worth Gamma(p, nu) with
nu ~ Gamma(q, gamma); it is fitted on repeat buyers' mean repeat-purchase value. Both are fitted
by maximum likelihood (scipy L-BFGS-B on log-parameters with analytic gradients); standard errors
come from the inverse of a finite-difference Hessian of the log-likelihood.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from marksell.data.plausible import isolated_old_dates
from marksell.errors import AnalysisError
from marksell.segmentation.rfm import Occasions, occasions_of, per_customer

TIME_UNITS = {"D": 1.0, "W": 7.0, "M": 30.4375}
MONTH_DAYS = 30.4375


def _unit_days(time_unit: str) -> float:
    key = str(time_unit).strip().upper()[:1]
    if key not in TIME_UNITS:
        raise AnalysisError(f"time_unit must be one of {list(TIME_UNITS)} (days, weeks, months); got {time_unit!r}.")
    return TIME_UNITS[key]


# --------------------------------------------------------------------------------------------
# summary data
# --------------------------------------------------------------------------------------------
def _summary_from_occasions(occ: Occasions, end_day: int, unit: float, upto_day: int | None = None) -> pd.DataFrame:
    pc = per_customer(occ, upto_day)
    x = pc["n"].to_numpy() - 1
    repeat_value = pc["gross"].to_numpy() - pc["first_value"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mv = np.where(x > 0, repeat_value / np.maximum(x, 1), 0.0)
    return pd.DataFrame(
        {
            "customer_id": occ.customers[pc["code"].to_numpy()],
            "frequency": x.astype(np.int64),
            "recency": (pc["last_day"] - pc["first_day"]).to_numpy() / unit,
            "T": (end_day - pc["first_day"]).to_numpy() / unit,
            "monetary_value": mv,
            "first_purchase": pc["first_day"].to_numpy().astype("datetime64[D]").astype("datetime64[ns]"),
            "_code": pc["code"].to_numpy(),
        }
    )


def summary_data(
    transactions: pd.DataFrame,
    as_of=None,
    time_unit: str = "W",
    merge_same_day: bool = True,
    occasions: Occasions | None = None,
) -> pd.DataFrame:
    """Frequency/recency/T/monetary_value per customer (the BG/NBD and Gamma-Gamma inputs).

    The period runs up to the day before ``as_of`` (default: the day after the last order), so T
    counts from the first purchase to the last observed day. ``monetary_value`` is the mean gross
    value of the repeat purchases (0 for customers without repeats), as in Fader & Hardie.
    ``occasions``: those of ``transactions`` when already computed (:func:`~marksell.segmentation.rfm.occasions_of`).
    """
    occ = occasions_of(transactions, as_of, merge_same_day, occasions)
    end_day = int(occ.as_of.to_datetime64().astype("datetime64[D]").astype(np.int64)) - 1
    out = _summary_from_occasions(occ, end_day, _unit_days(time_unit)).drop(columns="_code")
    out.attrs.update(as_of=occ.as_of, notes=occ.notes, time_unit=time_unit)
    return out


# --------------------------------------------------------------------------------------------
# fit results
# --------------------------------------------------------------------------------------------
@dataclass
class ModelFit:
    """Maximum-likelihood fit: estimates, standard errors, 95 % intervals and convergence."""

    model: str
    params: dict
    std_errors: dict
    ci_low: dict
    ci_high: dict
    log_likelihood: float
    converged: bool
    message: str
    n_iterations: int
    n_obs: int

    def table(self) -> pd.DataFrame:
        """One row per parameter: estimate, std_error, ci_low, ci_high (log-scale Wald 95 %)."""
        return pd.DataFrame(
            {
                "parameter": list(self.params),
                "estimate": list(self.params.values()),
                "std_error": [self.std_errors[k] for k in self.params],
                "ci_low": [self.ci_low[k] for k in self.params],
                "ci_high": [self.ci_high[k] for k in self.params],
            }
        )

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "params": self.params,
            "std_errors": self.std_errors,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "log_likelihood": self.log_likelihood,
            "converged": self.converged,
            "message": self.message,
            "n_iterations": self.n_iterations,
            "n_obs": self.n_obs,
        }


def _compress(cols: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the given columns and their counts (speeds up likelihoods on big data)."""
    if len(cols[0]) < 5000:
        return cols, np.ones(len(cols[0]))
    vc = pd.DataFrame({i: c for i, c in enumerate(cols)}).value_counts(sort=False)
    idx = vc.index
    return [idx.get_level_values(i).to_numpy(dtype=float) for i in range(len(cols))], vc.to_numpy(dtype=float)


def _fd_hessian(grad, theta: np.ndarray) -> np.ndarray:
    """Central finite-difference Hessian from an analytic gradient (natural parameters)."""
    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        h = 1e-5 * max(abs(theta[i]), 1e-3)
        e = np.zeros(k)
        e[i] = h
        H[:, i] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return (H + H.T) / 2


def _finish(model, names, theta, negll, grad_nat, res, n) -> ModelFit:
    H = _fd_hessian(grad_nat, theta)
    try:
        cov = np.linalg.inv(H)
        se = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
    except np.linalg.LinAlgError:
        se = np.full(len(theta), np.nan)
    se_log = se / theta
    lo, hi = theta * np.exp(-1.959964 * se_log), theta * np.exp(1.959964 * se_log)
    # converged: the optimiser says so, or it stopped in a line search at a stationary point
    grad_log = grad_nat(theta) * theta / max(n, 1)
    stationary = bool(np.all(np.abs(grad_log) < 1e-4))
    ok = (bool(res.success) or stationary) and bool(np.all(np.isfinite(theta)))
    return ModelFit(
        model,
        dict(zip(names, map(float, theta))),
        dict(zip(names, map(float, se))),
        dict(zip(names, map(float, lo))),
        dict(zip(names, map(float, hi))),
        float(-negll(theta)),
        ok,
        str(res.message),
        int(res.nit),
        int(n),
    )


def _minimise(fun_grad_log, x0, n: float) -> optimize.OptimizeResult:
    """L-BFGS-B on log-parameters; the objective is scaled to a per-customer mean for stable tolerances."""

    def scaled(z):
        f, g = fun_grad_log(z)
        return f / n, g / n

    with np.errstate(all="ignore"):
        res = optimize.minimize(
            scaled,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-12, 12)] * len(x0),
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-8},
        )
    return res


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------
def _bgnbd_ll_grad(theta, x, tx, T, w):
    """Log-likelihood (sum, weighted) and gradient w.r.t. (r, alpha, a, b); see :class:`_BgnbdData`."""
    return _BgnbdData(np.asarray(x, float), np.asarray(tx, float), np.asarray(T, float), np.asarray(w, float))(theta)


class _BgnbdData:
    """Summary data arranged so that each evaluation of the BG/NBD log-likelihood and gradient does little per row.

    Per customer, ll = ln G(r+x)/G(r) - ln B(a,b) + r ln alpha + A + softplus(D), with
    A = -(r+x) ln(alpha+T) + ln B(a, b+x) and, for repeat buyers only, D = (r+x) ln((alpha+T)/(alpha+t_x))
    + ln a - ln(b+x-1) (the log-odds of having dropped out after the last purchase; Fader, Hardie & Lee 2005,
    eq. 6 written as A + ln(1 + e^D)). Terms of x alone are summed once per distinct frequency with its total
    weight, terms of T alone once per distinct T; only softplus(D) and its derivative, the logistic function,
    are evaluated per repeat buyer's history."""

    def __init__(self, x, tx, T, w):
        self.xu, inv = np.unique(x, return_inverse=True)
        self.Tu, invT = np.unique(T, return_inverse=True)
        self.wx = np.bincount(inv, w, len(self.xu))  # weight per distinct frequency
        self.wT = np.bincount(invT, w, len(self.Tu))  # weight, and weighted frequency, per distinct T
        self.wxT = np.bincount(invT, w * x, len(self.Tu))
        self.total = float(np.sum(w))
        pos = x > 0
        self.txu, invtx = np.unique(tx[pos], return_inverse=True)
        self.inv_p, self.invT_p, self.invtx_p = inv[pos], invT[pos], invtx
        self.x_p, self.w_p = x[pos], w[pos]

    def __call__(self, theta):
        r, al, a, b = theta
        dg, xu = special.digamma, self.xu
        posu = xu > 0
        lTu, ltxu = np.log(al + self.Tu), np.log(al + self.txu)
        # terms of x alone and of T alone, summed with their weights
        ll = (
            np.dot(self.wx, special.gammaln(r + xu) - special.gammaln(r) - special.betaln(a, b) + special.betaln(a, b + xu))
            + self.total * r * np.log(al)
            - np.dot(lTu, r * self.wT + self.wxT)
        )
        d_r = np.dot(self.wx, dg(r + xu) - dg(r)) + self.total * np.log(al) - np.dot(self.wT, lTu)
        d_al = self.total * r / al - np.dot(r * self.wT + self.wxT, 1.0 / (al + self.Tu))
        dgabx = dg(a + b + xu)
        dab = dg(a + b)
        d_a = self.total * (dab - dg(a)) + np.dot(self.wx, dg(a) - dgabx)
        d_b = self.total * (dab - dg(b)) + np.dot(self.wx, dg(b + xu) - dgabx)
        # repeat buyers: the chance of having dropped out after the last purchase
        if len(self.x_p):
            lodds = np.log(a) - np.log(np.where(posu, b + xu - 1, 1.0))
            gap = lTu[self.invT_p] - ltxu[self.invtx_p]
            rx = r + self.x_p
            D = rx * gap + lodds[self.inv_p]
            ll += np.dot(self.w_p, np.logaddexp(0.0, D))
            ww = self.w_p * special.expit(D)
            d_r += np.dot(ww, gap)
            d_al += np.dot(ww * rx, 1.0 / (al + self.Tu)[self.invT_p] - 1.0 / (al + self.txu)[self.invtx_p])
            d_a += np.sum(ww) / a
            per_x = np.bincount(self.inv_p, ww, len(xu))
            d_b -= np.dot(per_x[posu], 1.0 / (b + xu[posu] - 1))
        return ll, np.array([d_r, d_al, d_a, d_b])


def fit_bgnbd(frequency, recency, T, x0=None, weights=None) -> ModelFit:
    """Fit BG/NBD by maximum likelihood on summary data (arrays or Series of equal length).

    The likelihood depends on a customer only through (frequency, recency, T), so it is computed once
    per distinct combination, weighted by how many customers share it; ``weights`` gives those counts
    for data that is already aggregated.
    """
    x, tx, TT = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if len(x) == 0:
        raise AnalysisError("BG/NBD needs customers; none were given.")
    if not np.any(x > 0):
        raise AnalysisError(
            "BG/NBD cannot be fitted: no customer made a repeat purchase, so the repeat "
            "rate and the dropout probability are not identified."
        )
    if np.any(tx > TT + 1e-9) or np.any(tx < 0):
        raise AnalysisError("recency must lie between 0 and T for every customer.")
    (x, tx, TT), w = _compress([x, tx, TT]) if weights is None else ([x, tx, TT], _check_weights(weights, len(x)))
    if x0 is None:
        x0 = bgnbd_start(x, TT, w)
    data = _BgnbdData(x, tx, TT, w)
    res = _minimise(_bgnbd_objective(data), np.asarray(x0, dtype=float), float(np.sum(w)))
    theta = np.exp(res.x)

    def negll(th):
        return -data(th)[0]

    def grad_nat(th):
        return -data(th)[1]

    return _finish("BG/NBD", ["r", "alpha", "a", "b"], theta, negll, grad_nat, res, np.sum(w))


def bgnbd_start(frequency, T, weights) -> np.ndarray:
    """Default starting point of the BG/NBD search (log r, log alpha, log a, log b)."""
    x, TT, w = (np.asarray(v, dtype=float) for v in (frequency, T, weights))
    return np.log([max(np.sum(w * x) / np.sum(w), 0.1), max(np.average(TT, weights=w), 1e-2), 1.0, 1.0])


def _bgnbd_objective(data: _BgnbdData):
    """Negative log-likelihood and its gradient in log-parameters, for :func:`_minimise`."""

    def fg(lt):
        th = np.exp(lt)
        ll, g = data(th)
        if not np.isfinite(ll):
            return 1e300, np.zeros(4)
        return -ll, -g * th

    return fg


def _check_weights(weights, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise AnalysisError(f"weights must be {n} positive counts, one per row of the summary data.")
    return w


def p_alive(params: dict, frequency, recency, T) -> np.ndarray:
    """Probability that each customer is still active at the end of the period."""
    r, al, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, tx, TT = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    pos = x > 0
    log_ratio = np.log(a) - np.log(np.where(pos, b + x - 1, 1.0)) + (r + x) * (np.log(al + TT) - np.log(al + tx))
    return np.where(pos, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)


def expected_purchases(params: dict, t, frequency, recency, T) -> np.ndarray:
    """Expected number of purchases in the next ``t`` time units, given each customer's history.

    Uses the Euler transform of the Gauss hypergeometric term of Fader, Hardie & Lee (2005, eq. 10),
    ``((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1;
    a+b+x-1; z)`` with ``z = t/(alpha+T+t)``, which stays finite for heavy buyers. Where it overflows
    (very large ``a`` and ``b``: the data show almost no dropout) the untransformed form is used.
    """
    x, tx, TT = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    return _expected_purchases(params, np.asarray(t, dtype=float), x, TT, p_alive(params, x, tx, TT))


def _expected_purchases(params: dict, t, x, TT, alive, pairs=None) -> np.ndarray:
    """:func:`expected_purchases` given ``alive`` (:func:`p_alive`). The hypergeometric term, the costly part,
    depends on (frequency, T, t) only: it is evaluated once per distinct pair (``pairs``: :func:`_pairs`)
    and gathered, which gives the same values as evaluating it per customer."""
    x, TT, t, alive = np.broadcast_arrays(x, TT, t, alive)
    if t.ndim != 1 or len(t) < 1000 or np.ptp(t) != 0:
        return np.where(t > 0, _purchases_if_alive(params, t, x, TT) * alive, 0.0)
    ux, uT, inv = pairs if pairs is not None else _pairs(x, TT)
    per_pair = _purchases_if_alive(params, np.full(len(ux), t[0]), ux, uT)
    return np.where(t > 0, per_pair[inv] * alive, 0.0)


def _purchases_if_alive(params: dict, t, x, TT) -> np.ndarray:
    """Expected purchases in the next ``t`` time units of a customer still alive (eq. 10 without P(alive))."""
    r, al, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t, x, TT = np.broadcast_arrays(t, x, TT)
    shape = t.shape
    t, x, TT = (v.reshape(-1) for v in (t, x, TT))
    z = t / (al + TT + t)
    c = a + b + x - 1
    with np.errstate(all="ignore"):
        term = (1 - z) ** (a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, c, z)
        bad = ~np.isfinite(term)
        if bad.any():  # the untransformed form only where the transform overflows
            xb, Tb, tb = x[bad], TT[bad], t[bad]
            term[bad] = ((al + Tb) / (al + Tb + tb)) ** (r + xb) * special.hyp2f1(r + xb, b + xb, c[bad], z[bad])
        return (c / (a - 1) * (1 - term)).reshape(shape)


def _pairs(x: np.ndarray, TT: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (frequency, T) pairs and, for each customer, the index of theirs."""
    xc, xu = pd.factorize(x, sort=False)
    tc, tu = pd.factorize(TT, sort=False)
    key = xc.astype(np.int64) * max(len(tu), 1) + tc
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return x[first], TT[first], inv.reshape(-1)


def expected_purchases_new(params: dict, t) -> np.ndarray:
    """Expected purchases by a new customer in (0, t] (unconditional BG/NBD curve)."""
    r, al, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, dtype=float)
    z = t / (al + t)
    with np.errstate(all="ignore"):
        return (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------
def _gg_ll_grad(theta, x, m, w, xu=None, inv=None):
    """Gamma-Gamma log-likelihood and gradient w.r.t. (p, q, gamma); x-only terms per distinct x."""
    p, q, g = theta
    if xu is None:
        xu, inv = np.unique(x, return_inverse=True)
    dg = special.digamma
    pxu = p * xu
    glu = (special.gammaln(pxu + q) - special.gammaln(pxu) - special.gammaln(q) + pxu * np.log(xu))[inv]
    dpu = (xu * (dg(pxu + q) - dg(pxu) + np.log(xu)))[inv]
    dqu = (dg(pxu + q) - dg(q))[inv]
    px = p * x
    lm = np.log(m)
    lg = np.log(g + m * x)
    ll = np.sum(w * (glu + q * np.log(g) + (px - 1) * lm - (px + q) * lg))
    d_p = np.sum(w * (dpu + x * (lm - lg)))
    d_q = np.sum(w * (dqu + np.log(g) - lg))
    d_g = np.sum(w * (q / g - (px + q) / (g + m * x)))
    return ll, np.array([d_p, d_q, d_g])


def fit_gamma_gamma(frequency, monetary_value, x0=None) -> ModelFit:
    """Fit Gamma-Gamma on repeat buyers: ``frequency`` (>0) and mean repeat-purchase value (>0)."""
    x, m = np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 3:
        raise AnalysisError(f"Gamma-Gamma needs at least 3 repeat buyers with positive spend; found {len(x)}.")
    if np.ptp(m) == 0:
        raise AnalysisError("Gamma-Gamma cannot be fitted: every repeat buyer has the same average spend.")
    (x, m), w = _compress([x, m])
    xu, inv = np.unique(x, return_inverse=True)
    if x0 is None:
        mean = np.average(m, weights=w)
        x0 = np.log([2.0, 3.0, 2.0 * mean / 2.0])

    def fg(lt):
        th = np.exp(lt)
        ll, g = _gg_ll_grad(th, x, m, w, xu, inv)
        if not np.isfinite(ll):
            return 1e300, np.zeros(3)
        return -ll, -g * th

    res = _minimise(fg, np.asarray(x0, dtype=float), float(np.sum(w)))
    theta = np.exp(res.x)
    return _finish(
        "Gamma-Gamma",
        ["p", "q", "gamma"],
        theta,
        lambda th: -_gg_ll_grad(th, x, m, w, xu, inv)[0],
        lambda th: -_gg_ll_grad(th, x, m, w, xu, inv)[1],
        res,
        np.sum(w),
    )


def expected_spend(params: dict, frequency, monetary_value) -> np.ndarray:
    """Conditional expected value of a future purchase (population mean for x = 0); needs q > 1."""
    p, q, g = params["p"], params["q"], params["gamma"]
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary_value, dtype=float), 0.0)
    return p * (g + x * m) / (p * x + q - 1)


# --------------------------------------------------------------------------------------------
# CLV
# --------------------------------------------------------------------------------------------
def discounted_clv(
    params: dict,
    spend: np.ndarray,
    frequency,
    recency,
    T,
    time_unit: str = "W",
    horizon_months: int = 12,
    discount_rate: float = 0.10,
    gross_margin: float = 0.30,
) -> np.ndarray:
    """Sum over the months of the horizon of expected purchases x spend x margin, discounted.

    ``discount_rate`` is annual; each month's margin is discounted to today at the month's end.
    """
    if not 0 <= gross_margin <= 1:
        raise AnalysisError(f"gross_margin must be between 0 and 1; got {gross_margin}.")
    if discount_rate <= -1:
        raise AnalysisError(f"discount_rate must be above -1; got {discount_rate}.")
    month = MONTH_DAYS / _unit_days(time_unit)
    x, tx, TT = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    alive, pairs = p_alive(params, x, tx, TT), _pairs(x, TT)  # the same for every month
    prev = np.zeros(len(x))
    total = np.zeros_like(prev)
    for mth in range(1, int(horizon_months) + 1):
        cum = _expected_purchases(params, np.float64(mth * month), x, TT, alive, pairs)
        total += (cum - prev) / (1 + discount_rate) ** (mth / 12)
        prev = cum
    return total * np.asarray(spend, dtype=float) * gross_margin


@dataclass
class CLVResult:
    """Outcome of :func:`fit_clv`; ``available`` is False (with ``reason``) when not fitted."""

    available: bool
    reason: str
    customers: pd.DataFrame
    bgnbd: ModelFit | None = None
    gamma_gamma: ModelFit | None = None
    settings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # why the results are not reliable (the run is marked so)

    def params(self) -> dict:
        """All fitted parameters by name (r, alpha, a, b, p, q, gamma); empty if not fitted."""
        out = dict(self.bgnbd.params) if self.bgnbd else {}
        out.update(self.gamma_gamma.params if self.gamma_gamma else {})
        return out


def fit_clv(
    transactions: pd.DataFrame,
    horizon_months: int = 12,
    discount_rate: float = 0.10,
    gross_margin: float = 0.30,
    as_of=None,
    time_unit: str = "W",
    merge_same_day: bool = True,
    net_of_returns: bool = True,
    occasions: Occasions | None = None,
) -> CLVResult:
    """Fit BG/NBD + Gamma-Gamma on ``transactions`` and score every customer (see module doc).

    Degrades instead of failing: with no repeat buyer (or too few customers) ``available`` is
    False, ``reason`` says why and the per-customer columns are NaN; when Gamma-Gamma cannot be
    fitted (or q <= 1) the customer's own average order value is used as the spend and a note says
    so. With ``net_of_returns`` the CLV is scaled by (1 - returns / gross revenue) of the base. ``occasions``:
    those of ``transactions`` when already computed (:func:`~marksell.segmentation.rfm.occasions_of`).
    """
    settings = {
        "horizon_months": horizon_months,
        "discount_rate": discount_rate,
        "gross_margin": gross_margin,
        "time_unit": time_unit,
        "merge_same_day": merge_same_day,
    }
    occ = occasions_of(transactions, as_of, merge_same_day, occasions)
    out = _customer_table(occ, time_unit)
    notes = list(occ.notes)
    settings["as_of"] = occ.as_of
    found = implausible_dates(occ)
    notes.extend(found)
    n_rep = int((out["frequency"] > 0).sum())
    if len(out) < 2 or n_rep < 2:
        reason = (
            f"the CLV model cannot be fitted: {len(out)} customer(s) and {n_rep} repeat buyer(s); "
            "BG/NBD needs repeat purchases to learn how often customers come back and when they "
            "drop out. Collect a longer history or use historical revenue instead."
        )
        return CLVResult(False, reason, out, settings=settings, notes=notes)
    try:
        bg = fit_bgnbd(out["frequency"], out["recency"], out["T"])
    except AnalysisError as exc:
        return CLVResult(False, str(exc), out, settings=settings, notes=notes, warnings=found)
    if not bg.converged:
        notes.append(f"BG/NBD optimiser did not report convergence ({bg.message}); treat estimates with care.")
    gg, spend = _spend_model(occ, out, notes)
    factor = 1.0
    if net_of_returns:
        gross = occ.value.sum()
        factor = 1.0 - occ.returns.sum() / gross if gross > 0 else 1.0
        settings["return_share"] = 1.0 - factor
    _score_customers(out, bg, spend, factor, horizon_months, time_unit, discount_rate, gross_margin)
    return CLVResult(True, "", out, bg, gg, settings, notes, found)


def _customer_table(occ: Occasions, time_unit: str) -> pd.DataFrame:
    """One row per customer: frequency, recency, T (in ``time_unit``) and monetary value at the end of the
    period, with the score columns (p_alive, expected_purchases, expected_spend, clv) still empty."""
    end_day = int(occ.as_of.to_datetime64().astype("datetime64[D]").astype(np.int64)) - 1
    summ = _summary_from_occasions(occ, end_day, _unit_days(time_unit))
    summ = summ.drop(columns="_code")
    out = summ.drop(columns=["first_purchase"]).copy()
    for c in ["p_alive", "expected_purchases", "expected_spend", "clv"]:
        out[c] = np.nan
    return out


def _spend_model(occ: Occasions, out: pd.DataFrame, notes: list[str]) -> tuple[ModelFit | None, np.ndarray]:
    """The Gamma-Gamma fit (None when it failed) and each customer's expected spend per purchase: from the model,
    or the customer's own average order value when it failed or has q <= 1 (a note says which)."""
    gg = None
    try:
        gg = fit_gamma_gamma(out["frequency"], out["monetary_value"])
        if gg.params["q"] <= 1:
            notes.append("Gamma-Gamma q <= 1 (infinite mean spend): customers' own average order values used.")
            gg_ok = False
        else:
            gg_ok = True
    except AnalysisError as exc:
        notes.append(f"Gamma-Gamma not fitted ({exc}); customers' own average order values used.")
        gg_ok = False
    if gg_ok:
        return gg, expected_spend(gg.params, out["frequency"], out["monetary_value"])
    pc = per_customer(occ)
    return gg, (pc["gross"] / pc["n"]).to_numpy()


def _score_customers(
    out: pd.DataFrame, bg: ModelFit, spend, factor: float, horizon_months, time_unit: str, discount_rate, gross_margin
) -> None:
    """Fill the score columns of ``out``: chance of being alive, expected purchases over the horizon, expected
    spend, and the CLV (discounted margin times ``factor``, the share kept after returns)."""
    # predictions depend on (frequency, recency, T) only: compute them once per distinct history
    hist = out[["frequency", "recency", "T"]]
    inv = hist.groupby(["frequency", "recency", "T"], sort=False).ngroup().to_numpy()
    first = np.unique(inv, return_index=True)[1]
    ux, utx, uT = (hist[c].to_numpy(dtype=float)[first] for c in ("frequency", "recency", "T"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["p_alive"] = p_alive(bg.params, ux, utx, uT)[inv]
        horizon = horizon_months * MONTH_DAYS / _unit_days(time_unit)
        out["expected_purchases"] = expected_purchases(bg.params, horizon, ux, utx, uT)[inv]
        out["expected_spend"] = spend
        per_unit = discounted_clv(
            bg.params, np.ones(len(ux)), ux, utx, uT, time_unit, horizon_months, discount_rate, gross_margin
        )
        out["clv"] = factor * per_unit[inv] * np.asarray(spend, dtype=float)


def implausible_dates(occ: Occasions) -> list[str]:
    """One warning when some purchases lie years before all the others (1900 beside 2025): BG/NBD would read
    those customers as watched for a century, fit at its bounds and call them alive; empty otherwise."""
    old = isolated_old_dates(pd.Series(occ.day.astype("datetime64[D]")))
    if old is None:
        return []
    last_old = old.newest_old.to_datetime64().astype("datetime64[D]").astype(np.int64)
    customers = len(np.unique(occ.code[occ.day <= last_old]))
    span = f"{old.oldest:%Y-%m-%d}" if old.oldest == old.newest_old else f"{old.oldest:%Y-%m-%d} to {old.newest_old:%Y-%m-%d}"
    return [
        f"Implausible dates: {customers} customer(s) have purchases dated {span}, {old.gap_years:.0f} years "
        f"before all other purchases (from {old.rest_from:%Y-%m-%d}). BG/NBD reads them as customers watched "
        "for that long, so p_alive, expected purchases and CLV are not reliable: correct or remove those "
        "dates (placeholders for a missing date?)."
    ]


# --------------------------------------------------------------------------------------------
# calibration / holdout check
# --------------------------------------------------------------------------------------------
def automatic_calibration_end(transactions: pd.DataFrame, as_of=None) -> pd.Timestamp:
    """Default split: the last third of the observed period is held out."""
    first = pd.to_datetime(transactions["order_date"]).min().normalize()
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        end = pd.to_datetime(transactions["order_date"]).max().normalize()
    else:
        end = pd.Timestamp(as_of).normalize() - pd.Timedelta(days=1)
    return first + pd.Timedelta(days=int(round((end - first).days * 2 / 3)))


def calibration_holdout(
    transactions: pd.DataFrame,
    calibration_end=None,
    as_of=None,
    time_unit: str = "W",
    merge_same_day: bool = True,
    occasions: Occasions | None = None,
) -> pd.DataFrame:
    """Summary data of the calibration period (up to and including ``calibration_end``) for customers
    whose first purchase falls in it, plus ``frequency_holdout`` (purchases after it) and
    ``duration_holdout`` (length of the holdout in time units). ``occasions``: those of ``transactions`` when
    already computed (:func:`~marksell.segmentation.rfm.occasions_of`)."""
    occ = occasions_of(transactions, as_of, merge_same_day, occasions)
    unit = _unit_days(time_unit)
    if calibration_end is None or (isinstance(calibration_end, str) and not calibration_end.strip()):
        calibration_end = automatic_calibration_end(transactions, occ.as_of)
    cal_end = pd.Timestamp(calibration_end).normalize()
    cal_day = int(cal_end.to_datetime64().astype("datetime64[D]").astype(np.int64))
    end_day = int(occ.as_of.to_datetime64().astype("datetime64[D]").astype(np.int64)) - 1
    if not (occ.day.min() <= cal_day < end_day):
        raise AnalysisError(
            f"calibration_end {cal_end:%Y-%m-%d} must fall after the first order and before the last "
            f"observed day ({occ.as_of - pd.Timedelta(days=1):%Y-%m-%d}). Fix: pick a date inside the period."
        )
    cal = _summary_from_occasions(occ, cal_day, unit, upto_day=cal_day + 1)
    hold = np.bincount(occ.code[occ.day > cal_day], minlength=len(occ.customers))
    cal["frequency_holdout"] = hold[cal["_code"].to_numpy()]
    cal["duration_holdout"] = (end_day - cal_day) / unit
    cal.attrs.update(calibration_end=cal_end, as_of=occ.as_of, time_unit=time_unit)
    return cal.drop(columns=["_code", "first_purchase"])


def holdout_check(cal: pd.DataFrame, max_group: int = 7) -> dict:
    """Fit BG/NBD on the calibration period and compare predicted with actual holdout purchases.

    Returns ``{"fit": ModelFit, "by_frequency": DataFrame, "total_actual", "total_predicted",
    "total_error_pct", "mae_by_group", "customer_correlation"}``; ``by_frequency`` groups
    customers by calibration repeat purchases 0, 1, ..., ``max_group``+.
    """
    fit = fit_bgnbd(cal["frequency"], cal["recency"], cal["T"])
    pred = expected_purchases(fit.params, cal["duration_holdout"].to_numpy(), cal["frequency"], cal["recency"], cal["T"])
    grp = np.minimum(cal["frequency"].to_numpy(), max_group)
    df = pd.DataFrame({"group": grp, "actual": cal["frequency_holdout"].to_numpy(), "predicted": pred})
    by = df.groupby("group").agg(customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
    by.index = [f"{g}+" if g == max_group else str(g) for g in by.index]
    by = by.rename_axis("calibration_repeats").reset_index()
    ta, tp = float(df["actual"].sum()), float(df["predicted"].sum())
    corr = float(np.corrcoef(df["actual"], df["predicted"])[0, 1]) if df["actual"].std() > 0 else float("nan")
    return {
        "fit": fit,
        "by_frequency": by,
        "total_actual": ta,
        "total_predicted": tp,
        "total_error_pct": 100 * (tp - ta) / ta if ta else float("nan"),
        "mae_by_group": float(np.average(np.abs(by["actual"] - by["predicted"]), weights=by["customers"])),
        "customer_correlation": corr,
    }

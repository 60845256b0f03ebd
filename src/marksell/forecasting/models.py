"""The per-series models: naive baselines, automatic ETS, SARIMA and Theta.

Each model has ``fit(y)``, ``update(y)`` (same structure and parameters on a longer history),
optionally ``refit(y)`` (re-estimate with the chosen structure), ``forecast(h, levels)`` -> ``(mean,
{level: (lo, hi)})``, and the attributes ``resid`` (one-step in-sample errors) and ``spec``.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import norm

#: ETS seasonal forms are skipped for season lengths above this (too many states for ETS).
MAX_ETS_SEASON = 24
#: Seasonal strength (STL) above which a series is treated as strongly seasonal (Wang et al. 2006).
STRONG_SEASON = 0.64


@lru_cache(maxsize=1)
def _simulate_rng_keyword() -> str:
    """Name of the random-generator argument of ``ETSResults.simulate``: ``rng`` (a Generator) from
    statsmodels 0.15, ``random_state`` (a RandomState) before."""
    import inspect

    from statsmodels.tsa.exponential_smoothing.ets import ETSResults

    return "rng" if "rng" in inspect.signature(ETSResults.simulate).parameters else "random_state"


def _simulation_seed(seed: int) -> dict:
    """Keyword argument seeding ETS simulation on the installed statsmodels (same seed, same draws
    for one statsmodels version; 0.14 and 0.15 draw from different generators)."""
    if _simulate_rng_keyword() == "rng":
        return {"rng": np.random.default_rng(seed)}
    return {"random_state": np.random.RandomState(seed)}


def _z(levels) -> dict:
    return dict(_z_cached(tuple(levels)))


@lru_cache(maxsize=32)
def _z_cached(levels: tuple) -> tuple:
    return tuple((lv, float(norm.ppf(0.5 + lv / 200.0))) for lv in levels)


class NaiveForecaster:
    name = "naive"

    def __init__(self, m: int = 1):
        self.m = m
        self.spec = "naive" if m <= 1 else f"seasonal naive[{m}]"

    def fit(self, y):
        self.y = y
        r = np.full(len(y), np.nan)
        r[self.m :] = y[self.m :] - y[: -self.m]
        self.resid = r
        d = r[self.m :]
        self.sigma = float(np.sqrt(np.mean(d**2))) if len(d) else 0.0
        return self

    update = fit

    def forecast(self, h, levels):
        j = np.arange(h)
        mean = self.y[len(self.y) - self.m + (j % self.m)]
        k = j // self.m + 1 if self.m > 1 else j + 1
        sd = self.sigma * np.sqrt(k)
        return mean, {lv: (mean - z * sd, mean + z * sd) for lv, z in _z(levels).items()}


class EtsForecaster:
    """Automatic ETS: stepwise AICc search over the admissible forms (heuristic initial states)."""

    name = "ets"

    def __init__(self, m, seasonal, positive, maxiter, reps, seed, strength=0.0):
        self.m, self.seasonal, self.positive = m, seasonal, positive
        self.maxiter, self.reps, self.seed = maxiter, reps, seed
        # strongly seasonal series (STL strength > 0.64): non-seasonal forms cannot win, skip them
        self.need_season = seasonal and strength > STRONG_SEASON

    def candidates(self):
        errors = ["add", "mul"] if self.positive else ["add"]
        seas = ([] if self.need_season else [None]) + (["add", "mul"] if self.seasonal else [])
        out = []
        for e in errors:
            for t, d in ((None, False), ("add", False), ("add", True)):
                for s in seas:
                    if s == "mul" and (e == "add" or not self.positive):
                        continue  # A,*,M is numerically unstable (Hyndman et al. 2008)
                    out.append((e, t, d, s))
        return out

    def _model(self, y, spec):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        e, t, d, s = spec
        return ETSModel(
            pd.Series(y),
            error=e,
            trend=t,
            damped_trend=d,
            seasonal=s,
            seasonal_periods=self.m if s else None,
            initialization_method="heuristic",
        )

    def _score(self, y, spec):
        """AICc and parameters of one form (no results object: it costs a numerical Hessian)."""
        from statsmodels.tools.eval_measures import aicc

        try:
            mod = self._model(y, spec)
            params = mod.fit(disp=False, maxiter=self.maxiter, return_params=True)
            value = float(aicc(mod.loglike(params), len(y), mod.k_params + 1))
        except Exception:  # an inadmissible form on this series: skip it
            return None
        return (value, params) if np.isfinite(value) else None

    def fit(self, y):
        """Stepwise search over :meth:`candidates` (about half of the forms, same winner mostly).

        1. one error type (multiplicative for positive data), trend none/additive, every admissible
           seasonal form; 2. the damped version of the winner if it has a trend; 3. the other error
           type with the winner's trend and season. Lowest AICc over every fitted form wins.
        """
        cands = self.candidates()
        rank = {c: j for j, c in enumerate(cands)}
        fitted = {}

        def run(specs):
            for spec in specs:
                if spec in rank and spec not in fitted:
                    fitted[spec] = self._score(y, spec)

        def best():
            ok = [(v[0], rank[c], c) for c, v in fitted.items() if v is not None]
            return min(ok)[2] if ok else None

        e0 = "mul" if self.positive else "add"
        run([c for c in cands if c[0] == e0 and not c[2]])
        if best() is None:
            run(cands)
        b = best()
        if b is not None and b[1] == "add":
            run([(e0, "add", True, b[3])])
        b = best()
        if b is not None:
            run([(e, b[1], b[2], b[3]) for e in ("add", "mul") if e != e0])
        b = best()
        if b is None:
            raise RuntimeError("no ETS form could be fitted")
        self.spec_t = b
        self.res = self._model(y, b).smooth(fitted[b][1])
        return self._after(y)

    def refit(self, y):
        self.res = self._model(y, self.spec_t).fit(disp=False, maxiter=self.maxiter, start_params=self.res.params.to_numpy())
        return self._after(y)

    def update(self, y):
        self.res = self._model(y, self.spec_t).smooth(self.res.params.to_numpy())
        return self._after(y)

    def _after(self, y):
        self.y = y
        self.resid = y - np.asarray(self.res.fittedvalues, dtype=float)
        e, t, d, s = self.spec_t
        self.spec = "ETS({},{},{})".format(
            e[0].upper(), "N" if t is None else ("Ad" if d else "A"), "N" if s is None else s[0].upper()
        )
        return self

    def forecast(self, h, levels):
        n = len(self.y)
        pred = self.res.get_prediction(start=n, end=n + h - 1, simulate_repetitions=self.reps, **_simulation_seed(self.seed))
        mean = np.asarray(pred.predicted_mean, dtype=float)
        bands = {}
        for lv in levels:
            fr = pred.summary_frame(alpha=1 - lv / 100.0)
            bands[lv] = (fr["pi_lower"].to_numpy(float), fr["pi_upper"].to_numpy(float))
        return mean, bands


class ArimaForecaster:
    """SARIMA with d and D from tests and a small AICc grid over (p, q)(P, Q).

    The ARMA part is fitted to the differenced series (simple differencing: small state, fast) by
    conditional sum of squares (CSS; the order search and the estimate), then run once through
    the exact Kalman filter for forecasts and residuals; forecasts and their variances are
    integrated back with the psi weights of the full model.
    """

    name = "arima"

    def __init__(self, m, seasonal, maxiter, strength=None):
        self.m, self.seasonal, self.maxiter, self.strength = m, seasonal, maxiter, strength

    def _orders(self, y):
        from statsmodels.tsa.stattools import kpss

        D = 0
        if self.seasonal and len(y) >= 3 * self.m:
            st = self.strength if self.strength is not None else seasonal_strength(y, self.m)
            D = int(st > STRONG_SEASON)
        w = y[self.m :] - y[: -self.m] if D else y
        d = 0
        for _ in range(2):
            if len(w) < 8 or np.std(w) == 0:
                break
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = kpss(w, regression="c", nlags="auto")[1]
            if p >= 0.05:
                break
            d += 1
            w = np.diff(w)
        return d, D

    def _delta(self):
        poly = np.array([1.0])
        for _ in range(self.d):
            poly = np.convolve(poly, [1.0, -1.0])
        if self.D:
            sp = np.zeros(self.m + 1)
            sp[0], sp[-1] = 1.0, -1.0
            poly = np.convolve(poly, sp)
        return poly

    def _diff(self, y):
        k = len(self.delta) - 1
        return np.convolve(y, self.delta, mode="valid") if k else y.copy()

    # hooks for regression with ARIMA errors (marksell.forecasting.regression): the base model
    # has no exogenous columns and works on the data's own scale
    def _scale(self, y):
        """The series the ARIMA part models (identity here; log for the regression model)."""
        return y

    def _xd(self, n):
        """Differenced exogenous columns for the first ``n`` periods (None: no regressors)."""
        return None

    def _xd_future(self, n, h):
        return None

    def _order_input(self, z):
        """The series whose unit roots set d and D (regression: the residual of a first OLS)."""
        return z

    def _model(self, w, order, xd=None):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        p, q, P, Q = order
        trend = "c" if self.d + self.D <= 1 else "n"
        return SARIMAX(
            w, exog=xd, order=(p, 0, q), seasonal_order=(P, 0, Q, self.m if (P or Q) else 0), trend=trend, concentrate_scale=True
        )

    def fit(self, y):
        z = self._scale(y)
        self.d, self.D = self._orders(self._order_input(z))
        self.delta = self._delta()
        w, xd = self._diff(z), self._xd(len(y))
        if self.seasonal and len(w) >= 2 * self.m + 4:
            grid = [(0, 1, 0, 1), (1, 0, 0, 1), (1, 0, 1, 0)]
        else:
            grid = [(1, 0, 0, 0), (0, 1, 0, 0), (1, 1, 0, 0), (2, 0, 0, 0), (0, 0, 0, 0)]
        # order search and estimation by conditional sum of squares (auto.arima's cheap
        # "approximation"; an exact-likelihood optimisation costs ~10x more for the same forecasts),
        # then one Kalman filter pass with those parameters for forecasts and residuals
        self.trend = self.d + self.D <= 1
        self.n_cond = max(o[0] + o[2] * self.m for o in grid)
        ranked = sorted(
            (
                (score, j, order, start)
                for j, order in enumerate(grid)
                for score, start in [_css_arma(w, order, self.m, self.trend, self.n_cond, self.maxiter, xd)]
                if np.isfinite(score)
            ),
            key=lambda t: t[:2],
        )
        for _, _, order, start in ranked:
            try:
                res = self._model(w, order, xd).smooth(start)
            except Exception:
                continue
            if np.isfinite(res.llf):
                self.order, self.res = order, res
                return self._after(y)
        raise RuntimeError("no ARIMA order could be fitted")

    def refit(self, y):
        w, xd = self._diff(self._scale(y)), self._xd(len(y))
        score, start = _css_arma(w, self.order, self.m, self.trend, self.n_cond, self.maxiter, xd)
        if np.isfinite(score):
            self.res = self._model(w, self.order, xd).smooth(start)
        else:  # keep the parameters of the first origin
            self.res = self.res.apply(w, exog=xd)
        return self._after(y)

    def update(self, y):
        self.res = self.res.apply(self._diff(self._scale(y)), exog=self._xd(len(y)))
        return self._after(y)

    def _after(self, y):
        self.y = y
        k = len(self.delta) - 1
        r = np.full(len(y), np.nan)
        r[k:] = np.asarray(self.res.resid, dtype=float)
        r[: k + max(self.order[0], self.order[2] * self.m, 1)] = np.nan  # burn-in of the filter
        self.resid = r
        p, q, P, Q = self.order
        self.spec = f"ARIMA({p},{self.d},{q})" + (f"({P},{self.D},{Q})[{self.m}]" if (P or Q or self.D) else "")
        return self

    def _forecast_scaled(self, h, levels):
        """Forecast mean and bands of the modelled series (:meth:`_scale`)."""
        from statsmodels.tsa.arima_process import arma2ma

        z = self._scale(self.y)
        n = len(z)
        fc = self.res.get_forecast(h, exog=self._xd_future(n, h))
        fw = np.asarray(fc.predicted_mean, dtype=float)
        k = len(self.delta) - 1
        ext = np.concatenate([z, np.zeros(h)])
        for t in range(n, n + h):
            ext[t] = fw[t - n] - (np.dot(self.delta[1:], ext[t - k : t][::-1]) if k else 0.0)
        mean = ext[n:]
        ar = np.convolve(np.convolve(self.res.polynomial_ar, self.res.polynomial_seasonal_ar), self.delta)
        ma = np.convolve(self.res.polynomial_ma, self.res.polynomial_seasonal_ma)
        psi = arma2ma(ar, ma, lags=h)
        # the filter's one-step variance exceeds sigma^2 while an MA part has not converged
        # (short series, MA roots near 1): scale every horizon by that finite-sample factor
        v1 = float(np.asarray(fc.var_pred_mean)[0])
        infl = max(1.0, v1 / float(self.res.scale)) if self.res.scale > 0 else 1.0
        sd = np.sqrt(float(self.res.scale) * infl * np.cumsum(psi**2))
        return mean, {lv: (mean - z_ * sd, mean + z_ * sd) for lv, z_ in _z(levels).items()}

    def forecast(self, h, levels):
        return self._forecast_scaled(h, levels)


class ThetaForecaster:
    """statsmodels ThetaModel point forecasts (deseasonalised when long enough and seasonal).

    Intervals use the Theta method's ARIMA(0,1,1)-with-drift equivalence, variance
    sigma^2 (1 + (h-1) alpha^2), with sigma^2 from the one-step SES residuals on the deseasonalised
    series (statsmodels refits an ARIMA for sigma^2 on every call and uses (1 + (alpha-1)^2), which
    gives much too wide intervals when alpha is small).
    """

    name = "theta"

    def __init__(self, m, seasonal, positive):
        self.m, self.seasonal, self.positive = m, seasonal, positive

    def fit(self, y):
        from statsmodels.tsa.forecasting.theta import ThetaModel, ThetaModelResults

        self.y = y
        self.mod = ThetaModel(
            y, period=max(self.m, 1), deseasonalize=self.seasonal, method="auto" if self.positive else "additive"
        )
        # ThetaModel.fit's two-step estimate (OLS drift + SES alpha), with the SES alpha found by a
        # grid + bounded search on the sum of squares (statsmodels runs a state-space optimiser:
        # ~10x slower, and it can stop at a local optimum of this multimodal function)
        if self.mod._deseasonalize and self.mod._use_test:
            self.mod._test_seasonality()
        x, seasonal = self.mod._deseasonalize_data()
        x = np.asarray(x, dtype=float)
        tt = np.arange(len(x), dtype=float)
        b0 = float(np.linalg.lstsq(np.column_stack([np.ones(len(x)), tt]), x, rcond=None)[0][1])
        alpha = _ses_alpha(x)
        self.res = ThetaModelResults(b0, alpha, None, _ses(x, alpha)[1], seasonal, False, self.mod)
        self.mult = bool(self.mod._has_seasonality and str(self.mod.method).startswith("mul"))
        self.factor = (y / x) if self.mult else np.ones(len(y))
        level, e = x[0], np.full(len(x), np.nan)
        for t in range(1, len(x)):
            e[t] = x[t] - level
            level += alpha * e[t]
        self.sigma = float(np.sqrt(np.nanmean(e[1:] ** 2))) if len(x) > 1 else 0.0
        self.alpha = alpha
        self.resid = e * self.factor
        # deseasonalised: the first season and a period are start-up; else only the first error is missing
        self.resid[: min(len(y), (self.m if self.seasonal else 0) + 1)] = np.nan
        self.spec = "Theta" + (" (deseasonalised)" if self.seasonal else "")
        return self

    update = refit = fit

    def forecast(self, h, levels):
        mean = np.asarray(self.res.forecast(h), dtype=float)
        n, j = len(self.y), np.arange(h)
        fac = self.factor[n - self.m + (j % self.m)] if self.mult else 1.0
        sd = self.sigma * np.sqrt(1 + j * self.alpha**2) * fac
        return mean, {lv: (mean - z * sd, mean + z * sd) for lv, z in _z(levels).items()}


def _ses(x: np.ndarray, alpha: float) -> tuple[float, float]:
    """Simple exponential smoothing from level x[0]: (sum of squared one-step errors, last level)."""
    from scipy.signal import lfilter

    if len(x) < 2:
        return 0.0, float(x[-1])
    lev = lfilter([alpha], [1.0, alpha - 1.0], x[1:], zi=[(1 - alpha) * x[0]])[0]
    e = x[1:] - np.r_[x[0], lev[:-1]]
    return float(e @ e), float(lev[-1])


def _ses_alpha(x: np.ndarray) -> float:
    """Least-squares SES smoothing weight in [1e-4, 0.9999]: coarse grid, then bounded refinement."""
    from scipy.optimize import minimize_scalar

    grid = np.r_[1e-4, 0.02, np.arange(0.05, 0.951, 0.05), 0.9999]
    sse = [_ses(x, a)[0] for a in grid]
    j = int(np.argmin(sse))
    lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    r = minimize_scalar(lambda a: _ses(x, a)[0], bounds=(lo, hi), method="bounded", options={"xatol": 1e-7})
    return float(r.x) if r.fun <= sse[j] else float(grid[j])


def _css_arma(
    w: np.ndarray, order, m: int, trend: bool, n_cond: int, maxiter: int = 50, X: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Conditional-sum-of-squares fit of a multiplicative ARMA(p, q)(P, Q)[m] to ``w``.

    With ``X`` (one row per element of ``w``) the model is a regression on the columns of ``X``
    with ARMA errors; the coefficients are estimated jointly with the ARMA part, from OLS starts.
    Returns ``(AICc, start_params)``; AICc uses the same ``n_cond`` conditioning periods for every
    order so that orders are comparable; start_params are in SARIMAX order (intercept, exogenous
    coefficients, AR, MA, seasonal AR, seasonal MA; scale concentrated out). ``(inf, None)`` when
    it cannot be fitted.
    """
    from scipy.optimize import least_squares
    from scipy.signal import lfilter

    p, q, P, Q = order
    kx = 0 if X is None else X.shape[1]
    if kx:
        A = np.column_stack([np.ones(len(w)), X]) if trend else X
        coef = np.linalg.lstsq(A, w, rcond=None)[0]
        mu, beta0 = (float(coef[0]), coef[1:]) if trend else (0.0, coef)
    else:
        mu, beta0 = (float(np.mean(w)) if trend else 0.0), np.zeros(0)
    k = p + q + P + Q
    n_eff = len(w) - n_cond

    def polys(b):
        ar = np.r_[1.0, -b[:p]]
        ma = np.r_[1.0, b[p : p + q]]
        if P:
            sar = np.zeros(m + 1)
            sar[0], sar[m] = 1.0, -b[p + q]
            ar = np.convolve(ar, sar)
        if Q:
            sma = np.zeros(m + 1)
            sma[0], sma[m] = 1.0, b[p + q + P]
            ma = np.convolve(ma, sma)
        return ar, ma

    def resid(b, beta):
        ar, ma = polys(b)
        x = w - mu - (X @ beta if kx else 0.0)
        return lfilter(ar, ma, x)[n_cond:]

    if n_eff <= k + kx + 3:
        return np.inf, None
    beta = beta0
    if k:  # coefficients kept in (-0.98, 0.98) (stationary, invertible) by a tanh map
        try:
            u = least_squares(
                lambda u: resid(0.98 * np.tanh(u[:k]), u[k:]),
                np.r_[np.full(k, 0.1), beta0],
                method="lm",
                max_nfev=max(1, maxiter) * (k + kx + 1),
            ).x
        except Exception:
            return np.inf, None
        b, beta = 0.98 * np.tanh(u[:k]), u[k:]
    else:
        b = np.zeros(0)
    sse = float(np.sum(resid(b, beta) ** 2))
    if not np.isfinite(sse) or sse <= 0:
        return np.inf, None
    n_par = k + kx + int(trend) + 1
    aicc = n_eff * np.log(sse / n_eff) + 2 * n_par + 2 * n_par * (n_par + 1) / max(n_eff - n_par - 1, 1)
    start = np.r_[[mu * np.sum(polys(b)[0])] if trend else [], beta, b]
    return float(aicc), start


def seasonal_strength(y: np.ndarray, m: int) -> float:
    """Strength of seasonality 1 - Var(R)/Var(S+R) from an STL decomposition (0..1)."""
    from statsmodels.tsa.seasonal import STL

    try:
        dec = STL(y, period=m, robust=False).fit()
    except Exception:
        return 0.0
    vr = np.var(dec.resid)
    vsr = np.var(dec.resid + dec.seasonal)
    return float(max(0.0, 1 - vr / vsr)) if vsr > 0 else 0.0

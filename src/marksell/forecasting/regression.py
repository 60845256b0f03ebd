"""Regression with ARIMA errors on exogenous columns (price, promotion, calendar events).

The "dynamic regression" of Hyndman & Athanasopoulos (FPP3, ch. 10): ``z_t = b'x_t + u_t`` with
``u_t`` a SARIMA process. ``z`` is ``log(sales)`` when every value is positive, so that each
coefficient reads as a percentage effect (``exp(b) - 1``: a promotion lifts sales by that share),
and the sales themselves otherwise. The orders come from the same procedure as the ``arima``
model, applied to the residual of a first OLS fit; the coefficients and the ARMA part are then
estimated together by conditional sums of squares on the differenced data (as R's ``Arima`` does
with regressors) and run once through the Kalman filter.

Forecasts need the future values of the columns: in the backtest these are the values that were
observed (the forecast is conditional on the plan, as it is when promotions and calendars are
known in advance). On the log scale the back-transformed forecast is the median.
"""

from __future__ import annotations

import numpy as np

from marksell.forecasting.models import ArimaForecaster

#: Differenced regressor columns with a spread below this are treated as constant and left out.
_CONSTANT = 1e-10


class RegressionArimaForecaster(ArimaForecaster):
    """``ArimaForecaster`` with exogenous columns ``X`` (rows: the history, then at least ``h`` future
    periods) and an optional log scale."""

    name = "regression"

    def __init__(self, m, seasonal, maxiter, X: np.ndarray, names, log: bool, strength=None):
        super().__init__(m, seasonal, maxiter, strength)
        self.X_all = np.asarray(X, dtype=float)
        self.names = list(names)
        self.log = bool(log)
        self.keep = None  # columns with variation after differencing, set at the first fit

    def _scale(self, y):
        return np.log(y) if self.log else y

    def _diff_x(self, X):
        """The regressors differenced like the series (column by column)."""
        return np.column_stack([self._diff(X[:, j]) for j in range(X.shape[1])])

    def _xd(self, n):
        d = self._diff_x(self.X_all[:n])
        if self.keep is None:
            self.keep = np.ptp(d, axis=0) > _CONSTANT if len(d) else np.zeros(d.shape[1], bool)
        return d[:, self.keep] if self.keep.any() else None

    def _xd_future(self, n, h):
        if not self.keep.any():
            return None
        k = len(self.delta) - 1
        return self._diff_x(self.X_all[n - k : n + h])[:, self.keep]

    def _order_input(self, z):
        X = self.X_all[: len(z)]
        A = np.column_stack([np.ones(len(z)), np.arange(len(z), dtype=float), X])
        coef = np.linalg.lstsq(A, z, rcond=None)[0]
        return z - A @ coef

    def fit(self, y):
        self.keep = None
        return super().fit(y)

    def _after(self, y):
        super()._after(y)
        if self.log:  # one-step errors on the sales scale, for MinT's covariance
            self.resid = y * (1 - np.exp(-self.resid))
        used = [n for n, k in zip(self.names, self.keep) if k]
        self.spec = (
            ("log " if self.log else "")
            + "regression on "
            + (", ".join(used) if used else "nothing (no variation)")
            + " with "
            + self.spec
            + " errors"
        )
        return self

    def coefficients(self) -> dict:
        """Estimate and standard error of each used column (log scale: a share; NaN when the
        standard error cannot be computed)."""
        params = np.asarray(self.res.params, dtype=float)
        start = int(self.trend)  # the intercept comes first when there is one
        try:
            bse = np.asarray(self.res.bse, dtype=float)
        except Exception:  # a singular numerical Hessian: no standard errors
            bse = np.full(len(params), np.nan)
        out, j = {}, start
        for name, k in zip(self.names, self.keep):
            if k:
                out[name] = (float(params[j]), float(bse[j]))
                j += 1
        return out

    def forecast(self, h, levels):
        mean, bands = self._forecast_scaled(h, levels)
        if not self.log:
            return mean, bands
        return np.exp(mean), {lv: (np.exp(lo), np.exp(hi)) for lv, (lo, hi) in bands.items()}

"""The marketing mix model: a scikit-learn-style estimator fitted by variable projection.

    outcome_t = intercept + trend + yearly (and weekly) Fourier terms + controls
                + sum_c effect_c * saturation_c(adstock_c(spend_c))_t + error_t,   effect_c >= 0

Why variable projection: for fixed carry-over and saturation parameters (the *nonlinear* part, two or three
per channel) the model is linear in everything else, and that linear part has an exact solution: the
baseline terms (intercept, trend, seasonality, controls) are projected out once by a QR decomposition
and the channel effects solved by non-negative least squares (scipy's NNLS). The nonlinear parameters are
then found by bounded nonlinear least squares (scipy's ``least_squares``) on the residual of that exact
linear fit. The search runs over 2-3 parameters a channel instead of all of them together, the effects
are never negative, and refits (bootstrap, holdout) start from the full fit's parameters. The start of the
first fit is the best few points of a scrambled Sobol sample of the parameter box (seeded), so the search
is deterministic and does not depend on a hand-picked start.

Spends are divided by each channel's mean spend and the outcome by its mean before fitting; parameters
are reported back in the data's units (half-saturation in spend per period, effects in outcome units).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize
from scipy.stats import qmc

from marksell.mmm import transforms as tf

#: Bounds of each nonlinear parameter (spend-scaled units: 1 = the channel's mean spend per period).
BOUNDS = {
    "decay": (0.0, 0.9),
    "lag_shape": (0.5, 6.0),
    "lag_scale": (0.5, None),  # upper bound: max_lag
    "half_saturation": (0.05, 10.0),  # optimised on the log scale
    "shape": (0.5, 3.0),
    "steepness": (0.05, 20.0),  # optimised on the log scale
}
LOG_SCALE = {"half_saturation", "steepness"}
#: Weak prior (centre, spread) of each parameter on the optimiser's scale: it keeps the search away from
#: curves the data cannot tell apart (e.g. a steep S-curve whose level the intercept absorbs) and matters
#: little where the data are informative. Half-saturation and steepness: centred on the mean spend.
PRIORS = {
    "decay": (0.3, 0.3),
    "lag_shape": (1.5, 1.5),
    "lag_scale": (2.0, 3.0),
    "half_saturation": (0.0, 1.0),
    "shape": (1.0, 0.5),
    "steepness": (0.0, 1.0),
}


class MarketingMixModel:
    """Additive marketing mix model with carry-over and saturation per channel.

    Parameters
    ----------
    adstock : ``geometric`` or ``weibull``.
    saturation : ``hill`` or ``logistic``.
    max_lag : periods over which one period's spend acts (carry-over window).
    seasons : ``(period length, harmonics)`` pairs for the Fourier terms, e.g. ``((52.18, 3),)`` for weekly.
    trend : include a linear trend.
    n_starts : Sobol points the first fit starts from (the best of ``16 * n_starts`` sampled points).
    seed : seeds the Sobol sample.
    """

    def __init__(
        self,
        adstock: str = "geometric",
        saturation: str = "hill",
        max_lag: int = 8,
        seasons: tuple = ((52.18, 3),),
        trend: bool = True,
        n_starts: int = 3,
        seed: int = 7,
    ):
        self.adstock = adstock
        self.saturation = saturation
        self.max_lag = max_lag
        self.seasons = seasons
        self.trend = trend
        self.n_starts = n_starts
        self.seed = seed

    def get_params(self) -> dict:
        """The constructor's parameters (to build an unfitted copy)."""
        return {
            "adstock": self.adstock,
            "saturation": self.saturation,
            "max_lag": self.max_lag,
            "seasons": self.seasons,
            "trend": self.trend,
            "n_starts": self.n_starts,
            "seed": self.seed,
        }

    # ------------------------------------------------------------------ parameters
    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the nonlinear parameters of one channel, adstock first."""
        return tf.ADSTOCK_PARAMS[self.adstock] + tf.SATURATION_PARAMS[self.saturation]

    def _bounds(self, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = [], []
        for name in self.param_names:
            a, b = BOUNDS[name]
            b = float(self.max_lag) if b is None else b
            if name in LOG_SCALE:
                a, b = np.log(a), np.log(b)
            lo.append(a)
            hi.append(b)
        return np.tile(lo, n_channels), np.tile(hi, n_channels)

    def prior_rows(self, n_channels: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """Prior centres and weights (residual scale over prior spread) for the optimiser vector."""
        centre = [PRIORS[name][0] for name in self.param_names]
        weight = [sigma / PRIORS[name][1] for name in self.param_names]
        return np.tile(centre, n_channels), np.tile(weight, n_channels)

    def _unpack(self, u: np.ndarray, n_channels: int) -> np.ndarray:
        """Optimiser vector -> ``(channels, k)`` natural parameters."""
        theta = np.array(u, float).reshape(n_channels, -1)
        for j, name in enumerate(self.param_names):
            if name in LOG_SCALE:
                theta[:, j] = np.exp(theta[:, j])
        return theta

    def _pack(self, theta: np.ndarray) -> np.ndarray:
        u = np.array(theta, float).copy()
        for j, name in enumerate(self.param_names):
            if name in LOG_SCALE:
                u[:, j] = np.log(u[:, j])
        return u.ravel()

    def _split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(tf.ADSTOCK_PARAMS[self.adstock])
        return theta[:, :k], theta[:, k:]

    # ------------------------------------------------------------------ design
    def baseline_design(self, t: np.ndarray, controls: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
        """Baseline regressors (intercept, trend, Fourier terms, standardised controls) and their names."""
        t = np.asarray(t, float)
        cols, names = [np.ones_like(t)], ["intercept"]
        if self.trend:
            cols.append(t / self.t_scale_)
            names.append("trend")
        for period, harmonics in self.seasons:
            for h in range(1, int(harmonics) + 1):
                arg = 2 * np.pi * h * t / period
                cols += [np.sin(arg), np.cos(arg)]
                names += [f"season_{period:g}_sin{h}", f"season_{period:g}_cos{h}"]
        if controls is not None and np.size(controls):
            z = (np.asarray(controls, float).reshape(len(t), -1) - self.control_mean_) / self.control_sd_
            cols += list(z.T)
            names += [f"control_{j}" for j in range(z.shape[1])]
        return np.column_stack(cols), names

    def features(self, spend: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
        """Saturated adstocked spend ``(n, channels)``, 0 to 1 (the share of each channel's largest effect)."""
        theta = self.theta_ if theta is None else theta
        lagged = tf.lag_matrix(np.asarray(spend, float) / self.spend_scale_, self.max_lag)
        return self._features_from_lagged(lagged, theta)

    def _features_from_lagged(self, lagged: np.ndarray, theta: np.ndarray) -> np.ndarray:
        ad, sat = self._split(theta)
        x = tf.adstock(lagged, tf.adstock_weights(self.adstock, ad, self.max_lag))
        return tf.saturate(self.saturation, x, sat)

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        spend: np.ndarray,
        y: np.ndarray,
        controls: np.ndarray | None = None,
        t: np.ndarray | None = None,
        calibration: list[dict] | None = None,
        theta0: np.ndarray | None = None,
        sigma: float | None = None,
    ) -> MarketingMixModel:
        """Fit on ``spend`` ``(n, channels)``, outcome ``y`` ``(n,)``, optional ``controls`` ``(n, k)``.

        ``t`` is the period index (default ``0..n-1``; give it for refits on part of the data).
        ``calibration`` holds lift tests ``{"channel": index, "mask": bool (n,), "lift": outcome,
        "se": standard error}``: each adds the row "the channel's contribution over the masked periods
        equals the measured lift", weighted by the residual scale over the lift's standard error.
        ``theta0`` (natural parameters ``(channels, k)``) warm-starts the search instead of the Sobol sample.

        The prior's weight is the residual scale over the prior's spread: first from a linear fit, then
        (one more warm-started solve) from this model's own residuals, so the prior matters less the less
        noisy the data are. ``sigma`` (outcome-scaled residual scale, e.g. ``sigma_`` of a full fit) fixes
        it instead, which refits of the same data use.
        """
        spend = np.asarray(spend, float)
        y = np.asarray(y, float)
        n, n_channels = spend.shape
        t = np.arange(n, dtype=float) if t is None else np.asarray(t, float)
        self._set_scales(spend, y, controls, t)
        base, self.baseline_names_ = self.baseline_design(t, controls)
        problem = _Projected(base, y / self.y_scale_, tf.lag_matrix(spend / self.spend_scale_, self.max_lag), self, sigma)
        lo, hi = self._bounds(n_channels)
        starts = [np.clip(self._pack(theta0), lo, hi)] if theta0 is not None else self._sobol_starts(problem, lo, hi, n_channels)
        best = None
        for u0 in starts:
            sol = problem.solve(u0, lo, hi)
            if best is None or sol.cost < best.cost:
                best = sol
        if sigma is None:
            sigma = problem.data_sigma(best.x)
            problem.set_prior_weight(sigma)
            best = problem.solve(best.x, lo, hi)
        if calibration:
            problem.calibrate(calibration, sigma, self.y_scale_)
            best = problem.solve(best.x, lo, hi)
        self.sigma_ = float(sigma)
        self._store(problem, best, n_channels)
        return self

    def _set_scales(self, spend, y, controls, t) -> None:
        self.spend_scale_ = np.where(spend.mean(axis=0) > 0, spend.mean(axis=0), 1.0)
        self.y_scale_ = float(np.mean(np.abs(y))) or 1.0
        self.t_scale_ = float(max(len(t), 1))
        if controls is not None and np.size(controls):
            c = np.asarray(controls, float).reshape(len(t), -1)
            self.control_mean_ = c.mean(axis=0)
            sd = c.std(axis=0)
            self.control_sd_ = np.where(sd > 0, sd, 1.0)
        else:
            self.control_mean_ = self.control_sd_ = np.zeros(0)

    def _sobol_starts(self, problem, lo, hi, n_channels) -> list[np.ndarray]:
        m = int(np.ceil(np.log2(16 * max(self.n_starts, 1))))
        sample = qmc.Sobol(len(lo), scramble=True, seed=self.seed).random_base2(m)
        points = lo + sample * (hi - lo)
        costs = [problem.cost(p) for p in points]
        return [points[i] for i in np.argsort(costs, kind="stable")[: max(self.n_starts, 1)]]

    def _store(self, problem, sol, n_channels) -> None:
        self.theta_ = self._unpack(sol.x, n_channels)
        feats = self._features_from_lagged(problem.lagged, self.theta_)
        beta, gamma = problem.linear(feats)
        self.coef_ = beta * self.y_scale_
        self.baseline_coef_ = gamma * self.y_scale_
        self.fitted_ = (problem.base @ gamma + feats @ beta) * self.y_scale_
        self.resid_ = problem.y * self.y_scale_ - self.fitted_
        self.n_obs_ = len(problem.y)
        self.cost_ = float(sol.cost)
        self.nfev_ = int(sol.nfev)

    # ------------------------------------------------------------------ using the fit
    def _check_fitted(self) -> None:
        if not hasattr(self, "theta_"):
            raise RuntimeError(
                "This MarketingMixModel instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def contributions(self, spend: np.ndarray) -> np.ndarray:
        """Outcome caused by each channel in each period ``(n, channels)`` (the spend's own history)."""
        self._check_fitted()
        return self.features(spend) * self.coef_

    def baseline_components(self, t: np.ndarray, controls: np.ndarray | None = None) -> np.ndarray:
        """Each baseline regressor times its coefficient ``(n, baseline terms)``."""
        self._check_fitted()
        base, _ = self.baseline_design(t, controls)
        return base * self.baseline_coef_

    def predict(self, spend: np.ndarray, t: np.ndarray, controls: np.ndarray | None = None) -> np.ndarray:
        """Expected outcome for the periods ``t`` with the given spends (and controls)."""
        return self.baseline_components(t, controls).sum(axis=1) + self.contributions(spend).sum(axis=1)

    def response(self, spend_level: np.ndarray) -> np.ndarray:
        """Long-run outcome per period from a steady spend per period (rows: levels, columns: channels)."""
        self._check_fitted()
        x = np.atleast_2d(np.asarray(spend_level, float)) / self.spend_scale_
        return tf.saturate(self.saturation, x, self._split(self.theta_)[1]) * self.coef_

    def marginal(self, spend_level: np.ndarray) -> np.ndarray:
        """Marginal long-run return: extra outcome per extra unit of steady spend, at ``spend_level``."""
        self._check_fitted()
        x = np.atleast_2d(np.asarray(spend_level, float)) / self.spend_scale_
        slope = tf.saturation_slope(self.saturation, x, self._split(self.theta_)[1])
        return slope * self.coef_ / self.spend_scale_

    def carryover(self) -> np.ndarray:
        """Share of a period's spend effect that falls in each later period ``(max_lag, channels)``."""
        self._check_fitted()
        return tf.adstock_weights(self.adstock, self._split(self.theta_)[0], self.max_lag)

    def hyperparameters(self) -> list[dict]:
        """Per channel: the nonlinear parameters in the data's units and the fitted effect."""
        self._check_fitted()
        ad, sat = self._split(self.theta_)
        half = tf.half_saturation(self.saturation, sat) * self.spend_scale_
        out = []
        for c in range(self.theta_.shape[0]):
            row = dict(zip(tf.ADSTOCK_PARAMS[self.adstock], ad[c].tolist()))
            row["half_saturation"] = float(half[c])
            if self.saturation == "hill":
                row["shape"] = float(sat[c, 1])
            row["effect"] = float(self.coef_[c])
            out.append(row)
        return out


class _Projected:
    """The fit's least-squares problem with the baseline projected out (variable projection).

    The Jacobian is Kaufman's (1975) approximation ``-P (dA/du) beta``: ``P`` projects onto the complement
    of the active columns (channels with a positive effect), and ``dA/du`` is cheap because each
    parameter moves only its own channel's column, so one finite-difference step per parameter *kind*
    (all channels at once) gives every column. A weak prior on the nonlinear parameters (see
    ``PRIORS``) adds one row per parameter.
    """

    def __init__(self, base: np.ndarray, y: np.ndarray, lagged: np.ndarray, model: MarketingMixModel, sigma: float | None = None):
        self.base, self.y, self.lagged, self.model = base, y, lagged, model
        self.q, _ = linalg.qr(base, mode="economic")
        self.y_perp = y - self.q @ (self.q.T @ y)
        self.extra_y = np.zeros(0)
        self.calib: list[tuple[int, np.ndarray, float]] = []
        self.n_channels = lagged.shape[2]
        self._cache: tuple | None = None
        self.set_prior_weight(self._linear_sigma() if sigma is None else sigma)

    def set_prior_weight(self, sigma: float) -> None:
        self.prior_mean, self.prior_weight = self.model.prior_rows(self.n_channels, sigma)

    def data_sigma(self, u: np.ndarray) -> float:
        """Residual scale of the data rows at ``u`` (degrees of freedom: baseline and effects)."""
        _, _, a, b, beta = self._evaluate(u)
        r = (b - a @ beta)[: len(self.y)]
        return float(np.sqrt(r @ r / max(len(r) - self.base.shape[1] - self.n_channels, 1)))

    def _linear_sigma(self) -> float:
        """Residual scale of a linear fit (baseline + adstock-free spend): scales the prior's weight."""
        x = np.column_stack([self.base, self.lagged[:, 0, :]])
        coef, *_ = np.linalg.lstsq(x, self.y, rcond=None)
        r = self.y - x @ coef
        return float(np.sqrt(r @ r / max(len(r) - x.shape[1], 1)))

    def calibrate(self, tests: list[dict], sigma: float, y_scale: float) -> None:
        """Add one weighted row per lift test (see :meth:`MarketingMixModel.fit`)."""
        self.calib = [(int(s["channel"]), np.asarray(s["mask"], bool), sigma / (float(s["se"]) / y_scale)) for s in tests]
        self.extra_y = np.array([float(s["lift"]) / y_scale * w for s, (_, _, w) in zip(tests, self.calib)])
        self._cache = None

    def _extra_rows(self, feats: np.ndarray) -> np.ndarray:
        rows = np.zeros((len(self.calib), feats.shape[1]))
        for i, (c, mask, w) in enumerate(self.calib):
            rows[i, c] = feats[mask, c].sum() * w
        return rows

    def _matrix(self, feats: np.ndarray) -> np.ndarray:
        return np.vstack([feats - self.q @ (self.q.T @ feats), self._extra_rows(feats)])

    def _evaluate(self, u: np.ndarray) -> tuple:
        if self._cache is not None and np.array_equal(self._cache[0], u):
            return self._cache
        feats = self.model._features_from_lagged(self.lagged, self.model._unpack(u, self.n_channels))
        a = self._matrix(feats)
        b = np.concatenate([self.y_perp, self.extra_y])
        beta, _ = optimize.nnls(a, b)
        self._cache = (np.array(u, copy=True), feats, a, b, beta)
        return self._cache

    def residual(self, u: np.ndarray) -> np.ndarray:
        _, _, a, b, beta = self._evaluate(u)
        return np.concatenate([b - a @ beta, self.prior_weight * (u - self.prior_mean)])

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        _, feats, a, _, beta = self._evaluate(u)
        k = len(u) // self.n_channels
        jac = np.zeros((a.shape[0], len(u)))
        for j in range(k):
            h = 1e-6 * max(1.0, float(np.abs(u[j::k]).max()))
            step = np.array(u, float)
            step[j::k] += h
            d_feats = (self.model._features_from_lagged(self.lagged, self.model._unpack(step, self.n_channels)) - feats) / h
            jac[:, j::k] = -self._matrix(d_feats) * beta
        active = beta > 0
        if active.any():
            qa, _ = linalg.qr(a[:, active], mode="economic")
            jac -= qa @ (qa.T @ jac)
        return np.vstack([jac, np.diag(self.prior_weight)])

    def cost(self, u: np.ndarray) -> float:
        r = self.residual(u)
        return 0.5 * float(r @ r)

    def linear(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Channel effects (NNLS) and baseline coefficients for given features."""
        beta, _ = optimize.nnls(self._matrix(feats), np.concatenate([self.y_perp, self.extra_y]))
        gamma, *_ = np.linalg.lstsq(self.base, self.y - feats @ beta, rcond=None)
        return beta, gamma

    def solve(self, u0, lo, hi):
        return optimize.least_squares(self.residual, u0, jac=self.jacobian, bounds=(lo, hi), method="trf", max_nfev=40 * len(u0))

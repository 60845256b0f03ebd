"""Carry-over (adstock) and saturation transforms, vectorised over channels.

Adstock spreads each period's spend over that period and the next ``max_lag - 1`` periods with weights
that sum to one (so adstocked spend stays in spend units and the long-run total is unchanged):

- ``geometric``: weight ``decay ** lag`` (the effect is largest at once and fades by ``decay`` a period);
- ``weibull``: the Weibull density at ``lag + 1`` (``shape > 1`` delays the peak, as for TV or print).

Saturation turns adstocked spend ``x`` into a share of the channel's largest possible effect:

- ``hill``: ``x**shape / (x**shape + half**shape)``: half the effect at ``half``; ``shape > 1`` is S-shaped;
- ``logistic``: ``tanh(lam * x / 2)``: concave from the first euro, half the effect at ``log(3) / lam``.

Spends before the first period are taken to equal the first period's (no artificial ramp-up at the start).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

ADSTOCKS = ("geometric", "weibull")
SATURATIONS = ("hill", "logistic")
#: Names of each transform's parameters, in the order the model stores them.
ADSTOCK_PARAMS = {"geometric": ("decay",), "weibull": ("lag_shape", "lag_scale")}
SATURATION_PARAMS = {"hill": ("half_saturation", "shape"), "logistic": ("steepness",)}


def lag_matrix(spend: np.ndarray, max_lag: int) -> np.ndarray:
    """Array ``(n, max_lag, channels)`` with ``spend[t - lag]`` (the first row repeated before the start)."""
    spend = np.asarray(spend, float)
    if spend.ndim == 1:
        spend = spend[:, None]
    padded = np.vstack([np.repeat(spend[:1], max_lag - 1, axis=0), spend])
    n = len(spend)
    idx = np.arange(n)[:, None] + (max_lag - 1) - np.arange(max_lag)[None, :]
    return padded[idx]


def adstock_weights(kind: str, params: np.ndarray, max_lag: int) -> np.ndarray:
    """Carry-over weights ``(max_lag, channels)`` summing to one per channel.

    ``params`` is ``(channels, k)``: ``[decay]`` for geometric, ``[shape, scale]`` for Weibull.
    """
    params = np.atleast_2d(np.asarray(params, float))
    lags = np.arange(max_lag, dtype=float)[:, None]
    if kind == "geometric":
        w = params[:, 0][None, :] ** lags
    elif kind == "weibull":
        w = stats.weibull_min.pdf(lags + 1.0, params[:, 0][None, :], scale=params[:, 1][None, :])
        w = np.where(np.isfinite(w), w, 0.0)
        w[0] = np.maximum(w[0], 1e-12)  # never an all-zero kernel
    else:
        raise ValueError(f"adstock must be one of {ADSTOCKS}, got {kind!r}")
    return w / w.sum(axis=0, keepdims=True)


def adstock(lagged: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Adstocked spend ``(n, channels)`` from :func:`lag_matrix` output and :func:`adstock_weights`."""
    return np.einsum("tlc,lc->tc", lagged, weights)


def saturate(kind: str, x: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Share of the largest effect (0 to 1) at adstocked spend ``x`` ``(n, channels)``.

    ``params`` is ``(channels, k)``: ``[half_saturation, shape]`` for Hill, ``[steepness]`` for logistic.
    """
    params = np.atleast_2d(np.asarray(params, float))
    x = np.maximum(np.asarray(x, float), 0.0)
    if kind == "hill":
        half, shape = params[:, 0], params[:, 1]
        ratio = np.power(x / half, shape)
        return ratio / (1.0 + ratio)
    if kind == "logistic":
        return np.tanh(params[:, 0] * x / 2.0)
    raise ValueError(f"saturation must be one of {SATURATIONS}, got {kind!r}")


def saturation_slope(kind: str, x: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Derivative of :func:`saturate` with respect to ``x`` (for marginal returns)."""
    params = np.atleast_2d(np.asarray(params, float))
    x = np.maximum(np.asarray(x, float), 1e-12)
    if kind == "hill":
        half, shape = params[:, 0], params[:, 1]
        ratio = np.power(x / half, shape)
        return shape * ratio / (x * (1.0 + ratio) ** 2)
    if kind == "logistic":
        lam = params[:, 0]
        return lam / 2.0 / np.cosh(lam * x / 2.0) ** 2
    raise ValueError(f"saturation must be one of {SATURATIONS}, got {kind!r}")


def half_saturation(kind: str, params: np.ndarray) -> np.ndarray:
    """Adstocked spend at which each channel reaches half its largest effect."""
    params = np.atleast_2d(np.asarray(params, float))
    if kind == "hill":
        return params[:, 0]
    return np.log(3.0) / params[:, 0]

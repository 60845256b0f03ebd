"""Moving-block bootstrap of a marketing mix fit: intervals for every reported quantity.

Each draw adds to the fitted outcome the fit's residuals resampled in overlapping blocks of consecutive
periods (so errors that persist for a few periods keep doing so) and refits the whole model, carry-over and
saturation included, starting from the full fit's parameters (a warm start: the refit only has to move as
far as the resampled noise pushes it). Block starts come from one seeded generator drawn up front, and the
refits use one BLAS thread, so the draws are identical run after run.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from marksell.mmm.model import MarketingMixModel


def block_length(n: int) -> int:
    """Block length: about twice the cube root of the number of periods (at least 3)."""
    return max(3, int(round(2 * n ** (1 / 3))))


def resampled_residuals(resid: np.ndarray, n_draws: int, seed: int, block: int | None = None) -> np.ndarray:
    """``(n_draws, n)`` residual series built from randomly placed blocks of the centred residuals."""
    resid = np.asarray(resid, float) - np.mean(resid)
    n = len(resid)
    b = min(block or block_length(n), n)
    per_draw = int(np.ceil(n / b))
    starts = np.random.default_rng(seed).integers(0, n - b + 1, size=(n_draws, per_draw))
    idx = (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(n_draws, -1)[:, :n]
    return resid[idx]


def bootstrap_fits(
    model: MarketingMixModel,
    spend: np.ndarray,
    controls: np.ndarray | None,
    t: np.ndarray,
    n_draws: int,
    seed: int,
    calibration: list[dict] | None = None,
    block: int | None = None,
) -> list[MarketingMixModel]:
    """``n_draws`` refits of ``model`` on resampled outcomes (warm-started, one BLAS thread)."""
    if n_draws <= 0:
        return []
    errors = resampled_residuals(model.resid_, n_draws, seed, block)
    fits = []
    with threadpool_limits(1):
        for e in errors:
            refit = MarketingMixModel(**model.get_params())
            fits.append(
                refit.fit(
                    spend, model.fitted_ + e, controls, t=t, calibration=calibration, theta0=model.theta_, sigma=model.sigma_
                )
            )
    return fits

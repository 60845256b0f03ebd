"""Fit the marketing mix: identification guard, holdout check, full fit, calibration, bootstrap draws."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from marksell.errors import AnalysisError, ParameterError
from marksell.mmm import diagnostics
from marksell.mmm.bootstrap import block_length, bootstrap_fits
from marksell.mmm.calibration import calibration_rows
from marksell.mmm.model import MarketingMixModel
from marksell.mmm.series import MixSeries
from marksell.mmm.transforms import ADSTOCKS, SATURATIONS


@dataclass
class MixFit:
    """Everything a marketing mix run learned; tables come from :mod:`marksell.mmm.summary`."""

    series: MixSeries
    identification: pd.DataFrame
    modelled: list[int]
    model: MarketingMixModel
    holdout_model: MarketingMixModel | None
    accuracy: dict
    residuals: dict
    draws: list[MarketingMixModel]
    interval: float
    settings: dict
    calibration: list[dict] = field(default_factory=list)
    uncalibrated: MarketingMixModel | None = None

    @property
    def spend(self) -> np.ndarray:
        """Spend of the modelled channels ``(n, modelled)``."""
        return self.series.spend[:, self.modelled]

    @property
    def channels(self) -> list[str]:
        """Names of the modelled channels."""
        return [self.series.channels[i] for i in self.modelled]

    @property
    def today(self) -> np.ndarray:
        """Today's spend per period of the modelled channels."""
        return self.series.today_spend[self.modelled]

    def t(self) -> np.ndarray:
        return np.arange(len(self.series.y), dtype=float)


def fit_mix(
    series: MixSeries,
    adstock: str = "geometric",
    saturation: str = "hill",
    max_lag: int = 8,
    n_bootstrap: int = 200,
    seed: int = 7,
    calibration: pd.DataFrame | None = None,
    interval: float = 0.9,
    calibration_source: str = "",
) -> MixFit:
    """Fit the model on ``series`` and bootstrap it (``n_bootstrap`` refits).

    Channels whose spend barely varies are left out of the model (their effect is part of the base);
    channels in lockstep with another stay in (so the others are not biased) but get no ROAS.
    ``calibration`` is a table of lift tests (see :mod:`marksell.mmm.calibration`).
    """
    _check_settings(adstock, saturation, max_lag, n_bootstrap, interval, series)
    ident = diagnostics.identification(series.spend, series.channels)
    modelled = [i for i in range(len(series.channels)) if not ident["constant"].iloc[i]]
    if not modelled:
        raise AnalysisError(
            "no channel's spend varies enough to measure an effect: "
            + "; ".join(f"{c}: {r}" for c, r in zip(ident["channel"], ident["reason"]))
        )
    spend, y, ctrl = series.spend[:, modelled], series.y, series.controls
    t = np.arange(len(y), dtype=float)
    params = {"adstock": adstock, "saturation": saturation, "max_lag": max_lag, "seasons": series.seasons, "seed": seed}
    rows = (
        calibration_rows(calibration, series, modelled, calibration_source)
        if calibration is not None and len(calibration)
        else []
    )
    with threadpool_limits(1):
        holdout_model, acc = _holdout(params, spend, y, ctrl, series.holdout)
        base = MarketingMixModel(**params).fit(spend, y, ctrl, t=t)
        model = MarketingMixModel(**params).fit(spend, y, ctrl, t=t, calibration=rows, theta0=base.theta_) if rows else base
    acc["fit"] = diagnostics.accuracy(y, model.fitted_)
    draws = bootstrap_fits(model, spend, ctrl, t, n_bootstrap, seed, calibration=rows)
    settings = {
        **params,
        "n_bootstrap": n_bootstrap,
        "block_length": block_length(len(y)),
        "holdout_periods": series.holdout,
        "recent_periods": series.recent,
        "seasons": series.seasons,
    }
    return MixFit(
        series=series,
        identification=ident,
        modelled=modelled,
        model=model,
        holdout_model=holdout_model,
        accuracy=acc,
        residuals=diagnostics.residual_checks(model.resid_),
        draws=draws,
        interval=interval,
        settings=settings,
        calibration=rows,
        uncalibrated=base if rows else None,
    )


def _holdout(params, spend, y, ctrl, h):
    """Fit on all but the last ``h`` periods, score on those (no information from them is used)."""
    if h <= 0:
        return None, {"holdout": None}
    n = len(y) - h
    t = np.arange(len(y), dtype=float)
    m = MarketingMixModel(**params).fit(spend[:n], y[:n], ctrl[:n] if ctrl.size else None, t=t[:n])
    pred = m.predict(spend, t, ctrl if ctrl.size else None)[n:]
    return m, {"holdout": diagnostics.accuracy(y[n:], pred)}


def _check_settings(adstock, saturation, max_lag, n_bootstrap, interval, series) -> None:
    if adstock not in ADSTOCKS:
        raise ParameterError(f"adstock must be one of {list(ADSTOCKS)}, got {adstock!r}")
    if saturation not in SATURATIONS:
        raise ParameterError(f"saturation must be one of {list(SATURATIONS)}, got {saturation!r}")
    if not 1 <= int(max_lag) <= len(series.y) // 4:
        raise ParameterError(f"max_lag must be between 1 and {len(series.y) // 4} periods, got {max_lag}")
    if n_bootstrap < 0:
        raise ParameterError(f"n_bootstrap must be >= 0, got {n_bootstrap}")
    if not 0 < interval < 1:
        raise ParameterError(f"interval must be between 0 and 1 (e.g. 0.9), got {interval}")

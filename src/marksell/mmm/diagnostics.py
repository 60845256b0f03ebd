"""Checks of a marketing mix fit: which channels can be measured at all, accuracy, residuals, spend overlap.

A channel is *not identified* when its spend barely varies (coefficient of variation below ``MIN_CV``:
its effect cannot be told apart from the base level) or moves in lockstep with another channel's
(correlation above ``MAX_CORR``: only their sum can be measured). Such channels get a reason instead of a
ROAS and keep today's spend in the budget allocation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_CV = 0.05
MAX_CORR = 0.95


def identification(spend: np.ndarray, channels: list[str]) -> pd.DataFrame:
    """Per channel: ``identified`` (bool), ``constant`` (bool: left out of the model) and ``reason``."""
    mean = spend.mean(axis=0)
    cv = np.where(mean > 0, spend.std(axis=0) / np.where(mean > 0, mean, 1.0), 0.0)
    constant = cv < MIN_CV
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(spend, rowvar=False) if spend.shape[1] > 1 else np.ones((1, 1))
    reasons = []
    for i, c in enumerate(channels):
        if constant[i]:
            reasons.append(
                f"spend barely varies (coefficient of variation {100 * cv[i]:.1f} %, below "
                f"{100 * MIN_CV:.0f} %): its effect cannot be told from the base level; vary its "
                "spend for some periods or run a lift test"
            )
            continue
        twins = [channels[j] for j in range(len(channels)) if j != i and not constant[j] and abs(corr[i, j]) > MAX_CORR]
        if twins:
            top = max(abs(corr[i, channels.index(t)]) for t in twins)
            reasons.append(
                f"spend moves in lockstep with {', '.join(twins)} (correlation {top:.2f}): only "
                "their joint effect can be measured; vary one without the other or run a lift test"
            )
        else:
            reasons.append("")
    return pd.DataFrame({"channel": channels, "identified": [r == "" for r in reasons], "constant": constant, "reason": reasons})


def accuracy(actual: np.ndarray, predicted: np.ndarray) -> dict:
    """MAPE (%; NaN when an actual is zero), NRMSE (RMSE over the actual range) and R²."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    err = actual - predicted
    rmse = float(np.sqrt(np.mean(err**2)))
    spread = float(actual.max() - actual.min())
    ss_tot = float(np.sum((actual - actual.mean()) ** 2))
    return {
        "mape": float(np.mean(np.abs(err / actual)) * 100) if np.all(actual != 0) else float("nan"),
        "nrmse": rmse / spread if spread > 0 else float("nan"),
        "r2": 1 - float(err @ err) / ss_tot if ss_tot > 0 else float("nan"),
        "n": int(len(actual)),
    }


def residual_checks(resid: np.ndarray) -> dict:
    """Ljung-Box p-value (autocorrelation left), Durbin-Watson statistic, Jarque-Bera p-value."""
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.stats.stattools import durbin_watson, jarque_bera

    lags = int(max(1, min(10, len(resid) // 5)))
    lb = acorr_ljungbox(resid, lags=[lags])
    return {
        "ljung_box_lags": lags,
        "ljung_box_p": float(lb["lb_pvalue"].iloc[0]),
        "durbin_watson": float(durbin_watson(resid)),
        "jarque_bera_p": float(jarque_bera(resid)[1]),
    }


def residual_sentences(checks: dict) -> list[str]:
    """What the residual checks mean, in words."""
    out = []
    if checks["ljung_box_p"] < 0.05:
        out.append(
            f"The errors are autocorrelated (Ljung-Box p = {checks['ljung_box_p']:.3f}, Durbin-Watson "
            f"{checks['durbin_watson']:.2f}): something that persists over periods is not in the model; "
            "the block bootstrap widens the intervals for it, but look for a missing driver."
        )
    else:
        out.append(
            f"No autocorrelation left in the errors (Ljung-Box p = {checks['ljung_box_p']:.2f}, "
            f"Durbin-Watson {checks['durbin_watson']:.2f})."
        )
    if checks["jarque_bera_p"] < 0.01:
        out.append(
            f"The errors are not normal (Jarque-Bera p = {checks['jarque_bera_p']:.3f}): look for "
            "outlier periods (stock-outs, data errors); the intervals do not assume normality."
        )
    return out


def spend_correlation(spend: np.ndarray, channels: list[str]) -> pd.DataFrame:
    """Correlation of the channels' spends (how much the plan moved them together)."""
    return pd.DataFrame(spend, columns=channels).corr().round(2)

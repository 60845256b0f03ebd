"""A Bayesian reading for business readers: chance to beat control and the expected loss.

- Proportions (binary metrics without CUPED): each variant's rate has a Beta(``alpha``, ``beta``)
  prior (default Beta(1, 1), uniform) and a Beta posterior; the probability that the variant beats
  control and the expected loss ``E[max(control - variant, 0)]`` (what shipping it costs, in the
  metric's units, averaged over the cases where it is in fact worse) come from ``DRAWS`` seeded
  posterior draws.
- Everything else (means, ratios, CUPED-adjusted lifts): the lift's sampling distribution is taken
  as normal (its estimate and standard error as in the frequentist table) with a normal prior on
  the *relative* lift, mean 0 and sd ``lift_sd`` (0 = flat prior, the default), as in GrowthBook's
  engine; posterior probability and expected loss are then closed-form.

The prior is stated in the report. With a flat prior the probability to beat control is one minus
the one-sided p-value; it answers a question managers ask ("how likely is B better?") but says
nothing about whether the test was sound (see the health checks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

DRAWS = 200_000
DEFAULT_PRIOR = {"alpha": 1.0, "beta": 1.0, "lift_sd": 0.0}


def normal_posterior(estimate, se, control_mean, lift_sd: float):
    """Posterior mean and sd of the absolute lift under a N(0, (lift_sd * control)^2) prior."""
    estimate, se = np.asarray(estimate, float), np.asarray(se, float)
    if lift_sd <= 0:
        return estimate, se
    tau2 = (lift_sd * np.abs(np.asarray(control_mean, float))) ** 2
    precision = 1 / se**2 + 1 / tau2
    return estimate / se**2 / precision, np.sqrt(1 / precision)


def normal_chance(mean, sd) -> tuple[np.ndarray, np.ndarray]:
    """P(lift > 0) and E[max(-lift, 0)] for a normal posterior of the lift."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = mean / sd
    prob = sps.norm.cdf(z)
    loss = sd * sps.norm.pdf(z) - mean * sps.norm.cdf(-z)
    return prob, loss


def beta_chance(xt, nt, xc, nc, a: float, b: float, rng: np.random.Generator) -> tuple[float, float]:
    """P(p_t > p_c) and E[max(p_c - p_t, 0)] from Beta posteriors (seeded draws)."""
    pt = rng.beta(a + xt, b + nt - xt, DRAWS)
    pc = rng.beta(a + xc, b + nc - xc, DRAWS)
    return float(np.mean(pt > pc)), float(np.mean(np.maximum(pc - pt, 0.0)))


def chance_to_beat(results: pd.DataFrame, prior: dict | None = None, seed: int = 0) -> pd.DataFrame:
    """``prob_beat_control``, ``expected_loss`` and ``prior`` (in words) for each results row."""
    p = {**DEFAULT_PRIOR, **(prior or {})}
    rng = np.random.default_rng(seed)
    post_mean, post_sd = normal_posterior(results["abs_lift"], results["se"], results["control_mean"], float(p["lift_sd"]))
    prob, loss = normal_chance(post_mean, post_sd)
    words = np.where(
        p["lift_sd"] > 0,
        f"normal prior on the relative lift, mean 0, sd {p['lift_sd']:g}",
        "flat prior on the lift (normal approximation)",
    )
    prior_text = np.full(len(results), words, dtype=object)
    beta_rows = results["kind"].eq("binary") & ~results["cuped"].astype(bool)
    for i in np.flatnonzero(beta_rows.to_numpy()):
        r = results.iloc[i]
        xt, xc = r["mean"] * r["n"], r["control_mean"] * r["control_n"]
        prob[i], loss[i] = beta_chance(
            round(xt), int(r["n"]), round(xc), int(r["control_n"]), float(p["alpha"]), float(p["beta"]), rng
        )
        prior_text[i] = f"Beta({p['alpha']:g}, {p['beta']:g}) prior on each rate"
    return pd.DataFrame({"prob_beat_control": prob, "expected_loss": loss, "prior": prior_text}, index=results.index)

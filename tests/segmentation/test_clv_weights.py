"""BG/NBD fitted on distinct (frequency, recency, T) combinations with weights equals the fit on every
customer (the likelihood depends on a customer only through them)."""

import numpy as np
import pandas as pd

from marksell.segmentation import clv


def _histories(n: int, seed: int = 0) -> pd.DataFrame:
    """BG/NBD histories simulated from known parameters, in whole weeks (so customers share them)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.8, 1 / 4.0, n)  # r = 0.8, alpha = 4 (weeks)
    p = rng.beta(0.6, 3.0, n)
    T = rng.integers(10, 40, n).astype(float)
    x, tx = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            tx[i] = np.floor(t)
            if rng.random() < p[i]:
                break
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T})


def test_weighted_fit_on_distinct_histories_equals_the_fit_on_every_customer():
    h = _histories(3000)  # below the size where the fit aggregates by itself
    every = clv.fit_bgnbd(h["frequency"], h["recency"], h["T"])
    counts = h.value_counts(sort=False).reset_index(name="n")
    assert len(counts) < 0.8 * len(h)
    weighted = clv.fit_bgnbd(counts["frequency"], counts["recency"], counts["T"], weights=counts["n"])
    for k in every.params:
        assert abs(weighted.params[k] / every.params[k] - 1) < 1e-6, (k, weighted.params, every.params)
    assert abs(weighted.log_likelihood / every.log_likelihood - 1) < 1e-10
    assert weighted.n_obs == every.n_obs == 3000
    assert weighted.converged and every.converged

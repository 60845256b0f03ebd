"""Moving-block bootstrap: deterministic, blocks of consecutive residuals."""

from __future__ import annotations

import numpy as np

from marksell.mmm.bootstrap import block_length, resampled_residuals


def test_draws_are_deterministic_and_made_of_consecutive_blocks():
    resid = np.arange(100, dtype=float)
    a = resampled_residuals(resid, 5, seed=3)
    assert np.array_equal(a, resampled_residuals(resid, 5, seed=3))
    assert not np.array_equal(a, resampled_residuals(resid, 5, seed=4))
    b = block_length(100)
    assert a.shape == (5, 100) and b == 9
    centred = resid - resid.mean()
    first = a[0, :b]
    assert np.allclose(np.diff(first), 1) and first[0] in centred

"""Carry-over and saturation transforms: weights, padding, half-saturation, slopes."""

from __future__ import annotations

import numpy as np
import pytest

from marksell.mmm import transforms as tf


def test_geometric_weights_sum_to_one_and_decay_by_the_rate():
    w = tf.adstock_weights("geometric", np.array([[0.5], [0.0]]), 6)
    assert np.allclose(w.sum(axis=0), 1)
    assert np.allclose(w[1:, 0] / w[:-1, 0], 0.5)
    assert w[0, 1] == 1 and np.all(w[1:, 1] == 0)  # decay 0: no carry-over


def test_weibull_with_shape_above_one_peaks_later():
    w = tf.adstock_weights("weibull", np.array([[3.0, 4.0], [0.8, 1.0]]), 10)
    assert np.allclose(w.sum(axis=0), 1)
    assert np.argmax(w[:, 0]) >= 2 and np.argmax(w[:, 1]) == 0


def test_lag_matrix_repeats_the_first_period_before_the_start():
    spend = np.array([[1.0], [2.0], [3.0]])
    lagged = tf.lag_matrix(spend, 3)
    assert lagged[:, :, 0].tolist() == [[1, 1, 1], [2, 1, 1], [3, 2, 1]]
    # steady spend stays steady after adstock
    flat = tf.adstock(tf.lag_matrix(np.full((5, 1), 7.0), 4), tf.adstock_weights("geometric", [[0.6]], 4))
    assert np.allclose(flat, 7.0)


@pytest.mark.parametrize("kind,params", [("hill", [[2.0, 1.5]]), ("logistic", [[0.8]])])
def test_half_saturation_and_slope(kind, params):
    half = tf.half_saturation(kind, params)[0]
    assert tf.saturate(kind, np.array([[half]]), params)[0, 0] == pytest.approx(0.5)
    x = np.linspace(0.1, 6, 30)[:, None]
    h = 1e-6
    numeric = (tf.saturate(kind, x + h, params) - tf.saturate(kind, x - h, params)) / (2 * h)
    assert np.allclose(tf.saturation_slope(kind, x, params), numeric, rtol=1e-5)


def test_unknown_transform_is_refused():
    with pytest.raises(ValueError, match="adstock must be one of"):
        tf.adstock_weights("delayed", [[0.5]], 4)
    with pytest.raises(ValueError, match="saturation must be one of"):
        tf.saturate("tanh", np.ones((2, 1)), [[1.0]])

"""``sum_per_key`` (sort instead of hash for the same-day merge) gives pandas' groupby sums bit for bit."""

import numpy as np
import pandas as pd
import pytest

from marksell.segmentation.rfm import purchase_occasions, sum_per_key


@pytest.mark.parametrize("sorted_keys", [False, True])
def test_same_sums_as_pandas_groupby_bit_for_bit(sorted_keys):
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(0, 300))
        key = rng.integers(0, int(rng.integers(1, 50)), n).astype(np.int64)
        if sorted_keys:
            key = np.sort(key)
        v = np.round(rng.gamma(1.0, 50.0, n), 2) * rng.choice([1, 1, 1, -1], n)
        v[rng.random(n) < 0.02] = -0.0
        if trial % 50 == 1 and n:
            v[0] = np.inf
        expected = pd.Series(v, dtype=float).groupby(key, sort=True).sum()
        keys, sums = sum_per_key(key, v)
        assert np.array_equal(expected.index.to_numpy(), keys)
        assert np.array_equal(expected.to_numpy(), sums, equal_nan=True)
        assert np.array_equal(np.signbit(expected.to_numpy()), np.signbit(sums))


def test_occasions_merge_same_day_orders():
    tx = pd.DataFrame(
        {
            "customer_id": ["b", "a", "b", "a", "b"],
            "order_date": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"]),
            "revenue": [10.0, 5.0, 2.5, 1.0, 4.0],
        }
    )
    occ = purchase_occasions(tx)
    assert list(occ.customers[occ.code]) == ["a", "a", "b", "b"]
    assert occ.value.tolist() == [5.0, 1.0, 4.0, 12.5]
    assert np.diff(occ.day).tolist() == [2, -2, 1]

"""Fixtures for the experiments tests: the sample company's experiments and simulators (as fixtures, so
that test modules never import each other)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def sample_experiments(sample_company):
    """(experiments table, planted truth per experiment) of the default sample company."""
    tables, truth = sample_company
    return tables["experiments"], truth["experiments"]


def _one_experiment(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["experiment"] == name].drop(columns="experiment").reset_index(drop=True)


def _simulated_units(
    seed: int, n: int = 4000, lift: float = 0.0, rho: float = 0.7, variants=("control", "treatment")
) -> pd.DataFrame:
    """Unit rows with a 0/1 metric, a normal metric with a covariate of correlation ``rho``, a ratio."""
    rng = np.random.default_rng(seed)
    v = rng.choice(np.asarray(variants), n)
    treated = v != variants[0]
    x = rng.normal(10, 2, n)
    y = 5 + rho * (x - 10) / 2 * 3 + np.sqrt(1 - rho**2) * 3 * rng.normal(size=n) + lift * treated
    conv = (rng.random(n) < 0.2 + 0.05 * treated * (lift != 0)).astype(int)
    orders = rng.poisson(2, n) + 1
    revenue = orders * rng.gamma(2, 10, n)
    return pd.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(n)],
            "variant": v,
            "converted": conv,
            "y": y,
            "pre": x,
            "orders": orders,
            "revenue": revenue,
            "segment": rng.choice(list("ABC"), n),
        }
    )


#: Planted truth of :func:`simulated_looks` (treatment minus control).
SIM_TRUTH = {"y": 0.3, "converted": 0.02, "revenue/orders": 2.0, "y2": 0.0}
SIM_REL_Y = 0.3 / 4.0


def _simulated_looks(seed: int, reps: int = 400, days: int = 14, per_day: int = 100, alpha: float = 0.05):
    """Many simulated experiments at once: every look's fixed and always-valid intervals.

    Each replication has ``per_day`` units per arm and day for ``days`` days. Metrics: ``y`` (skewed,
    Gamma, mean 4, lift +0.3), ``converted`` (0.10 vs 0.12), ``revenue/orders`` (true difference 2)
    and ``y2`` (no effect; CUPED on ``x``, rho = 0.7). All replications go through the package's
    own sums, estimates and comparisons in one vectorised pass (replication x day = a look).
    """
    from marksell.experiments.effects import compare, estimates
    from marksell.experiments.sequential import half_width, mixing_rho
    from marksell.experiments.stats import MOMENT_COLUMNS, Metric, cell_sums, sums_to_moments

    rng = np.random.default_rng(seed)
    shape = (reps, days, 2, per_day)
    treated = np.zeros(shape, bool)
    treated[:, :, 1, :] = True
    y = rng.gamma(2.0, 2.0, shape) + SIM_TRUTH["y"] * treated
    conv = (rng.random(shape) < np.where(treated, 0.12, 0.10)).astype(float)
    orders = 1.0 + rng.poisson(1.0, shape)
    revenue = orders * rng.gamma(2.0, 10.0, shape) * np.where(treated, 1.1, 1.0)
    x = rng.normal(0, 1, shape)
    y2 = 0.7 * x + np.sqrt(1 - 0.49) * rng.normal(0, 1, shape)
    metrics = [
        Metric("y", "mean", "y"),
        Metric("converted", "binary", "converted"),
        Metric("revenue/orders", "ratio", "revenue", "orders"),
        Metric("y2", "mean", "y2", covariate="x"),
    ]
    cols = {"y": y, "converted": conv, "revenue": revenue, "orders": orders, "x": x, "y2": y2}
    cols = {k: v.reshape(-1) for k, v in cols.items()}
    cells = reps * days * 2
    codes = np.repeat(np.arange(cells), per_day)
    sums = cell_sums(codes, cells, cols, metrics)
    shifts = sums.pop("shifts")
    cum = {k: np.cumsum(a.reshape(reps, days, 2, len(metrics)), axis=1) for k, a in sums.items()}
    cum["shifts"] = shifts
    mom = sums_to_moments(cum)
    m = len(metrics)
    table = pd.DataFrame(
        {
            "look": np.repeat(np.arange(reps * days), 2 * m),
            "variant": np.tile(np.repeat(np.array(["control", "treatment"], dtype=object), m), reps * days),
            "metric": np.tile(np.array([x.name for x in metrics], dtype=object), reps * days * 2),
            "kind": np.tile(np.array([x.kind for x in metrics], dtype=object), reps * days * 2),
        }
    )
    for key in MOMENT_COLUMNS[3:]:
        table[key] = mom[key].reshape(-1)
    res = compare(estimates(table, cuped=True), "control", alpha)
    res["rep"], res["day"] = res["look"] // days, res["look"] % days
    res["n_total"] = res["n"] + res["control_n"]
    rho = mixing_rho(2 * per_day * days, alpha)
    hw = half_width(res["se"].to_numpy(), res["n_total"].to_numpy(), rho, alpha)
    res["seq_ci_low"], res["seq_ci_high"] = res["abs_lift"] - hw, res["abs_lift"] + hw
    res["truth"] = res["metric"].map(SIM_TRUTH)
    res["rel_truth"] = np.where(res["metric"] == "y", SIM_REL_Y, np.nan)
    return res


@pytest.fixture(scope="session")
def one_experiment():
    """``one_experiment(table, name)``: the rows of one sample experiment, without the experiment column."""
    return _one_experiment


@pytest.fixture(scope="session")
def simulated_units():
    """``simulated_units(seed, n, lift, rho, variants)``: see :func:`_simulated_units`."""
    return _simulated_units


@pytest.fixture(scope="session")
def simulated_looks():
    """``simulated_looks(seed, reps, days, per_day, alpha)``: see :func:`_simulated_looks`."""
    return _simulated_looks

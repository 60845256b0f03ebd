"""Fixtures for the experiments tests: the sample company's experiments and a small simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def sample_experiments(sample_company):
    """(experiments table, planted truth per experiment) of the default sample company."""
    tables, truth = sample_company
    if "experiments" not in tables:  # TEMPORARY until the generator is wired into company.py
        from marksell.sample import experiments

        t, tr = experiments.generate(np.random.default_rng(1), tables["customers"], tables["transactions"])
        return t["experiments"], tr
    return tables["experiments"], truth["experiments"]

"""Shared fixtures: the sample company (generated once per session) and a clean reports folder."""

from __future__ import annotations

import os
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def sample_company():
    """Tables and ground truth of the default sample company (seed 7), generated in memory."""
    from marksell.sample.company import DEFAULT_SEED, generate_company

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return generate_company(DEFAULT_SEED)

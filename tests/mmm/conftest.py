"""Fixtures of the marketing mix tests: the sample series with its planted truth, and one fitted run."""

from __future__ import annotations

import numpy as np
import pytest

CONTROLS = ["price_index", "promo"]


@pytest.fixture(scope="session")
def mix_sample(sample_company):
    """The sample company's weekly marketing series and its planted truth."""
    tables, truth = sample_company
    return tables["mmm"], truth["marketing_mix"]


@pytest.fixture(scope="session")
def mix_run(mix_sample):
    """Fit (200 bootstrap refits, as the notebook's default), allocation and summary on the sample."""
    from marksell import mmm

    table, _ = mix_sample
    series = mmm.prepare_series(table, target="sales", controls=CONTROLS)
    fit = mmm.fit_mix(series, n_bootstrap=200, seed=7)
    plan = mmm.allocate_budget(fit, max_change=0.3)
    return fit, plan, mmm.summary(fit, plan)


@pytest.fixture(scope="session")
def generate_mix():
    """``generate_mix(seed, **kw)``: a fresh series from ``marksell.sample.marketing_mix.generate``."""
    from marksell.sample import marketing_mix

    def generate(seed: int = 3, **kw):
        return marketing_mix.generate(np.random.default_rng(seed), **kw)

    return generate

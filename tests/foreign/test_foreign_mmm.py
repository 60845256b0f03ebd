"""The marketing mix notebook on a stranger's file: monthly data, other column and channel names."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.foreign.conftest import assert_ok_run, run_notebook, sample_words_in

pytestmark = pytest.mark.slow


def _monthly_file(path):
    """48 months of revenue driven by three channels (carry-over, saturation) and a price index."""
    rng = np.random.default_rng(42)
    n = 48
    t = np.arange(n)
    spends = {
        "TV_cost": 40_000 * np.exp(rng.normal(0, 0.4, n)) * (rng.random(n) > 0.2),
        "Radio_cost": 8_000 * np.exp(rng.normal(0, 0.35, n)),
        "Online_cost": 15_000 * np.exp(rng.normal(0, 0.3, n)),
    }
    price = 1 + rng.normal(0, 0.03, n)
    revenue = 900_000 + 2_000 * t + 60_000 * np.sin(2 * np.pi * t / 12) - 300_000 * (price - 1)
    for (name, s), (half, effect) in zip(spends.items(), [(40_000, 160_000), (6_000, 30_000), (20_000, 50_000)]):
        carried = np.convolve(s, [0.6, 0.3, 0.1])[:n]
        revenue = revenue + effect * carried / (carried + half)
    frame = pd.DataFrame(
        {
            "Month": pd.date_range("2021-01-01", periods=n, freq="MS").strftime("%Y-%m-%d"),
            "Revenue": np.round(revenue + rng.normal(0, 8_000, n), 2),
            "Price": price.round(4),
            **{k: v.round(2) for k, v in spends.items()},
        }
    )
    frame.to_csv(path, index=False)


def test_marketing_mix_runs_on_monthly_foreign_data(tmp_path, sample_words):
    src = tmp_path / "media.csv"
    _monthly_file(src)
    params = {
        "mmm_path": str(src),
        "columns": {"Month": "date"},
        "target": "Revenue",
        "channels": ["TV_cost", "Radio_cost", "Online_cost"],
        "controls": ["Price"],
        "max_lag": 3,
        "n_bootstrap": 20,
        "gross_margin": 0.5,
    }
    proc, out = run_notebook("marketing_mix", params, tmp_path / "run")
    assert_ok_run(proc, out)
    channels = pd.read_csv(out / "channels.csv")
    assert list(channels.columns) == [
        "channel",
        "spend",
        "contribution",
        "share_of_spend",
        "share_of_effect",
        "roas",
        "roas_lo",
        "roas_hi",
        "mroas",
        "mroas_lo",
        "mroas_hi",
        "identified",
        "reason",
    ]
    assert channels["channel"].tolist() == ["TV_cost", "Radio_cost", "Online_cost"]
    alloc = pd.read_csv(out / "budget_allocation.csv")
    assert list(alloc.columns) == [
        "channel",
        "current_spend",
        "recommended_spend",
        "change_pct",
        "contribution_current",
        "contribution_recommended",
    ]
    decomp = pd.read_csv(out / "decomposition.csv")
    assert len(decomp) == 48 and {"date", "actual", "fitted", "Price", "TV_cost"} <= set(decomp.columns)
    curves = pd.read_csv(out / "response_curves.csv")
    assert set(curves["channel"]) <= set(channels["channel"]) and curves["current"].sum() == len(set(curves["channel"]))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["period"] == "month" and summary["outcome"] == "Revenue"
    assert summary["accuracy"]["holdout"]["n"] == 3
    html = (out / "report.html").read_text(encoding="utf-8")
    assert sample_words_in(html, sample_words) == []
    for word in ("spend_search", "price_index", "per week", "`sales`"):
        assert word not in html, word
    assert "TV_cost" in html and "per month" in html


@pytest.mark.parametrize(
    "breakage,fragments",
    [
        ("negative", ["Radio_cost", "negative values", "Fix:"]),
        ("short", ["'date'", "two years", "lower `holdout_weeks`"]),
        ("gap", ["Revenue", "empty values (gaps)", "fill in the missing"]),
    ],
)
def test_bad_marketing_file_fails_before_any_kernel_starts(tmp_path, breakage, fragments):
    src = tmp_path / "media.csv"
    _monthly_file(src)
    frame = pd.read_csv(src)
    if breakage == "negative":
        frame.loc[5, "Radio_cost"] = -100
    elif breakage == "short":
        frame = frame.iloc[:20]
    else:
        frame.loc[[7, 8], "Revenue"] = np.nan
    frame.to_csv(src, index=False)
    params = {
        "mmm_path": str(src),
        "columns": {"Month": "date"},
        "target": "Revenue",
        "channels": ["TV_cost", "Radio_cost", "Online_cost"],
        "controls": ["Price"],
    }
    proc, out = run_notebook("marketing_mix", params, tmp_path / "run")
    assert proc.returncode == 2, proc.stderr
    assert not out.exists()
    assert "media.csv" in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)


def test_an_unknown_outcome_kind_fails_before_any_kernel_starts(tmp_path):
    src = tmp_path / "media.csv"
    _monthly_file(src)
    params = {"mmm_path": str(src), "columns": {"Month": "date"}, "target": "Revenue", "outcome_kind": "dollars"}
    proc, out = run_notebook("marketing_mix", params, tmp_path / "run")
    assert proc.returncode == 2, proc.stderr
    assert not out.exists()
    assert "outcome_kind must be one of ['auto', 'money', 'count'], got 'dollars'" in proc.stderr

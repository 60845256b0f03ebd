"""KPI inputs on a user's data without a kernel: only the inputs given, and what is left out in one line."""

from __future__ import annotations

import pandas as pd
import pytest

from marksell.errors import ParameterError
from marksell.kpi import summary as kpi_text


@pytest.fixture
def orders(tmp_path):
    path = tmp_path / "orders.csv"
    pd.DataFrame(
        {"Client": ["a", "b", "a"], "Day": ["2024-01-03", "2024-02-01", "2024-03-05"], "Amount": [10.0, 20.0, 5.0]}
    ).to_csv(path, index=False)
    return path


def test_only_the_inputs_given_once_a_path_is_set(orders):
    data, notes = kpi_text.load_kpi_inputs(
        str(orders), columns={"Client": "customer_id", "Day": "order_date", "Amount": "revenue"}
    )
    assert len(data["transactions"]) == 3 and data["funnel"] is None and data["market"] is None
    assert any(n.startswith("no marketing funnel given: CAC") for n in notes)
    assert any(n.startswith("no market size given: market share") for n in notes)


def test_the_sample_when_no_path_is_given():
    data, notes = kpi_text.load_kpi_inputs()
    assert data["funnel"] is not None and data["market"] is not None
    assert not any(n.startswith("no ") for n in notes)


def test_a_flat_mapping_is_for_the_main_input(tmp_path):
    """Flat: the transactions (the main input), or the one file given; with two other files it must say which."""
    with pytest.raises(ParameterError, match="give one mapping per input"):
        kpi_text.load_kpi_inputs("", str(tmp_path / "f.csv"), str(tmp_path / "m.csv"), columns={"Day": "month"})


def test_no_breakdown_said_in_one_line():
    from marksell.kpi import kpi_report

    data, _ = kpi_text.load_kpi_inputs()
    tx = data["transactions"].drop(columns=["channel", "region"])
    report = kpi_report(tx, data["funnel"], None)
    shown = kpi_text.dimension_display(report, "channel")
    assert shown.data == "No breakdown by channel: the transactions have no `channel` column."
    assert kpi_text.channel_findings(report) == [] and kpi_text.region_findings(report) == []
    assert any("Return on ad spend: on target in" in s for s in kpi_text.trend_findings(report))


def test_findings_name_the_channels_from_the_results():
    from marksell.kpi import kpi_report

    data, _ = kpi_text.load_kpi_inputs()
    report = kpi_report(data["transactions"], data["funnel"], data["market"])
    ch = report.tables["channel"]
    losing = [c for c in ch.index if ch.loc[c, "clv_cac"] < 1]
    text = " ".join(kpi_text.channel_findings(report))
    assert all(c in text for c in losing) and ("worth less than they cost" in text) == bool(losing)
    reg = report.tables["region"]["market_share"]
    assert f"Highest market share: {reg.idxmax()}" in kpi_text.region_findings(report)[0]

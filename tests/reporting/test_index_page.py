"""The reports index: grouped by day, headline figures from summary.json, failed runs behind a toggle."""

from __future__ import annotations

import json

from marksell.reporting.index import build_index
from marksell.reporting.index_page import headline


def _run(reports, day, name, notebook, status="ok", summary=None, **extra):
    folder = reports / day / name
    folder.mkdir(parents=True)
    record = {
        "notebook": notebook,
        "status": status,
        "started": f"{day}T10:00:00",
        "duration_s": 2.5,
        "parameters": {"seed": 7},
        **extra,
    }
    (folder / "run.json").write_text(json.dumps(record))
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_headline_from_known_fields_and_from_a_headline_object(tmp_path):
    a = _run(
        tmp_path, "2026-01-01", "f", "sales_forecasting", summary={"n_series": 17, "mase_chosen": 0.5247, "mase_snaive": 1.3854}
    )
    assert headline("sales_forecasting", a) == {"series": "17", "MASE chosen": "0.52", "MASE seasonal naive": "1.39"}
    b = _run(tmp_path, "2026-01-01", "m", "marketing_mix", summary={"headline": {"uplift": 12345.6, "channels": 6}})
    assert headline("marketing_mix", b) == {"uplift": "12,346", "channels": "6"}
    c = _run(tmp_path, "2026-01-01", "x", "kpi_scorecard", summary=["not", "a", "dict"])
    assert headline("kpi_scorecard", c) == {}


def test_headline_of_experiments_and_marketing_mix_from_their_summaries(tmp_path):
    one = _run(
        tmp_path,
        "2026-01-01",
        "e1",
        "campaign_experiments",
        summary={
            "decisions": {"B": {"decision": "keep running"}},
            "primary": {"B": {"rel_lift": 0.2505}},
            "units": {"A": 1067, "B": 1003},
        },
    )
    assert headline("campaign_experiments", one) == {"decision": "keep running", "lift": "25.1 %", "units": "2,070"}
    two = _run(
        tmp_path,
        "2026-01-01",
        "e2",
        "campaign_experiments",
        summary={"decisions": {"B": {"decision": "ship"}, "C": {"decision": "do not ship"}}, "units": {}},
    )
    assert headline("campaign_experiments", two) == {"decision": "1 of 2 to ship"}
    mix = _run(
        tmp_path,
        "2026-01-01",
        "mm",
        "marketing_mix",
        summary={
            "channels": {"tv": {"roas": 0.8}, "email": {"roas": 6.5004}, "odd": {"roas": None}},
            "accuracy": {"holdout": {"r2": 0.98497}},
        },
    )
    assert headline("marketing_mix", mix) == {"channels": "3", "best ROAS": "email 6.50", "holdout R²": "0.98"}


def test_index_groups_by_day_and_hides_failed_runs_behind_a_toggle(tmp_path):
    _run(
        tmp_path,
        "2026-01-01",
        "kpi",
        "kpi_scorecard",
        summary={"period": "2025-12", "scorecard": [{"status": "on target"}, {"status": "off target"}, {"status": "no target"}]},
    )
    _run(tmp_path, "2026-01-02", "seg", "customer_segmentation", status="failed", error="x.csv: no such file\nmore")
    path, skipped = build_index(tmp_path)
    page = path.read_text()
    assert not skipped
    assert page.index("<h2>2026-01-02") < page.index("<h2>2026-01-01")  # newest day first
    assert "show failed runs (1)" in page and "st-failed" in page
    assert "on target</span> 1 of 2" in page
    assert "x.csv: no such file" in page and "more" not in page.split("x.csv: no such file")[1][:20]
    records = json.loads((tmp_path / "index.json").read_text())
    assert {r["folder"]: r["headline"] for r in records}["2026-01-01/kpi"] == {"period": "2025-12", "on target": "1 of 2"}


def test_long_parameters_do_not_push_the_links_away(tmp_path):
    _run(tmp_path, "2026-01-01", "long", "kpi_scorecard", overrides={"columns": "x" * 500})
    page = build_index(tmp_path)[0].read_text()
    row = page[page.index("data-run=") :]
    assert row.index("report.html") < row.index("xxxxxxxx")  # links come first
    assert f"<code>columns={'x' * 71}…</code>" in page  # shortened in the cell, whole in the tooltip


def test_data_in_records_is_escaped(tmp_path):
    _run(tmp_path, "2026-01-01", "evil", "kpi_scorecard", label="<script>alert(1)</script>")
    page = build_index(tmp_path)[0].read_text()
    assert "<script>alert(1)</script>" not in page


def test_a_run_recorded_without_headline_figures_gets_them_from_its_summary(tmp_path):
    """Runs of an earlier version stored an empty headline in run.json; the index reads their summary.json."""
    _run(
        tmp_path,
        "2026-01-01",
        "mm",
        "marketing_mix",
        headline={},
        summary={"channels": {"email": {"roas": 6.5}}, "accuracy": {"holdout": {"r2": 0.9}}},
    )
    _run(tmp_path, "2026-01-01", "f", "sales_forecasting", headline={"series": "3"}, summary={"n_series": 17})
    build_index(tmp_path)
    records = {r["folder"]: r["headline"] for r in json.loads((tmp_path / "index.json").read_text())}
    assert records == {
        "2026-01-01/mm": {"channels": "1", "best ROAS": "email 6.50", "holdout R²": "0.90"},
        "2026-01-01/f": {"series": "3"},
    }

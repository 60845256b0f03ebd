"""Integration: `marksell report` runs every notebook on the sample data into a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from marksell.reporting import runner

#: Artifacts each notebook must write (from the issues' output contracts).
EXPECTED_ARTIFACTS = {
    "data_audit": {"audit_overview.csv", "audit_issues.csv", "summary.json", "inputs.json"},
    "customer_segmentation": {"customers.csv", "segment_summary.csv", "summary.json", "inputs.json"},
    "opportunity_prioritisation": {"ranking.csv", "weights.csv", "summary.json", "inputs.json"},
    "pricing_elasticity": {"elasticities.csv", "cross_elasticities.csv", "price_recommendations.csv",
                           "summary.json", "inputs.json"},
    "sales_forecasting": {"forecast.csv", "backtest_metrics.csv", "summary.json", "inputs.json"},
    "kpi_scorecard": {"kpis.csv", "cohorts.csv", "summary.json", "inputs.json"},
}


@pytest.mark.slow
def test_marksell_report_produces_the_full_report_set(tmp_path):
    reports = tmp_path / "reports"
    env = {**os.environ, "MPLBACKEND": "Agg"}  # as in CI: the runner must still capture the figures
    proc = subprocess.run([sys.executable, "-m", "marksell.reporting.cli", "report", "--reports-dir", str(reports),
                           "--jobs", "2"], capture_output=True, text=True, timeout=1800, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = set(runner.catalogue())
    assert f"{len(names)} ok, 0 failed" in proc.stdout
    folders = {f.name: f for f in reports.glob("20*/*")}
    assert set(folders) == names
    for name, folder in folders.items():
        files = {p.name for p in folder.iterdir()}
        assert {"report.html", "run.json"} <= files and any(f.endswith(".ipynb") for f in files)
        assert EXPECTED_ARTIFACTS.get(name, set()) <= files, (name, files)
        rec = json.loads((folder / "run.json").read_text())
        assert rec["status"] == "ok" and rec["inputs"], name
        for inp in rec["inputs"]:
            assert inp["path"].startswith("data/sample/") and len(inp["sha256"]) == 64 and inp["rows"] > 0
        for csv in folder.glob("*.csv"):
            assert len(pd.read_csv(csv)) > 0, csv
        html = (folder / "report.html").read_text()
        assert "Data provenance" in html and "data/sample/" in html
        assert "data:image/png;base64" in html, f"{name}: figures must be embedded in the report"
    index = json.loads((reports / "index.json").read_text())
    assert sorted(r["notebook"] for r in index) == sorted(names)
    assert "<table>" in (reports / "index.html").read_text()

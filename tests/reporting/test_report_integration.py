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
    "pricing_elasticity": {
        "elasticities.csv",
        "cross_elasticities.csv",
        "price_recommendations.csv",
        "summary.json",
        "inputs.json",
    },
    "sales_forecasting": {"forecast.csv", "backtest_metrics.csv", "summary.json", "inputs.json"},
    "kpi_scorecard": {"kpis.csv", "cohorts.csv", "summary.json", "inputs.json"},
}


@pytest.fixture(scope="module")
def report_set(tmp_path_factory):
    """``marksell report`` on the sample data, once for the module: (process, reports folder)."""
    tmp_path = tmp_path_factory.mktemp("report-set")
    reports = tmp_path / "reports"
    env = {**os.environ, "MPLBACKEND": "Agg"}  # as in CI: the runner must still capture the figures
    proc = subprocess.run(
        [sys.executable, "-m", "marksell.reporting.cli", "report", "--reports-dir", str(reports), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=tmp_path,
        env=env,
    )
    return proc, reports


@pytest.mark.slow
def test_marksell_report_produces_the_full_report_set(report_set):
    proc, reports = report_set
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
        if any(folder.glob("*.csv")):
            assert "results.xlsx" in files and "href='results.xlsx'" in html, name
        assert "data:image/png;base64" in html, f"{name}: figures must be embedded in the report"
    leader = pd.read_csv(folders["opportunity_prioritisation"] / "ranking.csv").iloc[0]["name"]
    brief = (folders["opportunity_prioritisation"] / "report.html").read_text().split("celltag_summary")[1][:3000]
    assert f"{leader} comes first" in brief  # the executive summary names the leader, not just its id
    index = json.loads((reports / "index.json").read_text())
    assert sorted(r["notebook"] for r in index) == sorted(names)
    page = (reports / "index.html").read_text()
    assert all(f"href='{r['folder']}/report.html'" in page for r in index)


_CHECK = """() => {
  const body = document.body, doc = document.documentElement;
  const firstSection = document.querySelector('h2');
  const summary = document.querySelector('.celltag_summary');
  return {overflow: Math.max(body.scrollWidth, doc.scrollWidth) - window.innerWidth,
          title: document.title,
          summaryFirst: !!summary && (!firstSection ||
              (summary.compareDocumentPosition(firstSection) & Node.DOCUMENT_POSITION_FOLLOWING) > 0)};
}"""


def check_pages(pages, executable: str, width: int = 1280) -> list[str]:
    """Open each page in headless Chromium and list what a reviewer would trip over."""
    from playwright.sync_api import sync_playwright

    problems = []
    flags = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=flags)
        for path in pages:
            page = browser.new_page(viewport={"width": width, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            page.goto(path.resolve().as_uri())
            found = page.evaluate(_CHECK)
            name = f"{path.parent.name}/{path.name}"
            if found["overflow"] > 0:
                problems.append(f"{name}: the page scrolls sideways by {found['overflow']} px at {width} px")
            if errors:
                problems.append(f"{name}: script errors {errors}")
            if path.name == "report.html" and not found["summaryFirst"]:
                problems.append(f"{name}: no executive summary above the first section")
            if path.name == "report.html" and found["title"] in ("", "Notebook"):
                problems.append(f"{name}: the browser tab says {found['title']!r}")
            page.close()
        browser.close()
    return problems


@pytest.mark.slow
def test_reports_and_index_read_well_in_a_real_browser(report_set):
    """Each sample report and the index in headless Chromium: no sideways scrolling, no script errors,
    the executive summary above the first section, a page title that names the analysis."""
    pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra; browser checks not run")
    from marksell.reporting.pdf import find_browser

    executable = find_browser()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium); browser checks not run")
    _, reports = report_set
    pages = sorted(reports.glob("20*/*/report.html")) + [reports / "index.html"]
    problems = check_pages(pages, executable)
    assert not problems, "\n".join(problems)

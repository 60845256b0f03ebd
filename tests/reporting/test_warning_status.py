"""A run whose analysis calls its own results unreliable (``warnings`` in its summary.json) finishes with status
``warning``: exit 0, the reasons in run.json and in a banner at the top of the report, the brief still written."""

from __future__ import annotations

import json

import pytest

from marksell.reporting import runner
from marksell.reporting.run_record import read_run_record

PARAMS = """doubt: str = ""  # a reason to distrust the result; empty: none
artifacts_dir: str = ""  # set by the runner"""

BODY = """from marksell.reporting.artifacts import Artifacts
Artifacts(artifacts_dir).save_json({"value": 1, "warnings": [doubt] if doubt else []}, "summary.json")
print("value 1")"""


def _run(toy_notebook, tmp_path, **params):
    nb = toy_notebook(PARAMS, BODY, title="# Doubtful")
    res = runner.run(runner.RunSpec(notebook=str(nb), parameters=params, reports_dir=str(tmp_path / "reports")))
    return res, read_run_record(res.folder / "run.json"), (res.folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.kernel
def test_warnings_of_the_analysis_mark_the_run(toy_notebook, tmp_path):
    why = "Implausible dates: 3 customer(s) have purchases dated 1900-01-01"
    res, record, html = _run(toy_notebook, tmp_path, doubt=why)
    assert res.status == "warning" and record["status"] == "warning"
    assert record["warnings"] == [why] and record["warning"] == why and record["error"] is None
    assert "<div class='ms-warning' role='note'><strong>Read with care:</strong> " + why in html
    assert "ms-status-warning" in html


@pytest.mark.slow
@pytest.mark.kernel
def test_no_warnings_no_mark(toy_notebook, tmp_path):
    res, record, html = _run(toy_notebook, tmp_path)
    assert res.status == "ok" and record["status"] == "ok" and "warnings" not in record
    assert "ms-warning'" not in html


def test_a_summary_without_a_list_of_warnings_is_not_a_warning(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"warnings": "text, not a list"}))
    assert runner.analysis_warnings(tmp_path) == []
    (tmp_path / "summary.json").write_text("{broken")
    assert runner.analysis_warnings(tmp_path) == []
    (tmp_path / "summary.json").write_text(json.dumps({"warnings": ["", "one"]}))
    assert runner.analysis_warnings(tmp_path) == ["one"]


@pytest.mark.slow
@pytest.mark.kernel
def test_the_command_exits_0_on_a_warning(toy_notebook, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    nb = toy_notebook(PARAMS, BODY, title="# Doubtful")
    exe = Path(sys.executable).with_name("marksell")
    proc = subprocess.run(
        [str(exe), "run", str(nb), "-p", "doubt", "not reliable", "--reports-dir", str(tmp_path / "reports")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert " warning in " in proc.stdout and "reason: not reliable" in proc.stdout

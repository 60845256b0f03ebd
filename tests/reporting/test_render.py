"""The reviewer's HTML: answer first, outputs linked, failures in one line, figures described, run details folded."""

from __future__ import annotations

import base64

import nbformat
import pytest

from marksell.reporting import render
from marksell.reporting.render import page_title, prepare_notebook, render_html

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def _notebook(*, fail: bool = False, caption: str | None = "Revenue by month, in euros") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    image = nbformat.v4.new_output(
        "display_data",
        data={"image/png": PNG, "text/plain": "<Figure>"},
        metadata={"image/png": {"alt": caption}} if caption else {},
    )
    summary = nbformat.v4.new_code_cell("summary()", metadata={"tags": ["summary"]})
    summary.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": "**The answer:** grow email.", "text/plain": "answer"})
    ]
    chart = nbformat.v4.new_code_cell("chart()")
    chart.outputs = [image]
    cells = [
        nbformat.v4.new_markdown_cell("# 06 · Marketing mix: where the next euro goes\n\nMethod text."),
        nbformat.v4.new_markdown_cell("## 1. Fit"),
        chart,
    ]
    if fail:
        broken = nbformat.v4.new_code_cell("1/0")
        broken.outputs = [
            nbformat.v4.new_output(
                "error",
                ename="ZeroDivisionError",
                evalue="division by zero",
                traceback=["\x1b[31mTraceback\x1b[0m", "ZeroDivisionError"],
            )
        ]
        cells.append(broken)
        cells.append(nbformat.v4.new_markdown_cell("## What this means\n\nInterpretive prose."))
    cells.append(nbformat.v4.new_markdown_cell("## Summary"))
    cells.append(summary)
    nb.cells = cells
    return nb


def _run(status: str = "ok", **extra) -> dict:
    return {
        "notebook": "marketing_mix",
        "label": "q3",
        "status": status,
        "started": "2026-12-02T10:00:00+00:00",
        "duration_s": 3.2,
        "parameters": {"budget": 100},
        "inputs": [],
        "versions": {"marksell": "0.2.0"},
        **extra,
    }


def test_summary_cell_lifted_under_the_title():
    nb, _ = prepare_notebook(_notebook())
    assert nb.cells[1].metadata["tags"] == ["summary"] and nb.cells[0].source == "# 06 · Marketing mix: where the next euro goes"
    assert nb.cells[2].source == "Method text."  # the introduction follows the summary


def test_page_opens_with_the_answer_and_links_outputs(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(), path)
    page = render_html(
        path, tmp_path / "report.html", _run(), outputs=["channels.csv", "results.xlsx"], index_href="../../index.html"
    ).read_text()
    assert "<title>Marketing mix · q3 · 2026-12-02</title>" in page
    assert page.index("The answer:") < page.index("1. Fit") < page.index("id='ms-run-details'")
    assert "href='channels.csv'" in page and "href='results.xlsx'" in page and "href='../../index.html'" in page
    assert "<details><summary><strong>Run details" in page  # folded by default
    assert 'alt="Revenue by month, in euros"' in page and "<figcaption>Revenue by month, in euros" in page


def test_figure_without_caption_described_by_its_section(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(caption=None), path)
    page = render_html(path, tmp_path / "report.html", _run()).read_text()
    assert 'alt="Chart in the section “1. Fit”"' in page
    assert "No description has been provided" not in page


def test_failed_run_reads_as_a_failure(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(fail=True), path)
    page = render_html(path, tmp_path / "report.html", _run("failed", error="ZeroDivisionError: division by zero")).read_text()
    assert page.index("This run failed.") < page.index("1. Fit")
    assert "Interpretive prose" not in page and "The answer:" not in page
    assert 'class="ms-traceback"' in page and "\x1b[" not in page


def test_page_title_without_label_or_heading():
    assert page_title({"notebook": "kpi_scorecard", "started": "2026-01-31T08:00:00"}, []) == "kpi_scorecard · 2026-01-31"


def test_data_in_run_record_is_escaped(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(), path)
    page = render_html(path, tmp_path / "report.html", _run(label="<script>x</script>")).read_text()
    assert "<script>x</script>" not in page


@pytest.mark.parametrize("name", ["report.html"])
def test_report_itself_not_listed_as_an_output(tmp_path, name):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(), path)
    page = render_html(path, tmp_path / "report.html", _run(), outputs=[name, "run.json"]).read_text()
    assert "href='report.html'" not in page and "href='run.json'" in page


def test_brief_shown_under_the_title_when_the_notebook_has_no_summary_cell(tmp_path):
    from marksell.reporting.brief import Brief

    nb = _notebook()
    nb.cells = [c for c in nb.cells if "summary" not in c.metadata.get("tags", [])]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    page = render_html(
        path, tmp_path / "report.html", _run(), brief=Brief(["Email returns 4.1 per euro."], action="Grow email.")
    ).read_text()
    assert page.index("Email returns 4.1 per euro.") < page.index("1. Fit")
    assert "celltag_summary" in page and "What to do:</strong> Grow email." in page


def test_reused_exporter_renders_as_a_fresh_one(tmp_path, monkeypatch):
    """The exporter kept for the process renders each notebook byte for byte as a new exporter does, also after
    rendering other notebooks (a failed run, another caption)."""
    books = {"ok": _notebook(), "fail": _notebook(fail=True), "plain": _notebook(caption=None)}
    for name, nb in books.items():
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    order = ["ok", "fail", "plain", "ok", "fail"]
    reused = [render_html(tmp_path / f"{n}.ipynb", tmp_path / f"r{i}.html", _run()).read_text() for i, n in enumerate(order)]
    assert render.html_exporter() is render.html_exporter()
    fresh = []
    for i, n in enumerate(order):
        monkeypatch.setattr(render._LOCAL, "exporter", None)
        fresh.append(render_html(tmp_path / f"{n}.ipynb", tmp_path / f"f{i}.html", _run()).read_text())
    assert reused == fresh
    assert reused[0] == reused[3] and reused[1] == reused[4] and reused[0] != reused[1]

"""Render an executed notebook to a self-contained HTML page a reviewer acts on.

The page opens with the answer: the analysis title, then the executive summary (the notebook's cells tagged
``summary``, lifted to the top), then the analysis. Links to the run's outputs (CSV, JSON, the Excel workbook,
the notebook) and back to the index sit in a bar under the title; the run's details (status, parameters, data
provenance, versions, contents) fold away at the end. A failed run says so in one line at the top, stops at the
failing step (no interpretive prose below it) and folds the traceback away. Figures carry alt text and a
caption. Code is hidden; figures are embedded; external scripts are removed so the page works offline,
and :func:`marksell.reporting.safe_html.sanitise_html` drops ``javascript:`` URLs, event handlers and any other
external resource, whatever their origin.
"""

from __future__ import annotations

import copy
import html
import re
import threading
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from marksell.reporting.safe_html import sanitise_html

SUMMARY_TAG = "summary"
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
_HEADING = re.compile(r'<h([1-3]) id="([^"]+)">(.*?)<a class="anchor-link"', re.S)
_EXTERNAL_SCRIPT = re.compile(r'<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>', re.S)
_TAG = re.compile(r"<[^>]+>")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_IMG = re.compile(r'<img\b[^>]*\bsrc="data:image/png;base64,[^"]*"[^>]*>', re.S)

_STYLE = """
<style>
body{overflow-wrap:anywhere}
.jp-Notebook{max-width:1100px;margin:0 auto}
.jp-OutputArea-output,.jp-RenderedHTMLCommon{overflow-x:auto;max-width:100%}
.jp-OutputArea-output pre{white-space:pre-wrap;word-break:break-word}
.jp-RenderedImage img,img{max-width:100%;height:auto}
.ms-bar,.ms-details,.ms-failed,.ms-warning{font-family:system-ui,sans-serif;max-width:1100px;margin:1em auto;padding:.6em 1.2em;
 box-sizing:border-box}
.ms-bar{border-bottom:1px solid #d0d7de;display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:.92em}
.ms-bar a{white-space:nowrap}
.ms-failed{border:2px solid #cf222e;border-radius:8px;background:#fff5f5;color:#82071e;font-size:1.05em}
.ms-warning{border:2px solid #9a6700;border-radius:8px;background:#fff8c5;color:#4d2d00;font-size:1.05em}
.ms-details{border:1px solid #d0d7de;border-radius:8px;background:#f6f8fa;font-size:.9em}
.ms-details table{border-collapse:collapse;margin:.4em 0;max-width:100%}
.ms-details td,.ms-details th{border:1px solid #d0d7de;padding:.2em .6em;text-align:left;vertical-align:top;
 overflow-wrap:anywhere}
.ms-status-ok{color:#1a7f37;font-weight:bold}.ms-status-failed{color:#cf222e;font-weight:bold}
.ms-status-warning{color:#9a6700;font-weight:bold}
.ms-table th,.ms-table td{padding:.25em .7em;border-bottom:1px solid #d8dee4;text-align:left}
.ms-table th.ms-num,.ms-table td.ms-num{text-align:right;font-variant-numeric:tabular-nums}
.ms-table thead th{border-bottom:2px solid #8c959f}
.ms-table-note{font-size:.85em;color:#57606a}
figure.ms-figure{margin:.5em 0}figure.ms-figure figcaption{font-size:.88em;color:#57606a;margin-top:.2em}
.ms-traceback summary{cursor:pointer;color:#57606a}
</style>
"""


def render_html(
    notebook_path: str | Path,
    html_path: str | Path,
    run: dict,
    *,
    outputs: list[str] | None = None,
    index_href: str | None = None,
    brief=None,
) -> Path:
    """Write the reviewer's HTML for ``notebook_path``.

    ``run`` is the run record (run.json); ``outputs`` the file names in the run folder to link (relative links,
    so a copied or zipped folder keeps working); ``index_href`` the relative link back to the reports index;
    ``brief`` the executive summary (anything with ``_repr_html_``) shown under the title when the notebook has
    no cell tagged ``summary`` of its own.
    """
    nb = nbformat.read(str(notebook_path), as_version=4)
    prepared, captions = prepare_notebook(nb, brief)
    body, _ = html_exporter().from_notebook_node(prepared)
    body = _EXTERNAL_SCRIPT.sub("", body)
    body = label_figures(body, captions)
    toc = _toc(body)
    title = page_title(run, toc)
    body = re.sub(r"<title>.*?</title>", lambda _: f"<title>{html.escape(title)}</title>", body, count=1, flags=re.S)
    top = _STYLE + _bar(outputs or [], index_href) + _failure(run)
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + top, body, count=1)
    body = body.replace("</body>", _details(run, toc) + "</body>", 1)
    body, _removed = sanitise_html(body)  # no active URL or external resource, whatever put it there
    out = Path(html_path)
    out.write_text(body, encoding="utf-8")
    return out


_LOCAL = threading.local()


def html_exporter() -> HTMLExporter:
    """The HTML exporter (lab template, inputs and prompts hidden), built once per process and thread:
    building it loads and compiles the templates, a fixed cost every report would pay again (one per
    thread because an export registers per-notebook filters on the exporter)."""
    exporter = getattr(_LOCAL, "exporter", None)
    if exporter is None:
        exporter = HTMLExporter(template_name="lab")
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
        _LOCAL.exporter = exporter
    return exporter


def prepare_notebook(nb: nbformat.NotebookNode, brief=None) -> tuple[nbformat.NotebookNode, list[str | None]]:
    """The notebook as the reviewer should read it, and the caption of each figure in page order.

    Papermill's error banner cells are dropped; a failed notebook stops at its failing cell, whose traceback is
    folded; cells tagged ``summary`` (or, without any, a cell showing ``brief``) move up under the title cell.
    """
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if PAPERMILL_ERROR_TAG not in c.get("metadata", {}).get("tags", [])]
    failed = next((i for i, c in enumerate(cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    if failed is not None:
        cells = cells[: failed + 1]
        cells[failed].outputs = [_folded(o) if o.get("output_type") == "error" else o for o in cells[failed].outputs]
    summary = [c for c in cells if SUMMARY_TAG in c.get("metadata", {}).get("tags", [])]
    if not summary and brief is not None and failed is None:
        summary = [_brief_cell(brief)]
        cells = cells + summary
    if summary and failed is None:
        rest = _split_title([c for c in cells if c not in summary])
        cells = rest[:1] + summary + rest[1:]
    nb.cells = cells
    captions = [
        o.get("metadata", {}).get("image/png", {}).get("alt")
        for c in cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    return nb, captions


def _split_title(cells: list) -> list:
    """The first markdown cell split after its "# Title" line, so that the summary sits right under the title."""
    if not cells or cells[0].cell_type != "markdown":
        return cells
    lines = cells[0].source.split("\n")
    if not lines[0].startswith("# ") or not "\n".join(lines[1:]).strip():
        return cells
    # ids from the original cell (new cells would get random ones, and the page would change on every export)
    first = cells[0].get("id") or "title"
    title = nbformat.v4.new_markdown_cell(lines[0], id=first)
    intro = nbformat.v4.new_markdown_cell("\n".join(lines[1:]).strip("\n"), id=f"{first[:57]}-intro")
    return [title, intro, *cells[1:]]


def _brief_cell(brief) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("", metadata={"tags": [SUMMARY_TAG]}, id="brief")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": brief._repr_html_(), "text/plain": repr(brief)})]
    return cell


def _folded(error_output) -> nbformat.NotebookNode:
    trace = _ANSI.sub("", "\n".join(error_output.get("traceback", [])))
    reason = f"{error_output.get('ename', 'Error')}: {error_output.get('evalue', '')}"
    text = (
        f"<p><strong>This step failed:</strong> {html.escape(reason)}</p>"
        f"<details class='ms-traceback'><summary>Technical details (traceback)</summary>"
        f"<pre>{html.escape(trace)}</pre></details>"
    )
    return nbformat.v4.new_output("display_data", data={"text/html": text, "text/plain": reason})


def label_figures(body: str, captions: list[str | None]) -> str:
    """Give every embedded figure alt text and a caption (the figure's own, else the section it sits in)."""
    images = list(_IMG.finditer(body))
    if not images:
        return body
    mapped = captions if len(captions) == len(images) else [None] * len(images)
    out, last = [], 0
    for match, caption in zip(images, mapped):
        heading = _last_heading(body[: match.start()])
        text = caption or (f"Chart in the section “{heading}”" if heading else "Chart")
        tag = re.sub(r'\salt="[^"]*"', "", match.group(0))
        tag = tag.replace("<img ", f'<img alt="{html.escape(text, quote=True)}" ', 1)
        figure = f"<figure class='ms-figure'>{tag}"
        figure += f"<figcaption>{html.escape(caption)}</figcaption></figure>" if caption else "</figure>"
        out.extend([body[last : match.start()], figure])
        last = match.end()
    out.append(body[last:])
    return "".join(out)


def _last_heading(text: str) -> str:
    found = _HEADING.findall(text)
    return html.unescape(_TAG.sub("", found[-1][2])).strip() if found else ""


def page_title(run: dict, toc: list[tuple[int, str, str]]) -> str:
    """Browser title: the analysis, the label and the date (e.g. "Customer segmentation · north · 2026-01-31")."""
    analysis = toc[0][2] if toc else str(run.get("notebook", "marksell report"))
    analysis = re.sub(r"^\d+\s*·\s*", "", analysis).split(":")[0].strip() or analysis
    parts = [analysis, run.get("label") or "", str(run.get("started", ""))[:10]]
    return " · ".join(p for p in parts if p)


def _toc(body: str) -> list[tuple[int, str, str]]:
    return [(int(level), anchor, html.unescape(_TAG.sub("", text)).strip()) for level, anchor, text in _HEADING.findall(body)]


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _bar(outputs: list[str], index_href: str | None) -> str:
    links = [f"<a href='{_e(index_href)}'>← All reports</a>"] if index_href else []
    shown = [name for name in outputs if name not in ("report.html",)]
    links += [f"<a href='{_e(name)}'>{_e(name)}</a>" for name in shown]
    links.append("<a href='#ms-run-details'>Run details</a>")
    label = "<strong>Outputs:</strong>" if shown else ""
    return f"<nav class='ms-bar' aria-label='Report outputs'>{label}{''.join(links)}</nav>"


def _failure(run: dict) -> str:
    """The banner of a run that failed, or that finished with results its analysis calls unreliable."""
    if run.get("status") == "warning":
        items = [str(w) for w in run.get("warnings") or [run.get("warning") or ""] if str(w).strip()]
        return "<div class='ms-warning' role='note'><strong>Read with care:</strong> " + " ".join(_e(w) for w in items) + "</div>"
    if run.get("status") != "failed":
        return ""
    reason = str(run.get("error") or "the notebook stopped with an error").strip().splitlines()[0]
    return (
        f"<div class='ms-failed' role='alert'><strong>This run failed.</strong> {_e(reason)} "
        "The report stops at the failing step; its technical details are folded below it.</div>"
    )


def _details(run: dict, toc: list[tuple[int, str, str]]) -> str:
    status = str(run.get("status", "?"))
    rows = [
        ("Notebook", run.get("notebook", "")),
        ("Label", run.get("label") or ""),
        ("Status", status + (f": {run.get('error') or run.get('warning')}" if run.get("error") or run.get("warning") else "")),
        ("Started", run.get("started", "")),
        ("Duration", f"{float(run.get('duration_s') or 0):.1f} s"),
        ("marksell", (run.get("versions") or {}).get("marksell", "")),
        ("Git commit", run.get("git_commit") or "unknown"),
    ]
    info = "".join(
        f"<tr><th>{_e(k)}</th><td class='{'ms-status-' + _e(status) if k == 'Status' else ''}'>{_e(v)}</td></tr>"
        for k, v in rows
        if v != ""
    )
    params = "".join(
        f"<tr><td><code>{_e(k)}</code></td><td><code>{_e(v)}</code></td></tr>"
        for k, v in sorted((run.get("parameters") or {}).items())
    )
    inputs = "".join(
        f"<tr><td>{_e(i.get('kind', ''))}</td><td><code>{_e(i.get('path', ''))}</code></td>"
        f"<td>{_e(i.get('rows', ''))}</td><td><code>{_e(str(i.get('sha256', ''))[:16])}</code></td></tr>"
        for i in run.get("inputs", [])
        if isinstance(i, dict)
    )
    versions = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in sorted((run.get("versions") or {}).items()))
    toc_html = "".join(
        f"<li style='margin-left:{(lvl - 1) * 1.2}em'><a href='#{_e(anchor)}'>{_e(text)}</a></li>" for lvl, anchor, text in toc
    )
    return (
        "<section class='ms-details' id='ms-run-details'><details><summary><strong>Run details</strong>: status, "
        "parameters, data provenance, versions</summary>"
        f"<table>{info}</table>"
        f"<h4>Parameters</h4><table><tr><th>name</th><th>value</th></tr>{params}</table>"
        f"<h4>Data provenance</h4><table><tr><th>input</th><th>file</th><th>rows</th><th>sha256</th></tr>{inputs}"
        f"</table><h4>Versions</h4><table>{versions}</table>"
        f"<h4>Contents</h4><ul>{toc_html}</ul></details></section>"
    )

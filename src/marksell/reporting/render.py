"""Render an executed notebook to a self-contained HTML page for reviewers.

Code is hidden; a header shows the run's status, parameters and data provenance, and a table
of contents links the notebook's headings. Figures are embedded as data URIs by nbconvert;
external scripts (MathJax, require.js from a CDN) are removed so the page works offline.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

_HEADING = re.compile(r'<h([1-3]) id="([^"]+)">(.*?)<a class="anchor-link"', re.S)
_EXTERNAL_SCRIPT = re.compile(r'<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>', re.S)
_TAG = re.compile(r"<[^>]+>")

_STYLE = """
<style>
.ms-header{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:1em 1.5em;
 border:1px solid #d0d7de;border-radius:8px;background:#f6f8fa}
.ms-header h1{margin:.2em 0 .4em;font-size:1.5em}
.ms-header table{border-collapse:collapse;font-size:.9em;margin:.4em 0}
.ms-header td,.ms-header th{border:1px solid #d0d7de;padding:.2em .6em;text-align:left;vertical-align:top}
.ms-status-ok{color:#1a7f37;font-weight:bold}.ms-status-failed{color:#cf222e;font-weight:bold}
.ms-toc{columns:2;font-size:.92em}
.ms-header details{margin:.4em 0}
</style>
"""


def render_html(notebook_path: str | Path, html_path: str | Path, run: dict) -> Path:
    """Write the reviewer's HTML for ``notebook_path`` with a header built from ``run`` (run.json)."""
    nb = nbformat.read(str(notebook_path), as_version=4)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    body = _EXTERNAL_SCRIPT.sub("", body)
    header = _header(run, _toc(body))
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _STYLE + header, body, count=1)
    out = Path(html_path)
    out.write_text(body, encoding="utf-8")
    return out


def _toc(body: str) -> list[tuple[int, str, str]]:
    return [(int(level), anchor, html.unescape(_TAG.sub("", text)).strip())
            for level, anchor, text in _HEADING.findall(body)]


def _header(run: dict, toc: list[tuple[int, str, str]]) -> str:
    e = lambda v: html.escape(str(v), quote=True)  # noqa: E731 - data and parameters are escaped
    status = run.get("status", "?")
    rows = [
        ("Notebook", run.get("notebook", "")),
        ("Label", run.get("label") or ""),
        ("Status", status + (f": {run['error']}" if run.get("error") else "")),
        ("Started", run.get("started", "")),
        ("Duration", f"{run.get('duration_s', 0):.1f} s"),
        ("marksell", run.get("versions", {}).get("marksell", "")),
        ("Git commit", run.get("git_commit") or "unknown"),
    ]
    info = "".join(
        f"<tr><th>{e(k)}</th><td class='{'ms-status-' + e(status) if k == 'Status' else ''}'>{e(v)}</td></tr>"
        for k, v in rows if v != "")
    params = "".join(f"<tr><td><code>{e(k)}</code></td><td><code>{e(v)}</code></td></tr>"
                     for k, v in sorted(run.get("parameters", {}).items()))
    inputs = "".join(
        f"<tr><td>{e(i.get('kind', ''))}</td><td><code>{e(i.get('path', ''))}</code></td>"
        f"<td>{e(i.get('rows', ''))}</td><td><code>{e(str(i.get('sha256', ''))[:16])}</code></td></tr>"
        for i in run.get("inputs", []))
    toc_html = "".join(
        f"<li style='margin-left:{(lvl - 1) * 1.2}em'><a href='#{e(anchor)}'>{e(text)}</a></li>"
        for lvl, anchor, text in toc)
    title = toc[0][2] if toc else run.get("notebook", "marksell report")
    return (
        "<div class='ms-header'>"
        f"<h1>{e(title)}</h1>"
        f"<table>{info}</table>"
        f"<details open><summary>Parameters</summary><table><tr><th>name</th><th>value</th></tr>{params}</table></details>"
        f"<details open><summary>Data provenance</summary><table><tr><th>input</th><th>file</th><th>rows</th>"
        f"<th>sha256</th></tr>{inputs}</table></details>"
        f"<details open><summary>Contents</summary><ul class='ms-toc'>{toc_html}</ul></details>"
        "</div>"
    )

"""Issue 19 (security and reliability, second round): attacks through data, parameters, batch files and the
reports folder, each held with a clear message; property tests on the run-record reader."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marksell.reporting.run_record import RunRecordError, read_run_record
from marksell.reporting.safe_html import sanitise_html

# ----------------------------------------------------------------------------- live content in HTML
LIVE = [
    ('<a href="javascript:alert(1)">click</a>', "javascript:"),
    ('<a href=" JaVa&#x09;ScRiPt&#58;alert(1)">c</a>', "ScRiPt"),
    ('<a href="vbscript:msgbox(1)">c</a>', "vbscript:"),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">c</a>', "data:text/html"),
    ('<img src="http://host/beacon.png" alt="t">', "http://host"),
    ('<img src="//host/beacon.png">', "//host"),
    ("<img src=x onerror=alert(1)>", "onerror"),
    ('<img srcset="a.png 1x, https://host/b.png 2x">', "https://host"),
    ('<iframe src="https://host/"></iframe>', "https://host"),
    ('<object data="data:image/svg+xml,<svg onload=alert(1)>"></object>', "data:image/svg"),
    ('<script src="https://cdn.example/x.js"></script>', "cdn.example"),
    ("<script src='https://cdn.example/y.js'></script>", "cdn.example"),
    ('<link rel="stylesheet" href="https://host/s.css">', "https://host"),
    ('<style>@import url(http://host/s.css); p{background:url("https://host/b.png")}</style>', "host"),
    ('<div style="background:url(//host/x.png)">x</div>', "//host"),
    ('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>', "javascript"),
    ('<svg><image href="http://host/i.png"/></svg>', "http://host"),
    ('<video poster="http://host/p.png"></video>', "http://host"),
    ('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', "refresh"),
    ('<base href="https://host/">', "https://host"),
    ('<a ping="https://host/track" href="#x">x</a>', "track"),
]


@pytest.mark.parametrize("fragment, trace", LIVE)
def test_renderer_drops_active_urls_and_external_resources(fragment, trace):
    page, removed = sanitise_html(f"<html><body><p>before</p>{fragment}<p>after</p></body></html>")
    assert trace.lower() not in page.lower(), page
    assert removed
    assert "<p>before</p>" in page and "<p>after</p>" in page


def test_renderer_keeps_embedded_figures_links_and_inline_scripts():
    page = (
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="figure"><a href="https://example.org/doc">doc</a>'
        '<a href="#section-2">jump</a><script>var x = 1;</script><style>p{color:red}</style>'
    )
    out, removed = sanitise_html(page)
    assert out == page and removed == []


# ----------------------------------------------------------------------------- run records
def _record(**fields):
    base = {
        "notebook": "kpi_scorecard",
        "status": "ok",
        "duration_s": 1.5,
        "parameters": {},
        "overrides": {},
        "started": "2026-01-01T10:00:00+00:00",
        "label": None,
        "error": None,
        "inputs": [],
    }
    base.update(fields)
    return base


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"duration_s": "fast"}, "duration_s: 'fast' is not of type 'number'"),
        ({"parameters": "str"}, "parameters: 'str' is not of type 'object'"),
        ({"status": "done"}, "status: 'done' is not one of"),
        ({"duration_s": -3}, "duration_s: -3 is less than the minimum of 0"),
        ({"inputs": [{"kind": "transactions", "rows": "many"}]}, "inputs.0.rows"),
        ({"label": ["a"]}, "label: ['a'] is not of type"),
    ],
)
def test_run_records_of_the_wrong_shape_are_refused_naming_the_field(tmp_path, fields, problem):
    f = tmp_path / "run.json"
    f.write_text(json.dumps(_record(**fields)))
    with pytest.raises(RunRecordError, match="does not fit the run record schema") as err:
        read_run_record(f, tmp_path)
    assert problem in str(err.value)


def test_run_record_that_is_a_fifo_directory_symlink_or_nan_is_refused_without_blocking(tmp_path):
    (tmp_path / "fifo.json").parent.mkdir(exist_ok=True)
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "dir.json").mkdir()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
    outside.write_text(json.dumps(_record()))
    (tmp_path / "link.json").symlink_to(outside)
    (tmp_path / "nan.json").write_text('{"notebook": "x", "status": "ok", "duration_s": NaN}')
    (tmp_path / "big.json").write_bytes(b" " * 5_000_001)
    expected = {
        "fifo.json": "a FIFO",
        "dir.json": "a directory",
        "link.json": "symlink",
        "nan.json": "NaN is not a JSON number",
        "big.json": "at most",
    }
    results = {}

    def read_all():
        for name in expected:
            try:
                read_run_record(tmp_path / name, tmp_path)
                results[name] = "read"
            except RunRecordError as exc:
                results[name] = str(exc)

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a run record blocked"
    for name, word in expected.items():
        assert word in results[name], (name, results[name])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
FIELDS = [
    "notebook",
    "status",
    "label",
    "error",
    "started",
    "duration_s",
    "parameters",
    "overrides",
    "inputs",
    "versions",
    "timings",
    "artifacts",
    "git_commit",
]
records = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS)),
    st.builds(
        lambda base, extra: {**base, **extra},
        st.just(_record()),
        st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
    ),
    json_values,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=records)
def test_any_json_is_either_a_usable_record_or_refused(tmp_path, record):
    f = tmp_path / "run.json"
    f.write_text(json.dumps(record))
    try:
        rec = read_run_record(f, tmp_path)
    except RunRecordError as exc:
        assert str(exc)
        return
    # what the index does with a record must work on every accepted one
    assert isinstance(rec["notebook"], str) and rec["status"] in ("ok", "warning", "failed")
    float(rec.get("duration_s") or 0)
    dict(rec.get("overrides") or rec.get("parameters") or {}).items()
    str(rec.get("label") or "") + str(rec.get("error") or "") + str(rec.get("started", ""))
    for item in rec.get("inputs") or []:
        item.get("kind"), item.get("path")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_any_bytes_are_either_a_record_or_refused(tmp_path, data):
    f = tmp_path / "run.json"
    f.write_bytes(data)
    try:
        rec = read_run_record(f, tmp_path)
    except RunRecordError:
        return
    assert isinstance(rec, dict) and "notebook" in rec


# ----------------------------------------------------------------------------- parameter values and YAML
from marksell.errors import ParameterError  # noqa: E402
from marksell.reporting import limits  # noqa: E402

ALIAS_BOMB = "\n".join(
    ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
)


def test_yaml_alias_bomb_is_refused_at_once():
    assert len(ALIAS_BOMB.encode()) < 600
    with pytest.raises(ParameterError, match=r"f.yaml: .*aliases \(\*l0\) are not allowed"):
        limits.load_yaml(ALIAS_BOMB, "f.yaml")
    with pytest.raises(ParameterError, match="nested more than"):
        limits.load_yaml("[" * 500 + "]" * 500, "deep.yaml")
    assert limits.load_yaml("runs: [{notebook: kpi_scorecard}]", "ok.yaml") == {"runs": [{"notebook": "kpi_scorecard"}]}


@pytest.mark.parametrize(
    "values, problem",
    [
        ({"discount_rate": float("nan")}, "'discount_rate' is nan; numbers must be finite"),
        ({"gross_margin": float("inf")}, "'gross_margin' is inf"),
        ({"criteria": {"price": {"weight": float("nan")}}}, "'criteria.price.weight' is nan"),
        ({"targets": {"roas": float("-inf")}}, "'targets.roas' is -inf"),
        ({"discount_rate": 1.5}, "'discount_rate' is 1.5; it must be >= 0 and <= 1"),
        ({"gross_margin": 1.5}, "'gross_margin' is 1.5; it must be >= 0 and <= 1"),
        ({"n_bootstrap": 10**7}, "'n_bootstrap' is 10,000,000"),
        ({"interval": 1.0}, "'interval' is 1; it must be > 0 and <= 0.999"),
        ({"concentration": -1.0}, "'concentration' is -1; it must be > 0"),
        ({"seed": -1}, "'seed' is -1"),
        ({"n_draws": 1_000_000_000}, "--allow-large-work"),
        ({"n_clusters": 500}, "'n_clusters' is 500"),
        ({"season_length": 100_000}, "'season_length' is 100,000"),
        ({"interval_levels": [80, 120]}, "'interval_levels[2]' is 120"),
        ({"interval_levels": [80, "x"]}, "item 2 ('x') must be a number"),
    ],
)
def test_parameter_values_outside_their_range_are_refused(values, problem):
    with pytest.raises(ParameterError) as err:
        limits.check_values(values)
    assert problem in str(err.value)


def test_work_bounds_lift_with_the_override_and_workers_are_capped():
    assert limits.check_values({"n_draws": 1_000_000}, allow_large_work=True) == ({"n_draws": 1_000_000}, [])
    with pytest.raises(ParameterError):  # validity ranges stay
        limits.check_values({"discount_rate": 2.0}, allow_large_work=True)
    cores = limits.machine_cores()
    values, notes = limits.check_values({"n_jobs": cores + 30})
    assert values["n_jobs"] == cores and notes == [f"n_jobs {cores + 30} capped at {cores} (this machine's cores)"]
    assert limits.check_values({"n_jobs": 1}) == ({"n_jobs": 1}, [])


# ----------------------------------------------------------------------------- leftovers of killed runs
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from marksell.reporting import staging  # noqa: E402

_HOLDER = """
import sys, time
from pathlib import Path
from marksell.reporting import staging
with staging.staging_folder(Path(sys.argv[1]), "kpi_scorecard") as run, staging.kernel_folder() as k:
    (run / "part.csv").write_text("x")
    print(run, k, flush=True)
    time.sleep(60)
"""


def _holder(root: Path) -> tuple[subprocess.Popen, Path, Path]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(root)], stdout=subprocess.PIPE, text=True)
    run, kernel = proc.stdout.readline().split()
    return proc, Path(run), Path(kernel)


def test_folders_of_a_killed_run_are_cleaned_and_live_ones_kept(tmp_path):
    root = tmp_path / "reports" / ".tmp"
    live, live_run, live_kernel = _holder(root)
    dead, dead_run, dead_kernel = _holder(root)
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait(10)
        assert dead_run.exists() and dead_kernel.exists()  # what SIGKILL leaves behind
        removed = staging.clean_stale(root)
        assert dead_run in removed and dead_kernel in removed
        assert not dead_run.exists() and not dead_kernel.exists()
        assert not dead_run.with_name(dead_run.name + ".lock").exists()
        assert live_run.exists() and live_kernel.exists()  # a run still going is left alone
    finally:
        live.kill()
        live.wait(10)
    staging.clean_stale(root)
    assert list(root.iterdir()) == []


# ----------------------------------------------------------------------------- data text in reports
import nbformat  # noqa: E402

from marksell.reporting.display import Markdown, escape_text  # noqa: E402
from marksell.reporting.render import render_html  # noqa: E402

LINK_NAME = "[click](javascript:alert(1))"
BEACON_NAME = "![t](http://host/beacon.png)"


def test_markdown_from_data_reaches_html_as_text_only(tmp_path):
    shown = Markdown(f"**Top opportunity:** {LINK_NAME}; runner-up {BEACON_NAME}; region <b>x</b> & $5 see https://host/x").data
    assert "[" not in shown and "]" not in shown and "://" not in shown and "<b>" not in shown
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(Markdown(...))")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": shown, "text/plain": "md"})]
    author = nbformat.v4.new_markdown_cell(
        f"# Report\n\nAn author's {LINK_NAME} and {BEACON_NAME} "
        '<img src="http://host/pixel.gif"> <a href="https://example.org/">doc</a>'
    )
    nb.cells = [author, cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    html = render_html(path, tmp_path / "report.html", {"notebook": "x", "status": "ok", "duration_s": 1.0}).read_text()
    assert _live_urls(html) == []
    assert "host/pixel.gif" not in html
    assert "Top opportunity:" in html and "click" in html  # the text itself is still shown
    assert 'href="https://example.org/"' in html  # a plain link to a web page stays a link


def _live_urls(html: str) -> list[str]:
    """Attributes that would run code or fetch from outside the page."""
    import re

    attrs = re.findall(r"""\s(?:href|src|srcset|poster|data|action|xlink:href)\s*=\s*["']?\s*([^"'\s>]+)""", html, re.I)
    return [
        a
        for a in attrs
        if a.lower().startswith(("javascript:", "vbscript:")) or (a.lower().startswith(("http:", "https:", "//")) and "host" in a)
    ]


def test_escape_text_keeps_emphasis_and_escapes_links_images_and_math():
    assert escape_text("**Top:** [a](b) $x$") == "**Top:** &#91;a&#93;(b) &#36;x&#36;"


@pytest.mark.slow
def test_opportunity_and_region_names_cannot_become_links_or_beacons(tmp_path):
    import pandas as pd

    from marksell.paths import sample_path
    from marksell.reporting import runner

    opp = pd.read_csv(sample_path("opportunities"))
    top = opp["market_size"].idxmax()
    opp["name"] = opp["name"].astype(object)
    opp.loc[top, "name"] = LINK_NAME
    opp.loc[(top + 1) % len(opp), "name"] = BEACON_NAME
    src = tmp_path / "opps.csv"
    opp.to_csv(src, index=False)
    tx = pd.read_csv(sample_path("transactions"))
    regions = sorted(tx["region"].dropna().unique())
    tx["region"] = tx["region"].replace({regions[0]: LINK_NAME, regions[1]: BEACON_NAME})
    tx_path = tmp_path / "tx.csv"
    tx.to_csv(tx_path, index=False)
    for notebook, params in [
        ("opportunity_prioritisation", {"opportunities_path": str(src), "n_draws": 300}),
        ("kpi_scorecard", {"transactions_path": str(tx_path)}),
    ]:
        res = runner.run(runner.RunSpec(notebook=notebook, reports_dir=str(tmp_path / "reports"), parameters=params))
        assert res.status == "ok", (notebook, res.error)
        html = (res.folder / "report.html").read_text()
        assert _live_urls(html) == [], notebook
        assert "&#91;click&#93;" in html or "[click]" in html, notebook  # the name is shown, as text


# ----------------------------------------------------------------------------- finished work is never thrown away
import errno  # noqa: E402
import time  # noqa: E402

from marksell.reporting import runner  # noqa: E402

TOY_PARAMS = """x: int = 3  # a number
mode: str = "ok"  # ok or sleep
seconds: float = 0.0  # how long to sleep
artifacts_dir: str = ""  # set by the runner"""


TOY_BODY = "import time\nif mode == 'sleep':\n    time.sleep(seconds)\nprint(x)"


def test_claim_folder_tries_the_next_name_only_when_the_name_is_taken(tmp_path, monkeypatch):
    day = tmp_path / "2026-01-01"
    (day / "toy").mkdir(parents=True)
    (day / "toy" / "x").write_text("taken")
    src = tmp_path / "run"
    src.mkdir()
    assert runner.claim_folder(src, day, "toy") == day / "toy-2"
    (day / "toy-3").symlink_to(tmp_path / "nowhere")  # a dangling link holds a name too
    src.mkdir()
    assert runner.claim_folder(src, day, "toy") == day / "toy-4"
    src.mkdir()
    calls = []

    def cross_device(a, b):
        calls.append(b)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(runner.os, "rename", cross_device)
    with pytest.raises(OSError, match="cross-device"):  # not 9,999 attempts at other names
        runner.claim_folder(src, day, "toy")
    assert calls == [day / "toy-5"] and src.exists()


def test_destination_problems_are_found_before_the_kernel(tmp_path, toy_notebook):
    toy = toy_notebook(TOY_PARAMS, TOY_BODY)
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    with pytest.raises(ParameterError, match="is a symlink"):
        runner.prepare(runner.RunSpec(notebook=str(toy), out=str(tmp_path / "link")))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match="not a folder"):
        runner.prepare(runner.RunSpec(notebook=str(toy), out=str(tmp_path / "file")))
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / ".tmp").write_text("in the way")
    with pytest.raises(ParameterError, match="in the way"):
        runner.prepare(runner.RunSpec(notebook=str(toy), reports_dir=str(reports)))
    with pytest.raises(ParameterError, match="cell-timeout"):
        runner.prepare(runner.RunSpec(notebook=str(toy), cell_timeout=-1))
    for label in ["q3\n", 5, ["a"], "a/../b"]:
        with pytest.raises(ParameterError, match="label"):
            runner.prepare(runner.RunSpec(notebook=str(toy), label=label))


@pytest.mark.slow
def test_out_filled_during_the_run_keeps_the_finished_run_and_says_where(tmp_path, toy_notebook):
    toy = toy_notebook(TOY_PARAMS, TOY_BODY)
    out = tmp_path / "exact"

    def fill_later():
        deadline = time.time() + 60
        while time.time() < deadline and not list((tmp_path / ".tmp").glob("toy-*")):
            time.sleep(0.1)
        out.mkdir()
        (out / "someone-elses.txt").write_text("mine")

    filler = threading.Thread(target=fill_later)
    filler.start()
    res = runner.run(runner.RunSpec(notebook=str(toy), out=str(out), parameters={"mode": "sleep", "seconds": 4.0}))
    filler.join()
    assert res.status == "ok" and res.kept_at is not None
    assert "could not be moved into place" in res.error and str(res.kept_at.name) in res.error
    assert (res.kept_at / "run.json").exists() and (res.kept_at / "report.html").exists()
    assert (out / "someone-elses.txt").read_text() == "mine"
    from marksell.reporting import staging

    assert res.kept_at not in staging.clean_stale(tmp_path / ".tmp")  # a kept run is not a leftover
    assert res.kept_at.exists()


def test_loaders_refuse_a_fifo_without_blocking(tmp_path):
    """In JupyterLab (no runner), a FIFO as input is refused by the loader instead of hanging the kernel."""
    from marksell.data import load_transactions
    from marksell.errors import DataContractError

    os.mkfifo(tmp_path / "orders.csv")
    result = {}

    def load():
        try:
            load_transactions(tmp_path / "orders.csv")
        except DataContractError as exc:
            result["error"] = str(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(30)
    assert not reader.is_alive() and "a FIFO, socket or device" in result["error"]

"""The report runner: parameter validation, failure isolation, no overwrite, atomic output, index."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from marksell.errors import ParameterError
from marksell.reporting import batch, index, runner
from marksell.reporting import parameters as notebook_params

TOY_PARAMS = """x: int = 3  # a number
name: str = "toy"  # shown in the output
mode: str = "ok"  # ok, fail, sleep, die
seconds: float = 0.0  # how long to sleep
items: list = []  # a list
artifacts_dir: str = ""  # set by the runner"""

TOY_BODY = """import os, time
import pandas as pd
from marksell.reporting.artifacts import Artifacts
art = Artifacts(artifacts_dir)
art.save_csv(pd.DataFrame({"x": [x, -1], "name": [name, "=1+1"]}), "table.csv")
art.save_json({"x": x, "n_items": len(items)}, "summary.json")
if mode == "fail":
    raise RuntimeError("planted failure")
if mode == "sleep":
    time.sleep(seconds)
if mode == "die":
    os._exit(1)
print(f"x doubled is {2 * x}")"""


@pytest.fixture
def toy(toy_notebook):
    return toy_notebook(TOY_PARAMS, TOY_BODY, title="# Toy report\n\n## First section", tail="## Second section")


def run_toy(toy, reports, **kw):
    spec = runner.RunSpec(notebook=str(toy), reports_dir=str(reports), **kw)
    return runner.run(spec)


# ----------------------------------------------------------------------------- parameters


def test_parameters_are_read_with_types_defaults_and_help(toy):
    params = {p.name: p for p in notebook_params.read_parameters(toy)}
    assert params["x"].type == "int" and params["x"].default == 3 and params["x"].help == "a number"
    assert params["items"].type == "list" and params["items"].default == []


def test_parameter_cell_must_use_literals():
    with pytest.raises(ParameterError, match="must be a literal"):
        notebook_params.parse_parameters("a: int = 1\nb: int = a * 2")
    with pytest.raises(ParameterError, match="type 'tuple'"):
        notebook_params.parse_parameters("a: tuple = (1,)")


def test_unknown_and_mistyped_parameters_rejected_before_any_kernel(toy, tmp_path):
    params = notebook_params.read_parameters(toy)
    with pytest.raises(ParameterError, match="unknown parameter 'nmae'; did you mean 'name'"):
        notebook_params.validate(params, {"nmae": "a"})
    with pytest.raises(ParameterError, match="parameter 'x' must be int"):
        notebook_params.validate(params, {"x": "three"})
    with pytest.raises(ParameterError, match="set by the runner"):
        notebook_params.validate(params, {"artifacts_dir": "/tmp"})
    with pytest.raises(ParameterError, match="parameter 'x' must be int; got 'abc'"):
        notebook_params.validate(params, {"x": "abc"}, from_text={"x"})
    assert notebook_params.validate(params, {"x": "7", "items": "[a, b]"}, from_text={"x", "items"}) == {
        "x": 7,
        "items": ["a", "b"],
    }
    with pytest.raises(ParameterError):
        run_toy(toy, tmp_path / "reports", parameters={"x": 1.5})
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").glob("20*"))


def test_values_are_never_evaluated_as_code(toy):
    params = notebook_params.read_parameters(toy)
    out = notebook_params.validate(params, {"name": "__import__('os').system('echo hi')"}, from_text={"name"})
    assert out["name"] == "__import__('os').system('echo hi')"
    with pytest.raises(ParameterError):
        notebook_params.validate(params, {"items": "!!python/object/apply:os.system ['echo hi']"}, from_text={"items"})


def test_unsafe_labels_are_refused(toy, tmp_path):
    for label in ("../escape", "a/b", "..", "x" * 80, ""):
        if label == "":
            runner.check_label(label)
            continue
        with pytest.raises(ParameterError, match="label"):
            run_toy(toy, tmp_path / "reports", label=label)


# ----------------------------------------------------------------------------- runs


@pytest.mark.slow
@pytest.mark.kernel
def test_run_writes_the_full_report_folder(toy, tmp_path):
    reports = tmp_path / "reports"
    res = run_toy(toy, reports, parameters={"x": 5, "name": "<b>Acme & Co</b>"}, label="weekly")
    assert res.status == "ok", res.error
    assert res.folder.parent.parent == reports and res.folder.name == "toy-weekly"
    files = sorted(p.name for p in res.folder.iterdir())
    assert files == ["report.html", "results.xlsx", "run.json", "summary.json", "table.csv", "toy.ipynb"]
    rec = json.loads((res.folder / "run.json").read_text())
    assert rec["status"] == "ok" and rec["error"] is None
    assert rec["overrides"] == {"x": 5, "name": "<b>Acme & Co</b>"}
    assert rec["parameters"] == {"x": 5, "name": "<b>Acme & Co</b>", "mode": "ok", "seconds": 0.0, "items": []}
    assert set(rec) >= {"started", "ended", "duration_s", "inputs", "versions", "git_commit", "notebook"}
    assert rec["versions"]["pandas"]
    # spreadsheet formula injection neutralised, numbers untouched
    assert (res.folder / "table.csv").read_text().splitlines() == ["x,name", "5,'<b>Acme & Co</b>", "-1,'=1+1"] or (
        res.folder / "table.csv"
    ).read_text().splitlines() == ["x,name", "5,<b>Acme & Co</b>", "-1,'=1+1"]
    html = (res.folder / "report.html").read_text()
    assert "&lt;b&gt;Acme &amp; Co&lt;/b&gt;" in html and "<b>Acme & Co</b>" not in html
    assert "art.save_csv" not in html  # code hidden
    assert "First section" in html and "href='#First-section'" in html  # table of contents
    assert 'src="https://' not in html  # self-contained
    assert not any((reports / ".tmp").iterdir())


@pytest.mark.slow
@pytest.mark.kernel
def test_second_run_same_day_never_overwrites(toy, tmp_path):
    reports = tmp_path / "reports"
    first = run_toy(toy, reports)
    before = (first.folder / "run.json").read_bytes()
    second = run_toy(toy, reports, parameters={"x": 9})
    assert second.folder != first.folder and second.folder.name == "toy-2"
    assert (first.folder / "run.json").read_bytes() == before


@pytest.mark.slow
@pytest.mark.kernel
def test_failing_notebook_is_kept_and_marked_failed(toy, tmp_path):
    res = run_toy(toy, tmp_path / "reports", parameters={"mode": "fail"})
    assert res.status == "failed" and "planted failure" in res.error
    rec = json.loads((res.folder / "run.json").read_text())
    assert rec["status"] == "failed" and "RuntimeError: planted failure" in rec["error"]
    executed = nbformat.read(str(res.folder / "toy.ipynb"), as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["evalue"] == "planted failure"


@pytest.mark.slow
@pytest.mark.kernel
def test_cell_timeout_and_dead_kernel_mark_the_run_failed(toy, tmp_path):
    slow = run_toy(toy, tmp_path / "r", parameters={"mode": "sleep", "seconds": 20.0}, cell_timeout=2)
    assert slow.status == "failed" and "timed out" in slow.error
    dead = run_toy(toy, tmp_path / "r", parameters={"mode": "die"})
    assert dead.status == "failed" and "died" in dead.error
    idx = json.loads((index.build_index(tmp_path / "r")[0]).with_suffix(".json").read_text())
    assert sorted(r["status"] for r in idx) == ["failed", "failed"]


@pytest.mark.slow
@pytest.mark.kernel
def test_exact_out_folder_refuses_to_overwrite(toy, tmp_path):
    out = tmp_path / "exact"
    res = runner.run(runner.RunSpec(notebook=str(toy), out=str(out)))
    assert res.folder == out and (out / "run.json").exists()
    with pytest.raises(ParameterError, match="not empty"):
        runner.run(runner.RunSpec(notebook=str(toy), out=str(out)))


@pytest.mark.slow
@pytest.mark.kernel
def test_batch_goes_on_after_a_failure(toy, tmp_path, capsys):
    reports = tmp_path / "reports"
    cfg = tmp_path / "batch.yaml"
    cfg.write_text(
        f"runs:\n  - notebook: {toy}\n    label: bad\n    parameters: {{mode: fail}}\n  - notebook: {toy}\n    label: good\n"
    )
    results = batch.run_batch(batch.specs_from_config(cfg, str(reports)))
    assert [r.status for r in results] == ["failed", "ok"]
    out = capsys.readouterr().out
    assert "1 ok, 1 failed" in out and "toy" in out
    runs = json.loads((reports / "index.json").read_text())
    assert {r["label"]: r["status"] for r in runs} == {"bad": "failed", "good": "ok"}


def test_batch_config_errors_are_clear(tmp_path):
    cfg = tmp_path / "b.yaml"
    cfg.write_text("runs:\n  - notebok: x\n")
    with pytest.raises(ParameterError, match="run 1 needs a 'notebook'"):
        batch.specs_from_config(cfg)
    cfg.write_text("runs: [1, 2")
    with pytest.raises(ParameterError, match="not valid YAML"):
        batch.specs_from_config(cfg)


# ----------------------------------------------------------------------------- index


def test_index_skips_corrupt_and_foreign_entries(tmp_path):
    reports = tmp_path / "reports"
    good = reports / "2026-01-02" / "toy"
    good.mkdir(parents=True)
    (good / "run.json").write_text(
        json.dumps(
            {"notebook": "toy", "status": "ok", "parameters": {"a": "<x>"}, "duration_s": 1.0, "started": "2026-01-02T10:00:00"}
        )
    )
    bad = reports / "2026-01-02" / "broken"
    bad.mkdir()
    (bad / "run.json").write_text("{not json")
    (reports / "2026-01-02" / "foreign").mkdir()
    (reports / "notes.txt").write_text("hello")
    path, skipped = index.build_index(reports)
    html = path.read_text()
    assert "toy" in html and "&lt;x&gt;" in html
    assert len(skipped) == 2 and any("broken" in s for s in skipped) and any("foreign" in s for s in skipped)
    assert [r["notebook"] for r in json.loads((reports / "index.json").read_text())] == ["toy"]


# ----------------------------------------------------------------------------- real processes


def _cli(*args, cwd, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "marksell.reporting.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.kernel
def test_sigterm_during_a_run_leaves_no_half_report(toy, tmp_path):
    reports = tmp_path / "reports"
    proc = _cli("run", str(toy), "-p", "mode", "sleep", "-p", "seconds", "60", "--reports-dir", str(reports), cwd=tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline and not any((reports / ".tmp").glob("toy-*")):
        time.sleep(0.2)
    time.sleep(3)  # the kernel is executing the sleeping cell
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not list(reports.glob("20*/*")), "no report folder for an interrupted run"
    assert not list((reports / ".tmp").iterdir()), "temporary folder cleaned up"
    json.loads((reports / "index.json").read_text())  # index valid


@pytest.mark.slow
@pytest.mark.kernel
def test_two_batches_at_once_lose_nothing(toy, tmp_path):
    reports = tmp_path / "reports"
    cfg = tmp_path / "b.yaml"
    cfg.write_text("runs:\n" + "".join(f"  - notebook: {toy}\n    parameters: {{x: {i}}}\n" for i in range(3)))
    procs = [_cli("report", "--config", str(cfg), "--reports-dir", str(reports), cwd=tmp_path) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    folders = sorted(reports.glob("20*/*"))
    assert len(folders) == 6
    xs = sorted(json.loads((f / "summary.json").read_text())["x"] for f in folders)
    assert xs == [0, 0, 1, 1, 2, 2]
    assert len(json.loads((reports / "index.json").read_text())) == 6


@pytest.mark.slow
@pytest.mark.kernel
def test_reports_carry_no_absolute_home_paths(toy, tmp_path, monkeypatch):
    home = tmp_path / "home" / "analyst"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    res = run_toy(toy, tmp_path / "reports", parameters={"mode": "fail", "name": str(home / "data.csv")})
    assert res.status == "failed"
    for f in res.folder.iterdir():
        assert str(home) not in f.read_text(errors="ignore"), f.name
    assert json.loads((res.folder / "run.json").read_text())["overrides"]["name"] == "~/data.csv"


@pytest.mark.slow
@pytest.mark.kernel
def test_headline_is_stored_in_run_json_and_the_index_does_not_reread_summary(toy_notebook, tmp_path):
    body = (
        "from marksell.reporting.artifacts import Artifacts\n"
        'Artifacts(artifacts_dir).save_json({"headline": {"x doubled": 2 * x}}, "summary.json")'
    )
    nb = toy_notebook(TOY_PARAMS, body, stem="headline")
    res = runner.run(runner.RunSpec(notebook=str(nb), reports_dir=str(tmp_path / "r"), parameters={"x": 21}))
    assert res.status == "ok", res.error
    assert json.loads((res.folder / "run.json").read_text())["headline"] == {"x doubled": "42"}
    (res.folder / "summary.json").unlink()  # the index keeps the headline: it comes from run.json
    idx = json.loads((index.build_index(tmp_path / "r")[0]).with_suffix(".json").read_text())
    assert [r["headline"] for r in idx] == [{"x doubled": "42"}]

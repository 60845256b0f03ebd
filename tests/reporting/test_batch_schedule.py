"""Parallel batches: workers take the longest recorded notebooks first, and each run's own worker processes
(``n_jobs``) are capped at its share of the cores."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from marksell.reporting import batch, limits, runner


@pytest.fixture
def notebooks(toy_notebook, tmp_path):
    """Four toy notebooks a, b, c, d and a reports folder for them."""
    folder = tmp_path / "nb"
    folder.mkdir()
    paths = {stem: toy_notebook("x: int = 0", "x", stem=stem, folder=folder) for stem in "abcd"}
    return paths, tmp_path / "reports"


def recorded(reports: Path, *runs: tuple[str, str, float]) -> None:
    """An index.json with the given (notebook, status, duration_s), newest first."""
    reports.mkdir(parents=True, exist_ok=True)
    records = [{"notebook": n, "status": s, "duration_s": d} for n, s, d in runs]
    (reports / "index.json").write_text(json.dumps(records), encoding="utf-8")


def specs_of(paths, reports, *stems):
    return [runner.RunSpec(notebook=str(paths[s]), label=f"run{i}", reports_dir=str(reports)) for i, s in enumerate(stems)]


def stems(specs):
    return [Path(s.notebook).stem for s in specs]


def test_the_longest_recorded_notebooks_go_first_and_unrecorded_ones_before_them(notebooks):
    paths, reports = notebooks
    recorded(reports, ("a", "ok", 1.0), ("b", "warning", 5.0), ("c", "ok", 3.0), ("d", "failed", 99.0))
    order = batch.longest_first(specs_of(paths, reports, "a", "b", "c", "d"), reports)
    assert stems(order) == ["d", "b", "c", "a"], "d never finished (a failed run's time says nothing): first"


def test_the_latest_record_of_a_notebook_sets_its_expected_time_and_ties_keep_their_order(notebooks):
    paths, reports = notebooks
    recorded(reports, ("b", "ok", 2.0), ("a", "ok", 4.0), ("b", "ok", 9.0))  # b's 9 s is older
    order = batch.longest_first(specs_of(paths, reports, "b", "a", "b"), reports)
    assert stems(order) == ["a", "b", "b"]
    assert [s.label for s in order] == ["run1", "run0", "run2"], "runs of the same notebook keep their order"


@pytest.mark.parametrize("index", [None, "{not json", '{"a": 1}', '[1, {"notebook": "a", "status": "ok", "duration_s": "x"}]'])
def test_without_usable_records_the_given_order_stands(notebooks, index):
    paths, reports = notebooks
    reports.mkdir()
    if index is not None:
        (reports / "index.json").write_text(index, encoding="utf-8")
    assert stems(batch.longest_first(specs_of(paths, reports, "c", "a", "b"), reports)) == ["c", "a", "b"]


@pytest.fixture
def workers(monkeypatch):
    """Fake worker processes: record the specs they are handed, in order, and finish each at once."""
    handed: list[runner.RunSpec] = []

    def fake(specs, jobs, done, server=None):
        for s in specs:
            handed.append(s)
            done(runner.RunResult(Path(s.notebook).stem, "ok", None, 0.1))

    monkeypatch.setattr(batch, "_run_in_processes", fake)
    monkeypatch.setattr(batch.index, "build_index", lambda reports: (Path(reports) / "index.html", []))
    return handed


def test_a_parallel_batch_hands_its_workers_the_longest_runs_first(notebooks, workers):
    paths, reports = notebooks
    recorded(reports, ("a", "ok", 1.0), ("b", "ok", 5.0), ("c", "ok", 3.0))
    results = batch.run_batch(specs_of(paths, reports, "a", "b", "c"), jobs=2, out=io.StringIO())
    assert stems(workers) == ["b", "c", "a"]
    assert len(results) == 3


def test_a_batch_in_turn_keeps_the_given_order(notebooks, monkeypatch):
    paths, reports = notebooks
    recorded(reports, ("a", "ok", 1.0), ("b", "ok", 5.0))
    ran = []
    monkeypatch.setattr(runner, "run", lambda s, kernels=None: ran.append(s) or runner.RunResult("x", "ok", None, 0.1))
    monkeypatch.setattr(batch.index, "build_index", lambda reports: (Path(reports) / "index.html", []))
    batch.run_batch(specs_of(paths, reports, "a", "b"), jobs=1, out=io.StringIO())
    assert stems(ran) == ["a", "b"]


@pytest.fixture
def parallel_notebook(toy_notebook, tmp_path):
    """A notebook whose own default is 4 worker processes, and one without the parameter."""
    with_jobs = toy_notebook("n_jobs: int = 4", "n_jobs", stem="fits")
    without = toy_notebook("x: int = 0", "x", stem="plain")
    return with_jobs, without


def test_each_parallel_run_gets_its_share_of_the_cores(parallel_notebook, tmp_path, monkeypatch, workers):
    with_jobs, without = parallel_notebook
    monkeypatch.setattr(limits, "machine_cores", lambda: 4)
    reports = str(tmp_path / "reports")
    specs = [
        runner.RunSpec(notebook=str(with_jobs), reports_dir=reports),  # the notebook's default, 4
        runner.RunSpec(notebook=str(with_jobs), parameters={"n_jobs": 3}, label="three", reports_dir=reports),
        runner.RunSpec(notebook=str(with_jobs), parameters={"n_jobs": 1}, label="one", reports_dir=reports),
        runner.RunSpec(notebook=str(without), reports_dir=reports),
    ]
    out = io.StringIO()
    batch.run_batch(specs, jobs=2, out=out)
    handed = {(Path(s.notebook).stem, s.label): s.parameters for s in workers}
    assert handed == {
        ("fits", None): {"n_jobs": 2},
        ("fits", "three"): {"n_jobs": 2},
        ("fits", "one"): {"n_jobs": 1},
        ("plain", None): {},
    }
    text = out.getvalue()
    assert "run 1 (" in text and "n_jobs 4 capped at 2 (2 runs at once on this machine's 4 cores)" in text
    assert "n_jobs 3 capped at 2" in text and "n_jobs 1 capped" not in text
    assert specs[0].parameters == {}, "the caller's specs are not changed"


def test_a_batch_in_turn_leaves_the_worker_count_to_the_run(parallel_notebook, tmp_path, monkeypatch):
    with_jobs, _ = parallel_notebook
    monkeypatch.setattr(limits, "machine_cores", lambda: 4)
    ran = []
    monkeypatch.setattr(runner, "run", lambda s, kernels=None: ran.append(s) or runner.RunResult("x", "ok", None, 0.1))
    monkeypatch.setattr(batch.index, "build_index", lambda reports: (Path(reports) / "index.html", []))
    out = io.StringIO()
    batch.run_batch([runner.RunSpec(notebook=str(with_jobs), reports_dir=str(tmp_path / "r"))], jobs=1, out=out)
    assert ran[0].parameters == {} and "capped" not in out.getvalue()

"""A batch rebuilds the reports index at most every INDEX_EVERY_S and always at the end, also when it is
interrupted (each rebuild reads every run in the reports folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from marksell.reporting import batch, runner


@pytest.fixture
def counted(toy_notebook, tmp_path, monkeypatch):
    """Specs of three runs whose execution is faked; returns (specs, log of events: 'run' or 'index after N')."""
    nb = toy_notebook("x: int = 0", "x")
    log: list[str] = []

    def fake_run(spec, kernels=None):
        log.append("run")
        if spec.label == "stop":
            raise KeyboardInterrupt
        status = "failed" if spec.label == "bad" else "ok"
        return runner.RunResult("toy", status, Path(spec.reports_dir), 0.1, "boom" if status == "failed" else None)

    def fake_index(reports):
        log.append(f"index after {log.count('run')}")
        return Path(reports) / "index.html", []

    monkeypatch.setattr(runner, "run", fake_run)
    monkeypatch.setattr(batch.index, "build_index", fake_index)

    def specs(*labels):
        return [runner.RunSpec(notebook=str(nb), label=label, reports_dir=str(tmp_path / "r")) for label in labels]

    return specs, log


def test_the_index_is_rebuilt_once_at_the_end_of_a_quick_batch(counted, monkeypatch):
    specs, log = counted
    monkeypatch.setattr(batch, "INDEX_EVERY_S", 1e9)
    results = batch.run_batch(specs("a", "bad", "c"), out=open("/dev/null", "w"))  # noqa: SIM115
    assert [r.status for r in results] == ["ok", "failed", "ok"], "a failed run midway is still reported"
    assert log == ["run", "run", "run", "index after 3"]


def test_a_long_batch_rebuilds_the_index_as_runs_end(counted, monkeypatch):
    specs, log = counted
    monkeypatch.setattr(batch, "INDEX_EVERY_S", 0.0)
    batch.run_batch(specs("a", "b"), out=open("/dev/null", "w"))  # noqa: SIM115
    assert log == ["run", "index after 1", "run", "index after 2", "index after 2"]


def test_an_interrupted_batch_still_indexes_the_runs_it_finished(counted, monkeypatch):
    specs, log = counted
    monkeypatch.setattr(batch, "INDEX_EVERY_S", 1e9)
    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(specs("a", "stop", "c"), out=open("/dev/null", "w"))  # noqa: SIM115
    assert log == ["run", "run", "index after 2"]

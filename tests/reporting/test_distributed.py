"""Batches on a Dask distributed cluster (LocalCluster on loopback) and in parallel processes."""

from __future__ import annotations

import json

import pytest

from marksell.reporting import batch, runner
from tests.reporting.test_runner import TOY_BODY, TOY_PARAMS

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_batch_runs_on_a_local_dask_cluster(tmp_path, toy_notebook):
    toy = toy_notebook(TOY_PARAMS, TOY_BODY)
    reports = tmp_path / "reports"
    specs = [runner.RunSpec(notebook=str(toy), parameters={"x": i}, label=f"r{i}", reports_dir=str(reports)) for i in range(2)]
    specs.append(runner.RunSpec(notebook=str(toy), parameters={"mode": "fail"}, label="bad", reports_dir=str(reports)))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        results = batch.run_batch(specs, scheduler=cluster.scheduler_address)
    assert sorted(r.status for r in results) == ["failed", "ok", "ok"]
    folders = {f.name: f for f in reports.glob("20*/*")}
    assert set(folders) == {"toy-r0", "toy-r1", "toy-bad"}
    assert json.loads((folders["toy-r1"] / "summary.json").read_text())["x"] == 1
    assert (folders["toy-r0"] / "report.html").exists()
    assert json.loads((folders["toy-bad"] / "run.json").read_text())["status"] == "failed"
    assert len(json.loads((reports / "index.json").read_text())) == 3


@pytest.mark.slow
def test_parallel_processes_give_the_same_artifacts_as_serial(tmp_path, toy_notebook):
    toy = toy_notebook(TOY_PARAMS, TOY_BODY)
    outs = {}
    for jobs in (1, 2):
        reports = tmp_path / f"reports{jobs}"
        specs = [
            runner.RunSpec(notebook=str(toy), parameters={"x": i}, label=f"r{i}", reports_dir=str(reports)) for i in range(3)
        ]
        results = batch.run_batch(specs, jobs=jobs)
        assert all(r.status == "ok" for r in results)
        outs[jobs] = {f.name: (f / "table.csv").read_bytes() for f in reports.glob("20*/*")}
    assert outs[1] == outs[2] and len(outs[1]) == 3


@pytest.mark.slow
def test_per_series_forecasting_runs_on_the_dask_cluster(sample_company):
    import joblib
    import pandas as pd

    from marksell.forecasting import run_forecast

    tables, _ = sample_company
    df = tables["sales_history"]
    small = df[(df["region"] == "North") & (df["category"] != "home")]
    kw = dict(keys=["region", "category"], horizon=3, levels=["total"], n_origins=2, models=["ets", "theta"])
    local = run_forecast(small, n_jobs=1, **kw)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as stream:
            remote = run_forecast(small, n_jobs=2, **kw)
        assert len(stream.data) > 0, "the series chunks were fitted on the cluster's workers"
    pd.testing.assert_frame_equal(local.forecast, remote.forecast)
    pd.testing.assert_frame_equal(local.metrics, remote.metrics)

"""The batch's kernel pool: a fresh, warm kernel per notebook, nothing shared between notebooks, dead spares
replaced, failures reported as with a kernel of the run's own, and the same outputs as a cold kernel."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import nbformat
import pytest

from marksell.reporting import batch, runner
from marksell.reporting.kernel import KernelPool, warm_command

PARAMS = """mode: str = "ok"  # ok, set, fail, sleep, die
artifacts_dir: str = ""  # set by the runner"""

BODY = """import os, sys, time
warm = "marksell.data" in sys.modules and "matplotlib.pyplot" in sys.modules
import pandas as pd
from marksell.reporting.artifacts import Artifacts
names = sorted(k for k in globals() if not k.startswith("_") and k not in ("In", "Out", "exit", "quit", "get_ipython", "warm"))
Artifacts(artifacts_dir).save_json({"leaked": "planted" in globals(), "pid": os.getpid(), "names": names,
                                    "warm": warm}, "summary.json")
if mode == "set":
    planted = 1
if mode == "fail":
    raise RuntimeError("planted failure")
if mode == "sleep":
    time.sleep(30)
if mode == "die":
    os._exit(1)
print(pd.Series([1.5, 2.5]).sum(), names, sys.path)"""


@pytest.fixture
def nb(toy_notebook):
    return toy_notebook(PARAMS, BODY, title="# Pool check")


def _run(nb, reports, pool, **kw):
    return runner.run(runner.RunSpec(notebook=str(nb), reports_dir=str(reports), **kw), kernels=pool)


def _summary(res) -> dict:
    return json.loads((res.folder / "summary.json").read_text())


def _outputs(res) -> list:
    executed = nbformat.read(str(next(res.folder.glob("*.ipynb"))), as_version=4)
    return [
        (
            c.get("execution_count"),
            [{k: o.get(k) for k in ("output_type", "text", "data", "ename")} for o in c.get("outputs", [])],
        )
        for c in executed.cells
        if c.cell_type == "code"
    ]


def test_warm_command_replaces_only_the_ipykernel_launcher():
    cmd = ["/x/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert warm_command(cmd) == ["/x/python", "-m", "marksell.reporting.warm_kernel", "-f", "{connection_file}"]
    other = ["/x/R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"]
    assert warm_command(other) == other


@pytest.mark.slow
def test_each_notebook_gets_a_fresh_warm_kernel_and_sees_nothing_of_the_last(nb, tmp_path):
    pool = KernelPool()
    try:
        first = _run(nb, tmp_path / "r", pool, parameters={"mode": "set"})
        second = _run(nb, tmp_path / "r", pool)
    finally:
        pool.close()
    assert first.status == second.status == "ok", (first.error, second.error)
    a, b = _summary(first), _summary(second)
    assert a["pid"] != b["pid"], "a kernel is never reused"
    assert not b["leaked"], "a variable set in one notebook is not visible in the next"
    assert a["warm"] and b["warm"], "the stack was imported before the notebook"
    assert a["names"] == b["names"]
    assert _outputs(first) == _outputs(second), "execution counts and outputs start afresh"


@pytest.mark.slow
def test_warm_kernel_gives_the_outputs_of_a_cold_one(nb, tmp_path):
    cold = _run(nb, tmp_path / "cold", None)
    pool = KernelPool()
    pool.more = False
    try:
        warm = _run(nb, tmp_path / "warm", pool)
    finally:
        pool.close()
    assert cold.status == warm.status == "ok"
    assert not _summary(cold)["warm"] and _summary(warm)["warm"]
    assert _outputs(cold) == _outputs(warm)
    assert (cold.folder / "summary.json").read_text().replace(str(_summary(cold)["pid"]), "P").replace("false", "X") == (
        warm.folder / "summary.json"
    ).read_text().replace(str(_summary(warm)["pid"]), "P").replace("true", "X").replace("false", "X")


@pytest.mark.slow
def test_a_spare_kernel_that_died_is_replaced(nb, tmp_path):
    pool = KernelPool()
    try:
        first = _run(nb, tmp_path / "r", pool)
        spare = pool._spare  # noqa: SLF001 - the test kills the kernel the pool holds
        assert spare is not None and spare.alive()
        spare.manager.provisioner.process.kill()
        spare.manager.provisioner.process.wait()
        second = _run(nb, tmp_path / "r", pool)
    finally:
        pool.close()
    assert first.status == second.status == "ok", second.error
    assert _summary(second)["pid"] != _summary(first)["pid"]


@pytest.mark.slow
def test_failures_timeouts_and_dead_kernels_are_reported_as_before(nb, tmp_path):
    pool = KernelPool()
    try:
        failed = _run(nb, tmp_path / "r", pool, parameters={"mode": "fail"})
        slow = _run(nb, tmp_path / "r", pool, parameters={"mode": "sleep"}, cell_timeout=2)
        dead = _run(nb, tmp_path / "r", pool, parameters={"mode": "die"})
        pool.more = False
        after = _run(nb, tmp_path / "r", pool)
        spare = pool._spare  # noqa: SLF001
    finally:
        pool.close()
    assert failed.status == "failed" and "cell 3 raised RuntimeError: planted failure" in failed.error
    assert slow.status == "failed" and "timed out" in slow.error
    assert dead.status == "failed" and "died" in dead.error
    assert after.status == "ok" and spare is None, "no spare started after the last run"
    # the executed notebook is written at the end whatever ended it (saves are no longer made after each cell)
    assert _outputs(failed)[-1][1][0]["ename"] == "RuntimeError"
    for res in (slow, dead):
        ran = [count for count, _ in _outputs(res)]
        assert ran[:2] == [1, 2], f"{res.error}: the cells run before the end are in the executed notebook"


@pytest.mark.slow
def test_the_executed_notebook_is_saved_when_it_starts_and_ends_not_per_cell(nb, tmp_path, monkeypatch):
    import papermill.engines

    saves = []
    real = papermill.engines.write_ipynb
    monkeypatch.setattr(papermill.engines, "write_ipynb", lambda nb, path: saves.append(path) or real(nb, path))
    pool = KernelPool()
    pool.more = False
    try:
        res = _run(nb, tmp_path / "r", pool)
    finally:
        pool.close()
    assert res.status == "ok", res.error
    assert len(nbformat.read(str(next(res.folder.glob("*.ipynb"))), as_version=4).cells) >= 4
    assert len(saves) == 2, "one save when execution starts, one when it ends"


@pytest.mark.slow
def test_batches_in_turn_and_in_processes_stop_every_kernel(nb, tmp_path, monkeypatch):
    import psutil

    def kernels():  # this test's kernels: started in its own working folder
        return {
            p.pid
            for p in psutil.process_iter(["cmdline", "cwd"])
            if "marksell.reporting.warm_kernel" in " ".join(p.info["cmdline"] or []) and p.info["cwd"] == str(tmp_path)
        }

    monkeypatch.chdir(tmp_path)
    for jobs in (1, 2):
        specs = [
            runner.RunSpec(
                notebook=str(nb),
                label=f"j{jobs}-{i}",
                reports_dir=str(tmp_path / "r"),
                parameters={"mode": "set" if i == 0 else "ok"},
            )
            for i in range(3)
        ]
        results = batch.run_batch(specs, jobs=jobs, out=open("/dev/null", "w"))  # noqa: SIM115
        assert [r.status for r in results] == ["ok"] * 3
        assert not any(_summary(r)["leaked"] for r in results)
    assert not kernels(), "no kernel left running"


@pytest.mark.slow
def test_marksell_run_starts_one_warm_kernel_and_stops_it(nb, tmp_path, monkeypatch, capsys):
    import psutil

    from marksell.reporting import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", str(nb), "--reports-dir", str(tmp_path / "r")]) == cli.EXIT_OK
    (folder,) = (tmp_path / "r").glob("20*/toy")
    assert json.loads((folder / "summary.json").read_text())["warm"], "the kernel was started with the stack imported"
    assert json.loads((folder / "run.json").read_text())["status"] == "ok"
    left = [
        p.pid
        for p in psutil.process_iter(["cmdline", "cwd"])
        if "marksell.reporting.warm_kernel" in " ".join(p.info["cmdline"] or []) and p.info["cwd"] == str(tmp_path)
    ]
    assert not left, "no kernel left running"


def _files(folder) -> dict:
    """A run's result files as bytes, and the executed notebook's outputs without papermill's timings."""
    out = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".csv", ".json") and p.name != "run.json"}
    executed = nbformat.read(str(next(folder.glob("*.ipynb"))), as_version=4)
    out["outputs"] = [(c.get("execution_count"), c.get("outputs")) for c in executed.cells if c.cell_type == "code"]
    return out


@pytest.fixture
def users_threads(monkeypatch):
    """Thread counts as a user has them: none of the limits this suite's runs may set (e.g. OMP_NUM_THREADS=1)."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ["customer_segmentation", "sales_forecasting"])
def test_sample_notebooks_write_the_same_files_on_a_warm_kernel_as_on_a_cold_one(notebook, tmp_path, users_threads):
    cold = runner.run(runner.RunSpec(notebook=notebook, reports_dir=str(tmp_path / "cold")))
    pool = KernelPool()
    pool.more = False
    try:
        warm = runner.run(runner.RunSpec(notebook=notebook, reports_dir=str(tmp_path / "warm")), kernels=pool)
    finally:
        pool.close()
    assert cold.status == warm.status == "ok", (cold.error, warm.error)
    a, b = _files(cold.folder), _files(warm.folder)
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == [], "summary.json, every CSV and every output identical"


@pytest.mark.slow
def test_a_parallel_batch_writes_the_same_files_as_one_in_turn(tmp_path, users_threads):
    """--jobs changes where runs go, not what they find: a parallel batch caps the forecast's n_jobs, and any
    thread count that followed --jobs (BLAS, OpenMP: the segmentation's k-means inertia depends on it in the last
    digits) would show here."""
    files = {}
    for jobs in (1, 2):
        specs = [
            runner.RunSpec(notebook=n, reports_dir=str(tmp_path / f"jobs{jobs}"))
            for n in ("customer_segmentation", "sales_forecasting")
        ]
        results = batch.run_batch(specs, jobs=jobs, out=io.StringIO())
        assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
        files[jobs] = {r.name: _files(r.folder) for r in results}
    assert sorted(files[1]) == sorted(files[2])
    for name, one in files[1].items():
        two = files[2][name]
        assert sorted(one) == sorted(two)
        assert [k for k in one if one[k] != two[k]] == [], f"{name}: summary.json, every CSV and every output identical"


def test_closing_a_kernel_after_an_interrupt_prints_no_task_traceback():
    """Ctrl-C leaves the notebook client's cell task pending on the loop; the kernel's shutdown runs that loop
    again. Without care the task wakes to a dead kernel and Python prints "Task exception was never retrieved"
    with a DeadKernelError traceback (seen in a CI run of test_ctrl_c_prints_no_kernel_traceback_and_leaves_nothing)."""
    import asyncio
    import contextlib
    import gc
    from types import SimpleNamespace

    from jupyter_core.utils import ensure_event_loop

    from marksell.reporting.kernel import Kernel

    loop = ensure_event_loop()
    reported = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context["message"]))
    shut = []

    async def cell():
        await asyncio.sleep(0)
        raise RuntimeError("Kernel died")

    async def shutdown_kernel(now=False):
        await asyncio.sleep(0.01)
        shut.append(now)

    try:
        task = loop.create_task(cell())  # what the interrupt leaves behind
        kernel = Kernel.__new__(Kernel)
        kernel.manager = SimpleNamespace(has_kernel=True, shutdown_kernel=shutdown_kernel)
        kernel._folder = contextlib.ExitStack()
        kernel.close()
        assert shut == [True] and task.cancelled()
        del task
        gc.collect()
        assert reported == []
    finally:
        loop.set_exception_handler(previous)


INTERRUPTED_RUN = """
import asyncio, os, signal, sys, threading, time
from pathlib import Path

import nbclient.client as nc
from jupyter_core.utils import run_sync

from marksell.reporting import runner
from marksell.reporting.kernel import KernelPool

folder, pooled = Path(sys.argv[1]), sys.argv[2] == "pooled"
cleanup = nc.NotebookClient._async_cleanup_kernel


async def slow_cleanup(self):  # the kernel is gone while the client's cleanup still runs the loop
    await self.km.shutdown_kernel(now=True)
    await asyncio.sleep(3)  # the cell's task, if still pending, polls the kernel meanwhile (every second)
    await cleanup(self)


nc.NotebookClient._async_cleanup_kernel = slow_cleanup
nc.NotebookClient._cleanup_kernel = run_sync(slow_cleanup)


def ctrl_c():
    while not list((folder / "r" / ".tmp").glob("sleepy-*/*.ipynb")):
        time.sleep(0.2)
    time.sleep(4)  # the sleeping cell runs
    os.kill(os.getpid(), signal.SIGINT)


threading.Thread(target=ctrl_c, daemon=True).start()
pool = KernelPool(fork=False) if pooled else None
try:
    runner.run(runner.RunSpec(notebook=str(folder / "sleepy.ipynb"), reports_dir=str(folder / "r")), kernels=pool)
except KeyboardInterrupt:
    print("interrupted", flush=True)
finally:
    if pool is not None:
        pool.close()
"""


@pytest.mark.slow
@pytest.mark.parametrize("kernels", ["pooled", "own"])
def test_an_interrupted_cell_ends_quietly_even_when_the_kernel_cleanup_outlasts_a_poll(kernels, toy_notebook, tmp_path):
    """The notebook client's own kernel cleanup runs the loop before Kernel.close can settle the cell an
    interrupt left pending: a cleanup of more than a second let that task find the kernel dead and Python printed
    "Task exception was never retrieved" with a DeadKernelError traceback (a CI run of
    test_ctrl_c_prints_no_kernel_traceback_and_leaves_nothing). The cleanup is slowed here to make that race
    certain; the client now settles the cell before cleaning up, on a pool's kernel and on its own."""
    toy_notebook('seconds: float = 60.0\nartifacts_dir: str = ""', "import time\ntime.sleep(seconds)", stem="sleepy")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_RUN, str(tmp_path), kernels], capture_output=True, text=True, timeout=240, env=env
    )
    assert proc.stdout.strip() == "interrupted", (proc.stdout, proc.stderr)
    for noise in ("Traceback", "never retrieved", "Kernel died"):
        assert noise not in proc.stderr, proc.stderr
    assert not list((tmp_path / "r").glob("20*/*")), "no report of the interrupted run"


@pytest.mark.slow
def test_a_batch_forks_its_kernels_from_one_server_each_with_fresh_random_seeds(toy_notebook, tmp_path):
    import psutil

    from marksell.reporting.forkserver import ForkedProcess, ForkServer

    if not ForkServer.available():
        pytest.skip("no pidfds on this platform: kernels are started as processes")
    nb = toy_notebook(
        'artifacts_dir: str = ""',
        "import os, random, numpy as np\nfrom marksell.reporting.artifacts import Artifacts\n"
        'Artifacts(artifacts_dir).save_json({"ppid": os.getppid(), "draws": [random.random(), np.random.random()], '
        '"jpy": os.environ.get("JPY_PARENT_PID")}, "summary.json")',
    )
    pool = KernelPool()
    try:
        first = _run(nb, tmp_path / "r", pool)
        server = pool._server  # noqa: SLF001 - the test checks the pool's fork server
        assert isinstance(pool._spare.manager.provisioner.process, ForkedProcess)  # noqa: SLF001
        second = _run(nb, tmp_path / "r", pool)
    finally:
        pool.close()
    assert first.status == second.status == "ok", (first.error, second.error)
    a, b = _summary(first), _summary(second)
    assert a["ppid"] == b["ppid"] == server._proc.pid, "both kernels are children of the pool's fork server"  # noqa: SLF001
    assert a["draws"][0] != b["draws"][0] and a["draws"][1] != b["draws"][1], "each kernel seeds afresh"
    assert a["jpy"] == b["jpy"] == str(os.getpid()), "the kernel's environment names its manager, as for a started one"
    assert server._proc.poll() is not None and not psutil.pid_exists(server._proc.pid), "close stops the server"  # noqa: SLF001


@pytest.mark.slow
def test_a_pool_without_fork_starts_each_kernel_as_a_process(nb, tmp_path):
    import subprocess

    pool = KernelPool(fork=False)
    pool.more = False
    try:
        kernel = pool.take()
        assert isinstance(kernel.manager.provisioner.process, subprocess.Popen) and pool._server is None  # noqa: SLF001
        kernel.close()
    finally:
        pool.close()


@pytest.fixture
def server_spy(monkeypatch):
    """The fork servers a batch starts, and whether each ran while the batch's checks ran."""
    from marksell.reporting.forkserver import ForkServer

    if not ForkServer.available():
        pytest.skip("no pidfds on this platform: kernels are started as processes")
    started, running_during_checks = [], []
    early, prepare = batch.early_fork_server, runner.prepare

    def spy_server(shared):
        server = early(shared)
        started.append(server)
        return server

    def spy_prepare(spec):
        running_during_checks.append(bool(started) and started[0] is not None and started[0].running())
        return prepare(spec)

    monkeypatch.setattr(batch, "early_fork_server", spy_server)
    monkeypatch.setattr(runner, "prepare", spy_prepare)
    return started, running_during_checks


def test_a_parallel_batch_forks_every_kernel_from_one_server_started_before_the_checks(toy_notebook, tmp_path, server_spy):
    import psutil

    if batch._WORKER_CONTEXT.get_start_method() != "fork":  # noqa: SLF001
        pytest.skip("workers are not forked here: each starts its own server")
    started, running_during_checks = server_spy
    nb = toy_notebook(
        'artifacts_dir: str = ""',
        "import os, time\nfrom marksell.reporting.artifacts import Artifacts\ntime.sleep(0.5)\n"
        'Artifacts(artifacts_dir).save_json({"ppid": os.getppid(), "jpy": os.environ["JPY_PARENT_PID"]}, "summary.json")',
    )
    specs = [runner.RunSpec(notebook=str(nb), label=f"r{i}", reports_dir=str(tmp_path / "r")) for i in range(4)]
    results = batch.run_batch(specs, jobs=2, out=io.StringIO())
    assert [r.status for r in results] == ["ok"] * 4, [r.error for r in results]
    (server,) = started
    assert server.shared and running_during_checks == [True] * 4, "the server imports while the checks run"
    summaries = [_summary(r) for r in results]
    assert {s["ppid"] for s in summaries} == {server._proc.pid}, "every kernel is a child of the batch's server"  # noqa: SLF001
    managers = {int(s["jpy"]) for s in summaries}
    assert len(managers) == 2 and os.getpid() not in managers, "both workers forked kernels from it"
    assert not psutil.pid_exists(server._proc.pid), "the batch stops its server"  # noqa: SLF001


def test_a_batch_whose_checks_fail_stops_its_fork_server_at_once(toy_notebook, tmp_path, server_spy):
    import psutil

    from marksell.errors import ParameterError

    started, _ = server_spy
    nb = toy_notebook('artifacts_dir: str = ""', "print('never runs')")
    specs = [runner.RunSpec(notebook=str(nb), reports_dir=str(tmp_path / "r"), parameters={"nope": 1})]
    for jobs in (1, 2):
        specs = specs * jobs
        with pytest.raises(ParameterError, match="nope"):
            batch.run_batch(specs, jobs=jobs, out=io.StringIO())
        server = started[-1]
        if server is not None:
            assert server._proc.returncode is not None and not psutil.pid_exists(server._proc.pid)  # noqa: SLF001
    assert started[0] is not None, "a batch in turn starts its server before the checks"
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir()), "nothing filed"

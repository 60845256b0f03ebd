"""Issue 19 attacks through the ``marksell`` command, as a hostile or careless user would try them: each ends
with the documented exit code and a message naming the problem, files nothing it should not, and runs no code
from parameters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

MARKSELL = str(Path(sys.executable).with_name("marksell"))
EXPLOIT = "price > 0 and @pd.io.common.os.system('id > f') == 0"

TOY_PARAMS = """x: int = 3  # a number
label_text: str = "toy"  # shown
n_jobs: int = 1  # workers
discount_rate: float = 0.1  # a rate
artifacts_dir: str = ""  # set by the runner"""


def cli(*args, cwd: Path, timeout: float = 120, stdin=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [MARKSELL, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, stdin=stdin
    )


def filed(reports: Path) -> list[Path]:
    """Run folders under ``reports/<day>/`` (what a run files)."""
    if not reports.exists():
        return []
    return [p for day in reports.iterdir() if day.is_dir() and day.name[:2] == "20" for p in day.iterdir()]


TOY_BODY = "print(x * 2, n_jobs)"


# ----------------------------------------------------------------------------- code from parameters
def test_query_exploit_from_the_issue_exits_2_and_runs_nothing(tmp_path):
    res = cli("run", "pricing_elasticity", "-p", "query", EXPLOIT, "--reports-dir", tmp_path / "reports", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "'@'" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "f").exists() and filed(tmp_path / "reports") == []


def test_derive_exploit_in_a_batch_file_exits_2_and_runs_nothing(tmp_path):
    (tmp_path / "batch.yaml").write_text(
        "runs:\n  - notebook: pricing_elasticity\n    parameters:\n"
        "      derive: {real_price: \"__import__('os').system('touch g') or price\"}\n"
        "  - notebook: pricing_elasticity\n    parameters:\n"
        '      derive: {ok: "price / 2"}\n      query: "units >= 0 and price.__class__ == 1"\n'
    )
    res = cli("report", "--config", "batch.yaml", "--reports-dir", tmp_path / "reports", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "derive 'real_price'" in res.stderr and "'.'" in res.stderr
    assert not (tmp_path / "g").exists() and filed(tmp_path / "reports") == []


# ----------------------------------------------------------------------------- values checked before a kernel
@pytest.mark.parametrize(
    "args, message",
    [
        (["customer_segmentation", "-p", "discount_rate", "nan"], "'discount_rate' is nan"),
        (["customer_segmentation", "-p", "gross_margin", "inf"], "'gross_margin' is inf"),
        (["customer_segmentation", "-p", "discount_rate", "-0.5"], "'discount_rate' is -0.5"),
        (["opportunity_prioritisation", "-p", "n_draws", "1000000000"], "--allow-large-work"),
        (["opportunity_prioritisation", "-p", "concentration", "-1"], "'concentration' is -1"),
        (["opportunity_prioritisation", "-p", "criteria", "{price: {weight: .nan}}"], "'criteria.price.weight' is nan"),
        (["sales_forecasting", "-p", "season_length", "100000"], "'season_length' is 100,000"),
        (["customer_segmentation", "--label", "q3\n"], "label"),
        (["customer_segmentation", "--cell-timeout", "-1"], "--cell-timeout"),
        (["customer_segmentation", "--cell-timeout", "0"], "--cell-timeout"),
        (["pricing_elasticity", "-p", "query", "units >= "], "query"),
        (["pricing_elasticity", "-p", "derive", "[price]"], "'derive' must be dict"),
    ],
)
def test_bad_values_exit_2_before_any_kernel(tmp_path, args, message):
    res = cli("run", *args, "--reports-dir", tmp_path / "reports", cwd=tmp_path, timeout=120)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert message in res.stderr and "Traceback" not in res.stderr
    assert filed(tmp_path / "reports") == []


@pytest.mark.parametrize("label", ["5", "[a, b]", "{a: 1}", "true", '"q3\\n"'])
def test_batch_labels_of_the_wrong_type_exit_2_with_a_message(tmp_path, label):
    (tmp_path / "b.yaml").write_text(f"runs:\n  - notebook: kpi_scorecard\n    label: {label}\n")
    res = cli("report", "--config", "b.yaml", "--reports-dir", tmp_path / "reports", cwd=tmp_path, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "label" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "body, jobs, message",
    [
        ("runs:\n  - notebook: kpi_scorecard\n    label: 5\n", 1, "label"),  # the batch file (before run_batch)
        ("runs:\n  - notebook: kpi_scorecard\n    parameters: {nope: 1}\n", 2, "nope"),  # a run's checks
    ],
)
def test_a_batch_that_fails_its_checks_leaves_no_fork_server(tmp_path, body, jobs, message):
    import psutil

    (tmp_path / "b.yaml").write_text(body)
    res = cli("report", "--config", "b.yaml", "--jobs", jobs, "--reports-dir", tmp_path / "reports", cwd=tmp_path)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr, res.stderr
    left = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        if "--fork-server" in (proc.info["cmdline"] or []) and proc.info["cwd"] == str(tmp_path):
            left.append(proc.pid)
    assert left == [], "the server started before the checks is stopped with them"
    assert filed(tmp_path / "reports") == []


@pytest.mark.parametrize(
    "body, message",
    [
        ("cell_timeout: -1\nruns: [kpi_scorecard]\n", "cell_timeout"),
        ("cell_timeout: abc\nruns: [kpi_scorecard]\n", "cell_timeout"),
        ("allow_large_work: maybe\nruns: [kpi_scorecard]\n", "allow_large_work"),
        ("runs: [kpi_scorecard]\nextra: 1\n", "extra"),
    ],
)
def test_batch_settings_are_checked(tmp_path, body, message):
    (tmp_path / "b.yaml").write_text(body)
    res = cli("report", "--config", "b.yaml", "--reports-dir", tmp_path / "reports", cwd=tmp_path, timeout=120)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr


# ----------------------------------------------------------------------------- resource bombs
ALIAS_BOMB = "\n".join(
    ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
)


def test_yaml_alias_bombs_are_refused_quickly(tmp_path):
    (tmp_path / "p.yaml").write_text("columns:\n  " + ALIAS_BOMB.replace("\n", "\n  ") + "\n")
    res = cli("run", "customer_segmentation", "-f", "p.yaml", "--reports-dir", tmp_path / "r", cwd=tmp_path, timeout=120)
    assert res.returncode == 2 and "aliases" in res.stderr
    res = cli(
        "run",
        "customer_segmentation",
        "-p",
        "columns",
        "{a: &a [x, x], b: [*a, *a]}",
        "--reports-dir",
        tmp_path / "r",
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 2 and "aliases" in res.stderr
    (tmp_path / "b.yaml").write_text(ALIAS_BOMB + "\nruns: [kpi_scorecard]\n")
    res = cli("report", "--config", "b.yaml", "--reports-dir", tmp_path / "r", cwd=tmp_path, timeout=120)
    assert res.returncode == 2 and "aliases" in res.stderr


def test_a_fifo_as_input_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "orders.csv")
    res = cli(
        "run",
        "customer_segmentation",
        "-p",
        "transactions_path",
        "orders.csv",
        "--reports-dir",
        tmp_path / "r",
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 2 and "not a regular file" in res.stderr, res.stderr
    assert filed(tmp_path / "r") == []


@pytest.mark.slow
def test_workers_are_capped_at_the_cores_and_say_so(tmp_path, toy_notebook):
    toy = toy_notebook(TOY_PARAMS, TOY_BODY)
    (tmp_path / "b.yaml").write_text(
        f"runs:\n  - {{notebook: {toy}, label: a}}\n  - {{notebook: {toy}, label: b}}\n"
        f"  - {{notebook: {toy}, label: c, parameters: {{n_jobs: 64}}}}\n"
    )
    res = cli("report", "--config", "b.yaml", "--jobs", "100000", "--reports-dir", tmp_path / "r", cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    cores = len(os.sched_getaffinity(0))
    out = res.stdout + res.stderr
    assert f"--jobs 100000 capped at {cores}" in out
    assert f"n_jobs 64 capped at {cores}" in out
    assert len(filed(tmp_path / "r")) == 3


# ----------------------------------------------------------------------------- finished work kept
def test_out_that_is_a_symlink_or_not_empty_is_refused_before_the_kernel(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    res = cli("run", "kpi_scorecard", "--out", "link", cwd=tmp_path, timeout=120)
    assert res.returncode == 2 and "symlink" in res.stderr, res.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep")
    res = cli("run", "kpi_scorecard", "--out", "full", cwd=tmp_path, timeout=120)
    assert res.returncode == 2 and "not empty" in res.stderr
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep"


def test_read_only_reports_folder_is_refused_before_the_kernel(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    reports.chmod(0o555)
    try:
        if os.access(reports, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        res = cli("run", "kpi_scorecard", "--reports-dir", reports, cwd=tmp_path, timeout=120)
        assert res.returncode == 2 and "cannot write" in res.stderr, res.stderr
    finally:
        reports.chmod(0o755)


# ----------------------------------------------------------------------------- the index
def test_index_skips_and_lists_bad_run_records_without_blocking(tmp_path):
    reports = tmp_path / "reports"
    day = reports / "2026-01-02"
    good = {
        "notebook": "kpi_scorecard",
        "status": "ok",
        "duration_s": 1.0,
        "parameters": {},
        "overrides": {},
        "started": "2026-01-02T10:00:00+01:00",
        "label": None,
        "error": None,
        "inputs": [],
    }
    for name, record in {
        "good": good,
        "fast": {**good, "duration_s": "fast"},
        "strparams": {**good, "overrides": "str", "parameters": "str"},
    }.items():
        (day / name).mkdir(parents=True)
        (day / name / "run.json").write_text(json.dumps(record))
    (day / "dir" / "run.json").mkdir(parents=True)
    (day / "fifo").mkdir()
    os.mkfifo(day / "fifo" / "run.json")
    outside = tmp_path / "elsewhere"
    (outside / "x").mkdir(parents=True)
    (outside / "x" / "run.json").write_text(json.dumps(good))
    (day / "escape").symlink_to(outside / "x")
    (reports / "2026-01-03").symlink_to(outside)
    res = cli("index", "--reports-dir", reports, cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr
    index = json.loads((reports / "index.json").read_text())
    assert [r["folder"] for r in index] == ["2026-01-02/good"]
    for word in ("fast", "strparams", "dir/run.json", "fifo/run.json", "escape", "2026-01-03"):
        assert word in res.stderr, (word, res.stderr)


# ----------------------------------------------------------------------------- sample data never overwrites
def test_sample_data_never_overwrites_a_users_files_without_force(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "transactions.csv").write_text("customer_id,order_date,revenue\nc1,2025-01-01,5\n")
    res = cli("sample-data", "--out", out, cwd=tmp_path, timeout=300)
    assert res.returncode == 2 and "transactions.csv" in res.stderr and "--force" in res.stderr, res.stderr
    assert (out / "transactions.csv").read_text().startswith("customer_id,order_date,revenue\nc1,")
    assert sorted(p.name for p in out.iterdir()) == ["transactions.csv"]
    res = cli("sample-data", "--out", out, "--force", cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    assert len((out / "transactions.csv").read_text().splitlines()) > 100
    res = cli("sample-data", "--out", out, cwd=tmp_path, timeout=300)  # the same files again: nothing lost
    assert res.returncode == 0, res.stderr


def test_marksell_command_is_installed():
    assert shutil.which(MARKSELL), MARKSELL


def sleepy_notebook(folder: Path) -> None:
    """``sleepy.ipynb`` in ``folder``: prints 'started', then sleeps ``seconds`` (60 by default)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('seconds: float = 60.0  # how long to sleep\nartifacts_dir: str = ""  # runner')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import time\nprint('started', flush=True)\ntime.sleep(seconds)")]
    nbformat.write(nb, str(folder / "sleepy.ipynb"))


def foreground(*args, cwd: Path) -> subprocess.Popen:
    """``marksell args`` started as a terminal's foreground job: its own process group, which Ctrl-C
    (``os.killpg(proc.pid, SIGINT)``) reaches whole, with SIGINT at its default even if ours ignores it."""
    import signal

    return subprocess.Popen(
        [MARKSELL, *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.slow
def test_ctrl_c_prints_no_kernel_traceback_and_leaves_nothing(tmp_path):
    import signal
    import time

    sleepy_notebook(tmp_path)
    reports = tmp_path / "r"
    proc = foreground("run", "sleepy.ipynb", "--reports-dir", reports, cwd=tmp_path)
    deadline = time.time() + 180
    while time.time() < deadline and not list((reports / ".tmp").glob("sleepy-*/*.ipynb")):
        time.sleep(0.5)
    time.sleep(8)  # let the kernel start executing
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group, kernel included
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    for noise in ("Traceback", "ZMQError", "IPKernelApp", "KeyboardInterrupt caught"):
        assert noise not in err, err
    assert filed(reports) == [] and list((reports / ".tmp").iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_stops_a_parallel_batch_and_every_forked_kernel(tmp_path):
    import signal
    import time

    import psutil

    sleepy_notebook(tmp_path)
    (tmp_path / "batch.yaml").write_text("runs:\n" + "".join(f"  - notebook: sleepy.ipynb\n    label: s{i}\n" for i in range(3)))
    reports = tmp_path / "r"
    proc = foreground("report", "--config", "batch.yaml", "--jobs", 2, "--reports-dir", reports, cwd=tmp_path)
    deadline = time.time() + 180
    while time.time() < deadline and len(list((reports / ".tmp").glob("sleepy-*/*.ipynb"))) < 2:
        time.sleep(0.5)
    time.sleep(8)  # let both kernels start executing
    descendants = psutil.Process(proc.pid).children(recursive=True)
    kernels = [p for p in descendants if "marksell.reporting.warm_kernel" in " ".join(p.cmdline())]
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    for noise in ("Traceback", "ZMQError", "IPKernelApp", "KeyboardInterrupt caught", "Task exception"):
        assert noise not in err, err
    assert len(kernels) >= 3, "the fork server and two forked kernels ran"
    psutil.wait_procs(kernels, timeout=30)
    assert not [p for p in kernels if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "none left running"
    assert filed(reports) == [] and list((reports / ".tmp").iterdir()) == []

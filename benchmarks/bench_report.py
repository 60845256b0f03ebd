"""Benchmark the report pipeline: where the time of ``make report`` goes, and parallel batches.

Breakdown per notebook: environment check (import of the stack in a fresh interpreter), kernel start
and teardown (papermill on a one-cell notebook), computation (execution minus that overhead) and HTML export.
The fixed overhead per notebook in a batch (kernel start, imports, recording, rendering, index): a batch of
notebooks that import what the analyses import and then compute for a fixed time, minus that time; marksell's
batch (a fresh kernel per notebook, forked from a server with the stack imported, the next one started during
the current run) against the reference of a kernel started by each run, in the same run; wall time, and CPU time of
this process and its children less the busy loop's own CPU (steadier on a shared machine). Then the speed-up of
``--jobs 2`` over ``--jobs 1`` for the sample batch (every notebook, with the CPU both used; three rounds that
alternate which goes first, the median of the rounds' ratios, as one pair of runs on a shared machine varies by
a fifth; all file into one reports folder, so ``--jobs 2`` orders its runs by the times recorded before it, as a
user's next batch does) and for a batch of 12 parameterised runs. First, the CPU of a ``marksell`` command's imports in a fresh
interpreter, against the same with rfc3987_syntax's IRI grammars imported (as before marksell deferred them).
The load average at the start and end is printed with the last row.

    python benchmarks/bench_report.py [--scale 1.0]     (scale < 1: one round, 4 instead of 12 runs)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from harness import cli

from marksell.reporting import batch, runner
from marksell.reporting.render import render_html

PARAM_RUN_NOTEBOOK = "opportunity_prioritisation"
OVERHEAD_RUNS = 4
COMPUTE_S = 8.0  # the overhead notebook's computation (a busy loop of fixed length, on one core)
OVERHEAD_IMPORTS = """import pandas as pd
from marksell import plots, segmentation
from marksell.data import load_transactions
from marksell.reporting.artifacts import Artifacts
from marksell.reporting.display import Markdown
from marksell.reporting.tables import table"""


def cpu_s() -> float:
    """CPU seconds of this process and of its finished children (workers, kernels): steadier than wall time on
    a shared machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


PARENT_IMPORTS = (
    "import resource\n{first}from marksell.reporting import batch, briefs, cli, render, runner, workbook\nimport papermill\n"
    "u = resource.getrusage(resource.RUSAGE_SELF)\nprint(u.ru_utime + u.ru_stime)"
)


def parent_imports(repeats: int = 3) -> list[dict]:
    """CPU of what a ``marksell`` command imports before its first run, in a fresh interpreter: as it is, and
    with rfc3987_syntax imported first (its IRI grammars, as before marksell deferred them) as the reference."""

    def cpu(first: str) -> float:
        code = PARENT_IMPORTS.format(first=first)
        return statistics.median(
            float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(repeats)
        )

    ref, now = cpu("import rfc3987_syntax\n"), cpu("")
    rows = [("with IRI grammars (ref)", ref, 1.0), ("marksell", now, now / ref)]
    return [
        {"analysis": "report: parent imports", "size": "fresh interpreter", "impl": impl, "cpu_s": c, "ratio_vs_ref": r}
        for impl, c, r in rows
    ]


def env_check_s() -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import marksell.data.loaders, pandas, statsmodels.api, sklearn, matplotlib"], check=True
    )
    return time.perf_counter() - t0


def kernel_overhead_s(tmp: Path, repeats: int = 3) -> tuple[float, float]:
    import papermill as pm

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("x: int = 1")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("x")]
    src = tmp / "empty.ipynb"
    nbformat.write(nb, str(src))
    execs, renders = [], []
    for i in range(repeats):
        out = tmp / f"empty-out-{i}.ipynb"
        t0 = time.perf_counter()
        pm.execute_notebook(str(src), str(out), parameters={"x": 2}, progress_bar=False, kernel_name="python3")
        execs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        render_html(out, tmp / f"empty-{i}.html", {"notebook": "empty", "status": "ok"})
        renders.append(time.perf_counter() - t0)
    return statistics.median(execs), statistics.median(renders)


def overhead_notebook(tmp: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(f'compute_s: float = {COMPUTE_S}\nartifacts_dir: str = ""')
    params.metadata["tags"] = ["parameters"]
    busy = (
        "import time\nc0, end = time.process_time(), time.perf_counter() + compute_s\n"
        "while time.perf_counter() < end:\n    pass\ncompute_cpu_s = time.process_time() - c0"
    )
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Overhead"),
        params,
        nbformat.v4.new_code_cell(OVERHEAD_IMPORTS),
        nbformat.v4.new_code_cell(busy),
        nbformat.v4.new_code_cell('Artifacts(artifacts_dir).save_json({"compute_cpu_s": compute_cpu_s}, "summary.json")'),
    ]
    path = tmp / "overhead.ipynb"
    nbformat.write(nb, str(path))
    return path


def batch_overhead(tmp: Path) -> list[dict]:
    """Fixed overhead per notebook in a batch of OVERHEAD_RUNS: wall time minus the notebooks' computation,
    marksell's batch (kernel pool) against one kernel started per run (the reference), in this run."""
    src = overhead_notebook(tmp)
    runner.run(runner.RunSpec(notebook=str(src), reports_dir=str(tmp / "warmup")))  # the parent's imports, once

    def specs(name):
        return [runner.RunSpec(notebook=str(src), reports_dir=str(tmp / name)) for _ in range(OVERHEAD_RUNS)]

    def compute_cpu(name):  # the busy loop's own CPU (less than its wall time when the machine is busy)
        return sum(json.loads(f.read_text())["compute_cpu_s"] for f in (tmp / name).glob("*/*/summary.json"))

    t0, c0 = time.perf_counter(), cpu_s()
    for s in specs("cold"):
        runner.run(s)  # reference: each run starts its own kernel
    cold = (time.perf_counter() - t0) / OVERHEAD_RUNS - COMPUTE_S
    cold_cpu = (cpu_s() - c0 - compute_cpu("cold")) / OVERHEAD_RUNS
    t0, c0 = time.perf_counter(), cpu_s()
    batch.run_batch(specs("pool"), jobs=1, out=open("/dev/null", "w"))  # noqa: SIM115
    pooled = (time.perf_counter() - t0) / OVERHEAD_RUNS - COMPUTE_S
    pooled_cpu = (cpu_s() - c0 - compute_cpu("pool")) / OVERHEAD_RUNS
    size = f"{OVERHEAD_RUNS} x imports + {COMPUTE_S:g} s"
    return [
        {
            "analysis": "report: fixed overhead per notebook",
            "size": size,
            "impl": "kernel per run (ref)",
            "wall_s": cold,
            "cpu_s": cold_cpu,
            "ratio_vs_ref": 1.0,
        },
        {
            "analysis": "report: fixed overhead per notebook",
            "size": size,
            "impl": "marksell batch (pool)",
            "wall_s": pooled,
            "cpu_s": pooled_cpu,
            "ratio_vs_ref": pooled / cold,
            "extra": {"target_s": 1.5, "met": pooled < 1.5, "cpu_ratio_vs_ref": round(pooled_cpu / cold_cpu, 3)},
        },
    ]


def sample_batch(reports: Path, rounds: int) -> tuple[dict, dict, list]:
    """Wall and CPU seconds of the sample batch on one process and on two, ``rounds`` times each, alternating
    which goes first (the machine's speed drifts; a round's ratio compares two neighbouring runs), and the
    first ``--jobs 1`` run's results. Every run files into ``reports``, so ``--jobs 2`` orders its runs by the
    times recorded before it, as a user's next batch does."""
    walls, cpus, first = {1: [], 2: []}, {1: [], 2: []}, None
    for i in range(rounds):
        for jobs in (1, 2) if i % 2 == 0 else (2, 1):
            specs = [runner.RunSpec(notebook=n, reports_dir=str(reports)) for n in runner.catalogue()]
            t0, c0 = time.perf_counter(), cpu_s()
            results = batch.run_batch(specs, jobs=jobs, out=open("/dev/null", "w"))  # noqa: SIM115
            walls[jobs].append(time.perf_counter() - t0)
            cpus[jobs].append(cpu_s() - c0)
            first = first or (results if jobs == 1 else None)
    return walls, cpus, first


def main(scale: float = 1.0) -> list[dict]:
    rows = []
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows += parent_imports()
        rows += batch_overhead(tmp)
        env_s = env_check_s()
        kernel_s, render_fixed_s = kernel_overhead_s(tmp)
        rows.append({"analysis": "report: environment check", "size": "import stack", "impl": "marksell", "wall_s": env_s})
        rows.append({"analysis": "report: kernel start+stop", "size": "1-cell notebook", "impl": "papermill", "wall_s": kernel_s})
        rows.append(
            {"analysis": "report: HTML export (fixed)", "size": "1-cell notebook", "impl": "nbconvert", "wall_s": render_fixed_s}
        )

        walls, cpus, results = sample_batch(tmp / "sample", rounds=3 if scale >= 1 else 1)
        for res in results:
            t = res.timings
            compute = max(t.get("execute_s", 0) - kernel_s, 0)
            rows.append(
                {
                    "analysis": f"report: {res.name}",
                    "size": "sample",
                    "impl": f"marksell ({res.status})",
                    "wall_s": res.duration_s + t.get("render_s", 0),
                    "compute_s": compute,
                    "render_s": t.get("render_s"),
                    "overhead_share": (kernel_s + t.get("render_s", 0)) / max(res.duration_s, 1e-9),
                }
            )
        ratios = [w1 / w2 for w1, w2 in zip(walls[1], walls[2], strict=True)]
        for jobs in (1, 2):
            rows.append(
                {
                    "analysis": "report: sample batch",
                    "size": f"{len(results)} notebooks, median of {len(ratios)}",
                    "impl": f"--jobs {jobs}",
                    "wall_s": statistics.median(walls[jobs]),
                    "cpu_s": statistics.median(cpus[jobs]),
                    "ratio_vs_ref": statistics.median(walls[jobs]) / statistics.median(walls[1]),
                }
            )
        speed_up = statistics.median(ratios)
        rows[-1]["extra"] = {
            "speed_up": round(speed_up, 2),
            "per_round": [round(r, 2) for r in ratios],
            "target": 1.7,
            "met": speed_up >= 1.7,
        }

        n_runs = 12 if scale >= 1 else 4
        walls = {}
        for jobs in (1, 2):
            specs = [
                runner.RunSpec(
                    notebook=PARAM_RUN_NOTEBOOK, parameters={"seed": i}, label=f"run{i:02d}", reports_dir=str(tmp / f"many{jobs}")
                )
                for i in range(n_runs)
            ]
            t0 = time.perf_counter()
            batch.run_batch(specs, jobs=jobs, out=open("/dev/null", "w"))
            walls[jobs] = time.perf_counter() - t0
        for jobs in (1, 2):
            rows.append(
                {
                    "analysis": "report: parameterised batch",
                    "size": f"{n_runs} x {PARAM_RUN_NOTEBOOK}",
                    "impl": f"--jobs {jobs}",
                    "wall_s": walls[jobs],
                    "ratio_vs_ref": walls[jobs] / walls[1],
                }
            )
    rows[-1].setdefault("extra", {})["load_average"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    return rows


if __name__ == "__main__":
    cli(main, "report", __doc__)

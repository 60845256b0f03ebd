"""Benchmark the report pipeline: where the time of ``make report`` goes, and parallel batches.

Breakdown per notebook: environment check (import of the stack in a fresh interpreter), kernel start
and teardown (papermill on a one-cell notebook), computation (execution minus that overhead) and HTML export.
The fixed overhead per notebook in a batch (kernel start, imports, recording, rendering, index): a batch of
notebooks that import what the analyses import and then compute for a fixed time, minus that time; marksell's
batch (a fresh kernel per notebook from a pool that starts the next one during the current run, stack
imported) against the reference of a kernel started by each run, in the same run. Then the speed-up of
``--jobs 2`` over ``--jobs 1`` for the sample batch (every notebook) and for a batch of 12 parameterised runs.

    python benchmarks/bench_report.py [--scale 1.0]     (scale < 1 runs 4 instead of 12 runs)
"""

from __future__ import annotations

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
    busy = "import time\nend = time.perf_counter() + compute_s\nwhile time.perf_counter() < end:\n    pass"
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Overhead"),
        params,
        nbformat.v4.new_code_cell(OVERHEAD_IMPORTS),
        nbformat.v4.new_code_cell(busy),
        nbformat.v4.new_code_cell('Artifacts(artifacts_dir).save_json({"done": True}, "summary.json")'),
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

    t0 = time.perf_counter()
    for s in specs("cold"):
        runner.run(s)  # reference: each run starts its own kernel
    cold = (time.perf_counter() - t0) / OVERHEAD_RUNS - COMPUTE_S
    t0 = time.perf_counter()
    batch.run_batch(specs("pool"), jobs=1, out=open("/dev/null", "w"))  # noqa: SIM115
    pooled = (time.perf_counter() - t0) / OVERHEAD_RUNS - COMPUTE_S
    size = f"{OVERHEAD_RUNS} x imports + {COMPUTE_S:g} s"
    return [
        {
            "analysis": "report: fixed overhead per notebook",
            "size": size,
            "impl": "kernel per run (ref)",
            "wall_s": cold,
            "ratio_vs_ref": 1.0,
        },
        {
            "analysis": "report: fixed overhead per notebook",
            "size": size,
            "impl": "marksell batch (pool)",
            "wall_s": pooled,
            "ratio_vs_ref": pooled / cold,
            "extra": {"target_s": 1.5, "met": pooled < 1.5},
        },
    ]


def main(scale: float = 1.0) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows += batch_overhead(tmp)
        env_s = env_check_s()
        kernel_s, render_fixed_s = kernel_overhead_s(tmp)
        rows.append({"analysis": "report: environment check", "size": "import stack", "impl": "marksell", "wall_s": env_s})
        rows.append({"analysis": "report: kernel start+stop", "size": "1-cell notebook", "impl": "papermill", "wall_s": kernel_s})
        rows.append(
            {"analysis": "report: HTML export (fixed)", "size": "1-cell notebook", "impl": "nbconvert", "wall_s": render_fixed_s}
        )

        specs = [runner.RunSpec(notebook=n, reports_dir=str(tmp / "serial")) for n in runner.catalogue()]
        t0 = time.perf_counter()
        results = batch.run_batch(specs, jobs=1, out=open("/dev/null", "w"))
        serial_s = time.perf_counter() - t0
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
        specs = [runner.RunSpec(notebook=n, reports_dir=str(tmp / "parallel")) for n in runner.catalogue()]
        t0 = time.perf_counter()
        batch.run_batch(specs, jobs=2, out=open("/dev/null", "w"))
        parallel_s = time.perf_counter() - t0
        rows.append(
            {
                "analysis": "report: sample batch",
                "size": f"{len(specs)} notebooks",
                "impl": "--jobs 1",
                "wall_s": serial_s,
                "ratio_vs_ref": 1.0,
            }
        )
        rows.append(
            {
                "analysis": "report: sample batch",
                "size": f"{len(specs)} notebooks",
                "impl": "--jobs 2",
                "wall_s": parallel_s,
                "ratio_vs_ref": parallel_s / serial_s,
                "extra": {"speed_up": round(serial_s / parallel_s, 2), "target": 1.7, "met": serial_s / parallel_s >= 1.7},
            }
        )

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
    return rows


if __name__ == "__main__":
    cli(main, "report", __doc__)

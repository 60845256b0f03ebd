"""Run a batch of notebooks: every notebook on the sample data, or the runs of a YAML config.

Every run's parameters are validated before the first kernel starts. Runs go one after
another, in parallel processes (``jobs``), or on a Dask distributed cluster (``scheduler``).
A failing run never stops the batch; the summary lists ok / failed / duration per run.

Config file (``reports.yaml``)::

    cell_timeout: 600            # optional, seconds per cell
    runs:
      - notebook: customer_segmentation
        label: north             # optional: folder suffix
        parameters: {n_clusters: 4}
      - notebook: kpi_scorecard
"""

from __future__ import annotations

import io
import shutil
import sys
import tarfile
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from marksell.reporting import index, runner
from marksell.errors import ParameterError
from marksell.reporting.parameters import load_yaml_parameters
from marksell.paths import REPORTS_DIR


def specs_from_config(path: str | Path | None, reports_dir: str | None = None) -> list[runner.RunSpec]:
    """Run specifications from a config file, or one default run per catalogued notebook."""
    if path is None:
        return [runner.RunSpec(notebook=name, reports_dir=reports_dir) for name in runner.catalogue()]
    cfg = load_yaml_parameters(path)
    runs = cfg.get("runs")
    if not isinstance(runs, list) or not runs:
        raise ParameterError(f"{path}: expected a list under 'runs' (see `marksell report --help`)")
    timeout = cfg.get("cell_timeout", runner.DEFAULT_CELL_TIMEOUT)
    specs = []
    for i, item in enumerate(runs, 1):
        if isinstance(item, str):
            item = {"notebook": item}
        if not isinstance(item, dict) or "notebook" not in item:
            raise ParameterError(f"{path}: run {i} needs a 'notebook' name")
        unknown = set(item) - {"notebook", "label", "parameters"}
        if unknown:
            raise ParameterError(f"{path}: run {i} has unknown key(s) {sorted(unknown)}; "
                                 "allowed: notebook, label, parameters")
        params = item.get("parameters") or {}
        if not isinstance(params, dict):
            raise ParameterError(f"{path}: run {i}: 'parameters' must be a mapping")
        specs.append(runner.RunSpec(notebook=str(item["notebook"]), parameters=params,
                                    label=item.get("label"), reports_dir=reports_dir, cell_timeout=int(timeout)))
    return specs


def run_batch(specs: list[runner.RunSpec], jobs: int = 1, scheduler: str | None = None,
              out=None) -> list[runner.RunResult]:
    """Validate every spec, run them all, rebuild the index after each, print a summary."""
    out = out or sys.stdout
    for s in specs:  # all parameters checked before any kernel starts
        runner.prepare(s)
    reports = Path(specs[0].reports_dir) if specs and specs[0].reports_dir else REPORTS_DIR
    n = len(specs)
    t0 = time.perf_counter()
    results: list[runner.RunResult] = []
    print(f"marksell: running {n} notebook(s)" + (f" on {jobs} processes" if jobs > 1 else "")
          + (f" on the Dask cluster at {scheduler}" if scheduler else ""), file=out, flush=True)

    def done(res: runner.RunResult):
        results.append(res)
        index.build_index(reports)
        print(f"[{len(results)}/{n}] {res.name:<28} {res.status:<6} {res.duration_s:7.1f} s"
              + (f"  {res.error}" if res.error else ""), file=out, flush=True)

    if scheduler:
        _run_on_dask(specs, scheduler, reports, done)
    elif jobs > 1 and n > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(runner.run, s) for s in specs]
            for f in as_completed(futures):
                done(f.result())
    else:
        for s in specs:
            done(runner.run(s))
    ok = sum(r.status == "ok" for r in results)
    print(f"marksell: {ok} ok, {n - ok} failed in {time.perf_counter() - t0:.1f} s; "
          f"index: {reports / 'index.html'}", file=out, flush=True)
    return results


# ----------------------------------------------------------------------------- Dask


def _run_packed(spec_fields: dict) -> tuple[dict, bytes]:
    """On a worker: run into a private folder and return the outcome and the folder as a tar."""
    tmp = Path(tempfile.mkdtemp(prefix="marksell-worker-"))
    try:
        spec = runner.RunSpec(**{**spec_fields, "out": str(tmp / "run"), "reports_dir": str(tmp)})
        res = runner.run(spec)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(res.folder, arcname="run")
        return {"name": res.name, "status": res.status, "duration_s": res.duration_s, "error": res.error,
                "timings": res.timings}, buf.getvalue()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _unpack(payload: bytes, reports: Path, spec: runner.RunSpec, started_day: str) -> Path:
    tmp = reports / ".tmp" / f"dask-{uuid.uuid4().hex[:12]}"
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")  # refuses absolute paths and links out of tmp
        base = runner.notebook_name(runner.resolve_notebook(spec.notebook)) + (f"-{spec.label}" if spec.label else "")
        return runner.claim_folder(tmp / "run", reports / started_day, base)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_on_dask(specs, scheduler: str, reports: Path, done) -> None:
    from datetime import date

    from distributed import Client, as_completed as dask_completed

    with Client(scheduler) as client:
        fields = []
        for s in specs:
            d = asdict(s)
            d["text_parameters"] = set(d["text_parameters"])
            fields.append(d)
        futures = {client.submit(_run_packed, f, pure=False): s for f, s in zip(fields, specs)}
        for fut in dask_completed(futures):
            spec = futures[fut]
            info, payload = fut.result()
            folder = _unpack(payload, reports, spec, date.today().isoformat())
            done(runner.RunResult(info["name"], info["status"], folder, info["duration_s"], info["error"],
                                  info["timings"]))

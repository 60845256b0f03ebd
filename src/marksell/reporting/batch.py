"""Run a batch of notebooks: every notebook on the sample data, or the runs of a YAML config.

Every run's parameters are validated before the first kernel starts. Runs go one after
another, in parallel processes (``jobs``), or on a Dask distributed cluster (``scheduler``).
A failing run never stops the batch; the summary lists ok / failed / duration per run.

Config file (``reports.yaml``)::

    cell_timeout: 600            # optional, seconds per cell
    allow_large_work: false      # optional: lift the bounds on parameters that set the amount of work
    runs:
      - notebook: customer_segmentation
        label: north             # optional: folder suffix
        parameters: {n_clusters: 4}
      - notebook: kpi_scorecard
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tarfile
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict
from multiprocessing import util as mp_util
from pathlib import Path

from marksell.errors import ParameterError
from marksell.paths import reports_dir
from marksell.reporting import index, limits, runner, staging
from marksell.reporting.forkserver import ForkServer, early_fork_server, killed_on_error
from marksell.reporting.kernel import KernelPool
from marksell.reporting.parameters import load_yaml_parameters

#: Keys a batch file may hold.
BATCH_KEYS = {"runs", "cell_timeout", "allow_large_work"}
#: Seconds between index rebuilds during a batch: each reads every run in the reports folder (0.8 s of CPU with
#: 1,000 runs there), so a batch rebuilds it when a run ends this long after the last rebuild, and always at the
#: end, also when the batch is interrupted or stops on an error.
INDEX_EVERY_S = 60.0
#: Seconds a parallel batch waits for its workers at a time: a Ctrl-C is handled at the latest this long after
#: it arrives (a lock wait without a timeout is restarted after the signal, so Python would see it only when a
#: run ends).
WAKE_S = 0.25


def specs_from_config(path: str | Path | None, reports_dir: str | None = None) -> list[runner.RunSpec]:
    """Run specifications from a config file, or one default run per catalogued notebook."""
    if path is None:
        return [runner.RunSpec(notebook=name, reports_dir=reports_dir) for name in runner.catalogue()]
    cfg = load_yaml_parameters(path)
    unknown = sorted(map(str, set(cfg) - BATCH_KEYS))
    if unknown:
        raise ParameterError(f"{path}: unknown key(s) {unknown}; allowed: {', '.join(sorted(BATCH_KEYS))}")
    runs = cfg.get("runs")
    if not isinstance(runs, list) or not runs:
        raise ParameterError(f"{path}: expected a list under 'runs' (see `marksell report --help`)")
    timeout = cfg.get("cell_timeout", runner.DEFAULT_CELL_TIMEOUT)
    try:
        runner.check_cell_timeout(timeout)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from None
    large = cfg.get("allow_large_work", False)
    if not isinstance(large, bool):
        raise ParameterError(f"{path}: allow_large_work must be true or false; got {large!r}")
    specs = []
    for i, item in enumerate(runs, 1):
        if isinstance(item, str):
            item = {"notebook": item}
        if not isinstance(item, dict) or "notebook" not in item:
            raise ParameterError(f"{path}: run {i} needs a 'notebook' name")
        unknown = set(item) - {"notebook", "label", "parameters"}
        if unknown:
            raise ParameterError(f"{path}: run {i} has unknown key(s) {sorted(unknown)}; allowed: notebook, label, parameters")
        params = item.get("parameters") or {}
        if not isinstance(params, dict):
            raise ParameterError(f"{path}: run {i}: 'parameters' must be a mapping")
        try:
            runner.check_label(item.get("label"))
        except ParameterError as exc:
            raise ParameterError(f"{path}: run {i}: {exc}") from None
        specs.append(
            runner.RunSpec(
                notebook=str(item["notebook"]),
                parameters=params,
                label=item.get("label"),
                reports_dir=reports_dir,
                cell_timeout=timeout,
                allow_large_work=large,
            )
        )
    return specs


def run_batch(
    specs: list[runner.RunSpec], jobs: int = 1, scheduler: str | None = None, out=None, server: ForkServer | None = None
) -> list[runner.RunResult]:
    """Validate every spec, run them all, rebuild the index (every :data:`INDEX_EVERY_S` and at the end), print a
    summary. ``server``: the kernel fork server a caller started early (:func:`forkserver.early_fork_server`,
    e.g. before its own imports); the batch takes it over and stops it. Without one, the batch starts its own
    before the checks."""
    out = out or sys.stdout
    if server is None and specs and not scheduler:
        server = early_fork_server(shared=jobs > 1 and len(specs) > 1)
    with killed_on_error(server):
        prepared = [runner.prepare(s) for s in specs]  # all parameters checked before any kernel starts
    try:
        return _run_prepared(specs, prepared, jobs, scheduler, server, out)
    finally:
        if server is not None:
            server.close()


def _run_prepared(specs, prepared, jobs: int, scheduler: str | None, server: ForkServer | None, out) -> list[runner.RunResult]:
    """:func:`run_batch` once the checks passed: the runs in turn, in processes or on Dask, and the summary."""
    for i, (s, p) in enumerate(zip(specs, prepared, strict=True), 1):
        for note in p.notes:
            print(f"marksell: note: run {i} ({s.notebook}): {note}", file=out, flush=True)
    reports = Path(specs[0].reports_dir) if specs and specs[0].reports_dir else reports_dir()
    n = len(specs)
    if jobs > 1:
        jobs, note = limits.cap_workers(jobs, "--jobs")
        if note:
            print(f"marksell: note: {note}", file=out, flush=True)
    t0 = time.perf_counter()
    results: list[runner.RunResult] = []
    print(
        f"marksell: running {n} notebook(s)"
        + (f" on {jobs} processes" if jobs > 1 else "")
        + (f" on the Dask cluster at {scheduler}" if scheduler else ""),
        file=out,
        flush=True,
    )

    last_index = time.perf_counter()

    def done(res: runner.RunResult):
        nonlocal last_index
        results.append(res)
        if time.perf_counter() - last_index >= INDEX_EVERY_S:
            index.build_index(reports)
            last_index = time.perf_counter()
        print(
            f"[{len(results)}/{n}] {res.name:<28} {res.status:<6} {res.duration_s:7.1f} s"
            + (f"  {res.error}" if res.error else ""),
            file=out,
            flush=True,
        )

    try:
        if scheduler:
            _run_on_dask(specs, scheduler, reports, done)
        elif jobs > 1 and n > 1:
            specs = share_cores(specs, [p.declared for p in prepared], min(jobs, n), out)
            _run_in_processes(longest_first(specs, reports), min(jobs, n), done, server)
        else:
            _run_in_turn(specs, done, server)
    except BaseException:
        with contextlib.suppress(OSError):  # the runs filed so far are listed; the error itself propagates
            index.build_index(reports)
        raise
    index.build_index(reports)
    ok = sum(r.status == "ok" for r in results)
    warned = sum(r.status == "warning" for r in results)
    print(
        f"marksell: {ok} ok, " + (f"{warned} with warnings, " if warned else "") + f"{n - ok - warned} failed in "
        f"{time.perf_counter() - t0:.1f} s; "
        f"index: {reports / 'index.html'}",
        file=out,
        flush=True,
    )
    return results


def share_cores(specs: list[runner.RunSpec], declared: list, jobs: int, out) -> list[runner.RunSpec]:
    """The specs with each run's own worker processes (``n_jobs``, given or the notebook's default) capped at
    its share of the cores when ``jobs`` runs go at once: more processes than cores only queue and each costs
    its start (the forecast's two loky workers import their stack: ~7 s of CPU). Results do not depend on
    ``n_jobs``; a note says when it was capped. ``declared``: each run's notebook parameters, as
    :func:`runner.prepare` read them (the checks are not run again)."""
    share = max(1, limits.machine_cores() // jobs)
    shared = []
    for i, (s, params) in enumerate(zip(specs, declared, strict=True), 1):
        declared_defaults = {p.name: p.default for p in params}
        wanted = s.parameters.get("n_jobs", declared_defaults.get("n_jobs"))
        if "n_jobs" in declared_defaults and isinstance(wanted, int) and not isinstance(wanted, bool) and wanted > share:
            s = dataclasses.replace(s, parameters={**s.parameters, "n_jobs": share})
            print(
                f"marksell: note: run {i} ({s.notebook}): n_jobs {wanted} capped at {share} "
                f"({jobs} runs at once on this machine's {limits.machine_cores()} cores)",
                file=out,
                flush=True,
            )
        shared.append(s)
    return shared


def recorded_durations(reports: Path) -> dict[str, float]:
    """Seconds the latest recorded run of each notebook took (ok or warning), from the reports folder's
    ``index.json``; empty when there is none or it cannot be read (the order of a batch is all it sets)."""
    try:
        records = json.loads((reports / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    durations: dict[str, float] = {}
    for rec in records if isinstance(records, list) else []:  # newest first
        if not isinstance(rec, dict) or rec.get("status") not in ("ok", "warning"):
            continue
        name, seconds = rec.get("notebook"), rec.get("duration_s")
        if isinstance(name, str) and isinstance(seconds, int | float) and not isinstance(seconds, bool):
            durations.setdefault(name, float(seconds))
    return durations


def longest_first(specs: list[runner.RunSpec], reports: Path) -> list[runner.RunSpec]:
    """The order in which parallel workers take the runs: the longest expected first, so the batch does not
    end with one long run alone on a core while the others idle. Expected: the latest recorded run of the same
    notebook (:func:`recorded_durations`); runs never recorded go first (they may be the long ones), in the
    given order, as do runs of the same duration."""
    durations = recorded_durations(reports)

    def expected(s: runner.RunSpec) -> float:
        return durations.get(runner.notebook_name(runner.resolve_notebook(s.notebook)), float("inf"))

    return sorted(specs, key=expected, reverse=True)


def _run_in_turn(specs: list[runner.RunSpec], done, server: ForkServer | None = None) -> None:
    """One run after another, each on a fresh kernel started while the previous run executes."""
    pool = KernelPool(server=server)
    try:
        for i, s in enumerate(specs, 1):
            pool.more = i < len(specs)
            done(runner.run(s, kernels=pool))
    finally:
        pool.close()


_WORKER_KERNELS: KernelPool | None = None  # a worker process's kernel pool
_WORKER_CONTEXT = multiprocessing.get_context()  # how worker processes start (fork: they share the fork server)


def _worker_signals(server: ForkServer | None = None) -> None:
    """In a worker: SIGTERM (the batch stops) ends the worker: during a run it raises KeyboardInterrupt, the run
    cleans up and :func:`_run_in_worker` exits; between runs the worker exits at once. Either way it takes no
    further run (one already queued to it would otherwise start). Ctrl-C is left to the parent. The worker's
    kernel pool (forking from the batch's shared ``server`` if given) stops its spare kernel when it exits."""
    global _WORKER_KERNELS

    def stop(signum, frame):
        if _WORKER_RUNNING:
            raise KeyboardInterrupt
        _leave_worker()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_KERNELS = KernelPool(server=server)
    mp_util.Finalize(_WORKER_KERNELS, _WORKER_KERNELS.close, exitpriority=10)


_WORKER_RUNNING = False  # whether the worker is inside a run


def _run_in_worker(spec: runner.RunSpec, more: bool) -> runner.RunResult:
    """A run in a worker on the worker's pool; ``more``: runs remain for the workers after this one, so a
    spare kernel is worth starting."""
    global _WORKER_RUNNING
    _WORKER_KERNELS.more = more
    _WORKER_RUNNING = True
    try:
        return runner.run(spec, kernels=_WORKER_KERNELS)
    except KeyboardInterrupt:  # stopped by the batch; the run removed what it had started
        _leave_worker()
    finally:
        _WORKER_RUNNING = False


def _leave_worker() -> None:
    """End a stopped worker at once (exit status 130, as for Ctrl-C), its spare kernel stopped: returning to the
    executor's loop would start the next queued run."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        _WORKER_KERNELS.close()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(130)


def _preload() -> None:
    """Import papermill, nbconvert, the briefs and the workbook writer and compile the HTML template before
    the workers fork, so each worker does not pay for them again on its first run (about 5 s of CPU each)."""
    import nbformat
    import papermill  # noqa: F401

    from marksell.reporting import briefs, render, workbook  # noqa: F401

    render.html_exporter().from_notebook_node(nbformat.v4.new_notebook())  # loads and compiles the template


def _run_in_processes(specs: list[runner.RunSpec], jobs: int, done, server: ForkServer | None = None) -> None:
    """Run the specs in ``jobs`` worker processes (forking their kernels from ``server`` when it is shared);
    on Ctrl-C/SIGTERM cancel what has not started and stop the workers (each removes its unfinished run),
    instead of waiting for every run to finish."""
    _preload()
    shared = server if server is not None and server.shared else None
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_WORKER_CONTEXT, initializer=_worker_signals, initargs=(shared,))
    try:
        pending = {pool.submit(_run_in_worker, s, i < len(specs) - jobs) for i, s in enumerate(specs)}
        while pending:  # a wait without a timeout is not interrupted by Ctrl-C here (glibc restarts it)
            finished, pending = wait(pending, timeout=WAKE_S, return_when=FIRST_COMPLETED)
            for f in finished:
                done(f.result())
    except BaseException:
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:  # SIGTERM: the worker's handler turns it into KeyboardInterrupt and cleans up
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in workers:
            proc.join(30)
        raise
    pool.shutdown(wait=True)


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
        return {
            "name": res.name,
            "status": res.status,
            "duration_s": res.duration_s,
            "error": res.error,
            "timings": res.timings,
        }, buf.getvalue()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def extract_report(tar: tarfile.TarFile, dest: Path) -> None:
    """Unpack a worker's report folder: regular files and folders only, nothing outside ``dest``
    (tarfile's ``data`` filter where this Python has it, 3.11.4 on; the same rule checked here before)."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")  # refuses absolute paths and links out of dest
        return
    root = Path(dest).resolve()
    for member in tar.getmembers():
        target = (root / member.name).resolve()
        if not (member.isfile() or member.isdir()) or not target.is_relative_to(root):
            raise ValueError(
                f"refusing to unpack {member.name!r} from a worker's report: only files and "
                "folders inside the report folder are accepted"
            )
    tar.extractall(root)


def _unpack(payload: bytes, reports: Path, spec: runner.RunSpec, started_day: str) -> tuple[Path, str | None]:
    """File a worker's finished run; if it cannot be moved into place it is kept where it was unpacked
    (returned with a note saying so)."""
    with staging.staging_folder(reports / ".tmp", "dask") as tmp:
        try:
            with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
                extract_report(tar, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        base = runner.notebook_name(runner.resolve_notebook(spec.notebook)) + (f"-{spec.label}" if spec.label else "")
        try:
            folder = runner.claim_folder(tmp / "run", reports / started_day, base)
        except OSError as exc:
            return tmp / "run", (
                f"the finished run could not be moved into place ({exc.strerror or exc}); it is kept at {tmp / 'run'}"
            )
        shutil.rmtree(tmp, ignore_errors=True)
        return folder, None


def _run_on_dask(specs, scheduler: str, reports: Path, done) -> None:
    from datetime import date

    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ParameterError("--scheduler needs Dask's distributed package: pip install 'marksell[distributed]'") from None

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
            folder, kept = _unpack(payload, reports, spec, date.today().isoformat())
            error = "; ".join(e for e in (info["error"], kept) if e) or None
            done(
                runner.RunResult(
                    info["name"],
                    info["status"],
                    folder,
                    info["duration_s"],
                    error,
                    info["timings"],
                    kept_at=folder if kept else None,
                )
            )

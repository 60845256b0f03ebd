"""Run one notebook with papermill into a dated report folder, atomically.

A run writes into a hidden temporary folder under ``reports/.tmp/`` and is moved into
``reports/YYYY-MM-DD/<notebook>[-<label>]/`` (or exactly ``--out DIR``) only when complete, so an
interrupted run leaves no half-report. A second run on the same day gets a ``-2``, ``-3``...
suffix: nothing is ever overwritten. A failing notebook still leaves its executed notebook (with
the error) and a ``run.json`` marked ``failed``.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from marksell.data import expressions
from marksell.data.read import display_path, file_sha256
from marksell.errors import ParameterError
from marksell.paths import NOTEBOOKS_DIR, PROJ_ROOT, in_clone, reports_dir
from marksell.reporting import index_page, limits, staging
from marksell.reporting import parameters as notebook_params
from marksell.reporting.inputs import check_inputs
from marksell.reporting.kernel import KernelPool, kernel_config, read_log
from marksell.reporting.kernel import execute_notebook as execute_on

SAFE_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # used with fullmatch: no trailing newline
MAX_CELL_TIMEOUT = 7 * 24 * 3600
#: A run whose model fits fell back (summary.json's ``fallbacks``) on more than this share is a ``warning``.
FALLBACK_WARN_SHARE = 0.1
DEFAULT_CELL_TIMEOUT = 600  # seconds per cell
#: Seconds a pooled kernel may take to be ready: it imports the stack first (tens of seconds on a busy machine).
WARM_START_TIMEOUT = 300


def _check_pricing(values: dict) -> None:
    from marksell.pricing import check_run_parameters

    check_run_parameters(values)


def _check_prioritisation(values: dict) -> None:
    from marksell.prioritisation import check_run_parameters

    check_run_parameters(values)


def _check_experiments(values: dict) -> None:
    from marksell.experiments import check_run_parameters

    check_run_parameters(values)


def _check_forecasting(values: dict) -> None:
    from marksell.forecasting import check_run_parameters

    check_run_parameters(values)


def _check_mmm(values: dict) -> None:
    from marksell.mmm import check_run_parameters

    check_run_parameters(values)


#: Checks of the values a user gave that need the analysis's knowledge (e.g. a column an explicit
#: parameter names), by notebook name; each raises ParameterError before any kernel starts.
ANALYSIS_CHECKS = {
    "pricing_elasticity": _check_pricing,
    "opportunity_prioritisation": _check_prioritisation,
    "campaign_experiments": _check_experiments,
    "marketing_mix": _check_mmm,
    "sales_forecasting": _check_forecasting,
}
KERNEL_NAME = "python3"
VERSIONED = [
    "marksell",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "scikit-learn",
    "matplotlib",
    "papermill",
    "nbconvert",
    "pandera",
    "pyarrow",
]


@dataclass
class RunSpec:
    """What to run: a notebook (catalogue name or path), parameter values, and where to write."""

    notebook: str
    parameters: dict = field(default_factory=dict)
    text_parameters: set = field(default_factory=set)  # names whose values came as command-line text
    label: str | None = None
    out: str | None = None  # exact output folder
    reports_dir: str | None = None
    cell_timeout: int = DEFAULT_CELL_TIMEOUT
    allow_large_work: bool = False  # lift the upper bounds on parameters that set the amount of work


@dataclass
class RunResult:
    name: str
    status: str
    folder: Path | None
    duration_s: float
    error: str | None = None
    timings: dict = field(default_factory=dict)
    kept_at: Path | None = None  # set when the finished run could not be moved into place (it stays here)


# ----------------------------------------------------------------------------- catalogue


def catalogue(folder: Path = NOTEBOOKS_DIR) -> dict[str, Path]:
    """Notebook name -> path, e.g. ``customer_segmentation`` -> notebooks/01_customer_segmentation.ipynb."""
    out = {}
    for p in sorted(Path(folder).glob("*.ipynb")):
        out[re.sub(r"^\d+_", "", p.stem)] = p
    return out


def resolve_notebook(name_or_path: str) -> Path:
    cat = catalogue()
    key = re.sub(r"^\d+_", "", Path(name_or_path).stem) if name_or_path.endswith(".ipynb") else name_or_path
    if name_or_path in cat:
        return cat[name_or_path]
    p = Path(name_or_path)
    if p.suffix == ".ipynb" and p.exists():
        return p
    if key in cat and not p.exists() and p.suffix == ".ipynb" and p.parent == Path("."):
        return cat[key]
    raise ParameterError(f"unknown notebook '{name_or_path}'; known: {', '.join(cat)} (or a path to an .ipynb)")


def notebook_name(path: Path) -> str:
    return re.sub(r"^\d+_", "", Path(path).stem)


# ----------------------------------------------------------------------------- checks


def check_label(label) -> None:
    if label is None or label == "":
        return
    if not isinstance(label, str):
        raise ParameterError(f"label must be text (letters, digits, '.', '_' and '-'); got {type(label).__name__} {label!r}")
    if not SAFE_LABEL.fullmatch(label) or ".." in label:
        raise ParameterError(
            f"label {label!r} may only hold letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)"
        )


def check_cell_timeout(seconds) -> None:
    """A cell timeout is a whole number of seconds, at least 1 (0 or less would switch it off)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= MAX_CELL_TIMEOUT:
        raise ParameterError(
            f"--cell-timeout (cell_timeout) must be a whole number of seconds from 1 to {MAX_CELL_TIMEOUT}; got {seconds!r}"
        )


@dataclass
class Prepared:
    """A run checked before any kernel starts: the notebook, its declared parameters, the checked values,
    and notes to show the user (e.g. a worker count capped at the machine's cores)."""

    path: Path
    declared: list
    values: dict
    notes: list = field(default_factory=list)

    def __iter__(self):  # unpacks as (path, declared, values)
        return iter((self.path, self.declared, self.values))


def prepare(spec: RunSpec) -> Prepared:
    """Resolve the notebook, read its declared parameters and check everything that can be known before a
    kernel starts: label, cell timeout, parameter names, types and ranges, derive/query expressions, the
    destination. Raises :class:`ParameterError` (exit 2, nothing filed)."""
    check_label(spec.label)
    check_cell_timeout(spec.cell_timeout)
    path = resolve_notebook(spec.notebook)
    declared = notebook_params.read_parameters(path)
    values = notebook_params.validate(declared, spec.parameters, spec.text_parameters)
    values, notes = limits.check_values(values, spec.allow_large_work)
    check_expressions(effective_parameters(declared, values))
    check_regular_inputs(values)
    check_inputs(effective_parameters(declared, values))
    check = ANALYSIS_CHECKS.get(notebook_name(path))
    if check is not None:
        check(values)
    check_destination(spec)
    return Prepared(path, declared, values, notes)


def check_expressions(values: dict) -> None:
    """``derive``/``query`` parameters hold expressions of the small language of :mod:`marksell.data.expressions`."""
    if "derive" in values:
        expressions.check_derive(values["derive"])
    if "query" in values:
        expressions.check_query(values["query"])


def check_regular_inputs(values: dict) -> None:
    """A ``*_path`` that exists must be a regular file: a FIFO or device would block or never end reading."""
    for name, value in values.items():
        if name.endswith("_path") and isinstance(value, str) and value.strip():
            path = Path(value.strip()).expanduser()
            if path.exists() and not path.is_file() and not path.is_dir():
                raise ParameterError(
                    f"{name}: {value} is not a regular file (a FIFO, socket or device); point it at a CSV, Parquet or Excel file"
                )


def check_destination(spec: RunSpec) -> None:
    """The run can be filed where it is going: ``--out`` is a new or empty real folder (not a symlink), and
    the folders the run is written to and moved into are writable and on one file system."""
    if spec.out:
        out = Path(spec.out)
        if out.is_symlink():
            raise ParameterError(f"--out {spec.out} is a symlink; give the real folder ({os.path.realpath(out)}) or a new one")
        if out.exists() and not out.is_dir():
            raise ParameterError(f"--out {spec.out} exists and is not a folder; choose a new folder")
        if out.exists() and any(out.iterdir()):
            raise ParameterError(f"--out {spec.out} exists and is not empty; choose a new folder (reports are never overwritten)")
        _check_writable(out.resolve().parent, "--out's parent folder")
        return
    reports = Path(spec.reports_dir) if spec.reports_dir else reports_dir()
    if reports.exists() and not reports.is_dir():
        raise ParameterError(f"the reports folder {reports} is not a folder")
    _check_writable(reports, "the reports folder")
    for sub in (reports / ".tmp", reports / datetime.now().strftime("%Y-%m-%d")):
        if sub.exists() and not sub.is_dir():
            raise ParameterError(f"{sub} is in the way (not a folder); move it aside")
        if sub.exists():
            _check_writable(sub, str(sub))
    _check_same_device(reports)


def _check_writable(folder: Path, what: str) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ParameterError(f"cannot write to {what} ({existing}); choose a folder you can write to (--reports-dir or --out)")


def _check_same_device(reports: Path) -> None:
    """The day folder must be on the same file system as ``reports/.tmp`` (the final move is a rename)."""
    day = reports / datetime.now().strftime("%Y-%m-%d")
    tmp = reports / ".tmp"
    if day.exists() and tmp.exists() and day.stat().st_dev != tmp.stat().st_dev:
        raise ParameterError(
            f"{day} is on another file system than {tmp}; a finished run is moved into place "
            "by renaming, so both must be on one file system (remove the link or choose "
            "another --reports-dir)"
        )


# ----------------------------------------------------------------------------- running


def run(spec: RunSpec, progress: bool = False, kernels: KernelPool | None = None) -> RunResult:
    """Execute one notebook into its report folder and return the outcome (never raises for a
    failing notebook; raises :class:`ParameterError` for bad parameters before starting).

    ``kernels``: the pool a batch takes each notebook's fresh kernel from (started ahead, stack imported);
    without it the run starts its own kernel.

    If the finished run cannot be moved into place, it is kept in its staging folder and the result says
    where (``kept_at``); nothing finished is deleted."""
    prepared = prepare(spec)
    path, declared, values = prepared
    name = notebook_name(path)
    reports = Path(spec.reports_dir) if spec.reports_dir else reports_dir()
    tmp_root = (Path(spec.out).resolve().parent if spec.out else reports) / ".tmp"
    started = datetime.now(UTC).astimezone()
    t0 = time.perf_counter()
    with staging.staging_folder(tmp_root, name) as tmp:
        try:
            status, error, record, timings = _execute_and_record(prepared, name, spec, tmp, started, t0, progress, kernels)
        except BaseException:  # interrupted: no half report
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            final = _claim(tmp, reports, started, name, spec)
        except OSError as exc:
            where = display_path(tmp)
            note = f"the finished run could not be moved into place ({exc.strerror or exc}); it is kept at {where}"
            return RunResult(name, status, tmp, record["duration_s"], f"{error}; {note}" if error else note, timings, kept_at=tmp)
    return RunResult(name, status, final, record["duration_s"], error, timings)


def _execute_and_record(prepared: Prepared, name: str, spec: RunSpec, tmp: Path, started, t0, progress, kernels=None):
    """Run the notebook into ``tmp`` and write the report, artifacts and ``run.json`` there."""
    path, declared, values = prepared
    out_nb = tmp / f"{path.stem}.ipynb"
    status, error, tb = "ok", None, None
    timings = {}
    kernel_log = ""
    try:
        kernel_log = _execute(path, out_nb, tmp, declared, values, spec, progress, kernels)
    except Exception as exc:  # the executed notebook with the error is still written
        status, error, tb = "failed", _reason(exc), traceback.format_exc()
        kernel_log = getattr(exc, "kernel_log", "")
    timings["execute_s"] = time.perf_counter() - t0
    for f in tmp.iterdir():
        if f.suffix in {".ipynb", ".csv", ".json", ".txt", ".html", ".md"}:
            _scrub_file(f)
    record = _run_record(path, name, spec, declared, values, started, t0, status, error, tmp)
    status, error = record["status"], record["error"] or record.get("warning")  # a warning is said like an error
    t1 = time.perf_counter()
    if tb:
        text = tb + (f"\n--- kernel console ---\n{kernel_log}" if kernel_log.strip() else "")
        (tmp / "error.txt").write_text(scrub(text), encoding="utf-8")
    _publish(tmp, out_nb, record, index_href=None if spec.out else "../../index.html")
    record["headline"] = index_page.headline(record["notebook"], tmp)  # stored once: the index never re-reads summary.json
    timings["render_s"] = time.perf_counter() - t1
    record["timings"] = timings
    _write_json(tmp / "run.json", record)
    return status, error, record, timings


def _execute(
    path: Path, out_nb: Path, tmp: Path, declared, values: dict, spec: RunSpec, progress: bool, kernels: KernelPool | None = None
) -> str:
    """papermill on the notebook; returns the kernel's console output (kept off the user's terminal)."""
    params = dict(values)
    if any(p.name == "artifacts_dir" for p in declared):
        params["artifacts_dir"] = os.path.relpath(tmp, os.getcwd())
    papermill = {
        "parameters": params,
        "kernel_name": KERNEL_NAME,
        "progress_bar": progress,
        "log_output": False,
        "execution_timeout": spec.cell_timeout,
        "cwd": os.getcwd(),
        "report_mode": False,
    }
    if kernels is not None:
        kernel = kernels.take()
        try:
            execute_on(kernel, str(path), str(out_nb), start_timeout=WARM_START_TIMEOUT, **papermill)
        except Exception as exc:
            exc.kernel_log = read_log(kernel.log)
            raise
        finally:
            log = read_log(kernel.log)
            kernel.close()
        return log
    with kernel_config() as (cfg, log):
        try:
            execute_on(None, str(path), str(out_nb), config=cfg, **papermill)
        except Exception as exc:
            exc.kernel_log = read_log(log)
            raise
        return read_log(log)


def _publish(tmp: Path, out_nb: Path, record: dict, index_href: str | None) -> None:
    """Write the reviewer's outputs: results.xlsx from the CSV artifacts, then report.html linking them.

    A failure here is recorded in ``record`` (``workbook_error``/``render_error``) and never loses the run.
    """
    from marksell.reporting.render import render_html
    from marksell.reporting.workbook import write_workbook

    try:
        write_workbook(tmp)
    except (OSError, ValueError) as exc:
        record["workbook_error"] = _reason(exc)
    if not out_nb.exists():
        return
    outputs = sorted({f.name for f in tmp.iterdir() if f.is_file() and not f.name.startswith(".")} | {"run.json"})
    try:
        summary = _brief(record, tmp) if record.get("status") in ("ok", "warning") else None
        render_html(out_nb, tmp / "report.html", record, outputs=outputs, index_href=index_href, brief=summary)
    except Exception as exc:  # noqa: BLE001 - the run is kept; the failure is recorded in run.json
        record["render_error"] = _reason(exc)


def _brief(record: dict, folder: Path):
    """The run's executive summary; when the analysis cannot write it, a brief that says so (and run.json too)."""
    from marksell.reporting.brief import Brief
    from marksell.reporting.briefs import brief_for

    try:
        return brief_for(record.get("notebook", ""), folder)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        record["brief_error"] = _reason(exc)
        return Brief(
            [f"The executive summary could not be written from this run's results ({_reason(exc)}); read the sections below."]
        )


def effective_parameters(declared: list[notebook_params.Parameter], values: dict) -> dict:
    """Every declared parameter's value in this run: the defaults, overridden by ``values``."""
    out = {p.name: p.default for p in declared if p.name not in notebook_params.RESERVED}
    out.update(values)
    return out


def _scrubbed(values: dict) -> dict:
    return {k: scrub(v) if isinstance(v, str) else v for k, v in values.items()}


def scrub(text: str) -> str:
    """Replace the user's home folder with ``~`` so that reports carry no absolute home paths."""
    home = str(Path.home())
    return text.replace(home, "~") if home not in ("", "/") else text


def _scrub_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    clean = scrub(text)
    if clean != text:
        path.write_text(clean, encoding="utf-8")


def _reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        return f"cell {getattr(exc, 'exec_count', '?')} raised {exc.ename}: {exc.evalue}".strip()
    if name == "DeadKernelError":
        return f"the kernel died ({exc})"
    if name in {"CellTimeoutError", "TimeoutError"}:
        return f"a cell timed out ({str(exc).splitlines()[0] if str(exc) else 'timeout'})"
    return f"{name}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()


def _run_record(path, name, spec, declared, values, started, t0, status, error, tmp) -> dict:
    effective = effective_parameters(declared, values)
    ended = datetime.now(UTC).astimezone()
    found = analysis_warnings(tmp) if status == "ok" else []
    fallbacks = read_fallbacks(tmp)
    if status == "ok" and fallbacks["share"] > FALLBACK_WARN_SHARE:
        found.append(
            f"{fallbacks['count']} of {fallbacks['fits']} model fits fell back to a simpler model "
            f"(more than {FALLBACK_WARN_SHARE:.0%}); see fallbacks in run.json"
        )
    record = {
        "notebook": name,
        "notebook_file": display_path(path),
        "label": spec.label or None,
        "parameters": _scrubbed(effective),
        "overrides": _scrubbed(values),
        "status": status,
        "error": scrub(error) if error else None,
        "fallbacks": fallbacks,
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 3),
        "inputs": _inputs(tmp, effective),
        "versions": versions(),
        "python": sys.version.split()[0],
        "git_commit": git_commit(),
        "artifacts": sorted(p.name for p in tmp.iterdir() if p.suffix in {".csv", ".json"}),
    }
    if found:  # the analysis found its results unreliable (or too many fits fell back): finished, but marked
        record.update(status="warning", warning="; ".join(found), warnings=found)
    return record


def analysis_warnings(folder: Path) -> list[str]:
    """Why the analysis itself calls its results unreliable (``warnings`` in the notebook's summary.json,
    e.g. a CLV model fitted on implausible dates); empty when it has none."""
    f = folder / "summary.json"
    try:
        found = json.loads(f.read_text(encoding="utf-8")).get("warnings") if f.is_file() else None
    except (OSError, ValueError, AttributeError):
        return []
    return [scrub(str(w)) for w in found if str(w).strip()] if isinstance(found, list) else []


def read_fallbacks(folder: Path) -> dict:
    """Model fits that fell back to a simpler model, as the notebook wrote them in summary.json's
    ``fallbacks`` (``count`` of ``fits``, ``items``); zero for notebooks that fit no such models."""
    out = {"count": 0, "fits": 0, "share": 0.0, "items": []}
    f = folder / "summary.json"
    try:
        found = json.loads(f.read_text(encoding="utf-8")).get("fallbacks") if f.is_file() else None
        if isinstance(found, dict) and int(found.get("fits") or 0) > 0:
            count, fits = int(found.get("count") or 0), int(found["fits"])
            out.update(count=count, fits=fits, share=round(count / fits, 4), items=[str(x) for x in found.get("items") or []])
    except (ValueError, TypeError, AttributeError, OSError):  # not a summary this notebook wrote for us
        pass
    return out


def _inputs(tmp: Path, effective: dict) -> list[dict]:
    """Provenance written by the notebook (inputs.json), else hashes of the path parameters."""
    f = tmp / "inputs.json"
    if f.exists():
        try:
            return json.loads(f.read_text(encoding="utf-8"))
        except ValueError:
            pass
    out = []
    for pname, value in effective.items():
        if pname.endswith("_path") and value:
            fp = Path(value)
            out.append(
                {"kind": pname[:-5], "path": display_path(fp), "sha256": file_sha256(fp) if fp.is_file() else None, "rows": None}
            )
    return out


def _claim(tmp: Path, reports: Path, started: datetime, name: str, spec: RunSpec) -> Path:
    """Move the finished run into place under a name nobody else holds (atomic rename)."""
    if spec.out:
        target = Path(spec.out)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
            target.rmdir()
        os.rename(tmp, target)  # fails (and the run is kept) if something appeared there meanwhile
        return target
    base = name + (f"-{spec.label}" if spec.label else "")
    return claim_folder(tmp, reports / started.strftime("%Y-%m-%d"), base)


def claim_folder(src: Path, day: Path, base: str) -> Path:
    """Rename ``src`` to ``day/base``, or ``base-2``, ``base-3``... if taken: never overwrites."""
    day.mkdir(parents=True, exist_ok=True)
    for i in range(1, 10_000):
        target = day / (base if i == 1 else f"{base}-{i}")
        if os.path.lexists(target):
            continue
        try:
            os.rename(src, target)  # fails if another run took the name meanwhile (non-empty folder)
            return target
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY) or os.path.lexists(target):
                continue  # the name is taken: try the next one
            raise  # read-only, another file system, no space...: not a naming problem
    raise FileExistsError(errno.EEXIST, f"no free report folder name for {base} in {day}")


def _write_json(path: Path, obj) -> None:
    from marksell.jsonable import to_jsonable

    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@functools.cache
def _versions() -> tuple:
    return tuple(_version(pkg) for pkg in VERSIONED)


def versions() -> dict:
    """Versions of the packages a report depends on (looked up once per process)."""
    return dict(zip(VERSIONED, _versions()))


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def git_commit() -> str | None:
    """The clone's commit; None for an installed wheel (whatever repository its environment sits in)."""
    if not in_clone():
        return None
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJ_ROOT, capture_output=True, text=True, timeout=5)
        return res.stdout.strip() or None if res.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None

"""Kernel launcher with the stack every notebook imports loaded before the kernel starts (``python -m`` this).

It does what ``ipykernel_launcher`` does, after importing what the notebooks' import cells all load (numpy,
pandas, SciPy's optimize/special/stats, matplotlib, marksell.data with pandera and pyarrow, the reporting
helpers), then, once the kernel's shell exists (an IPython extension, :func:`load_ipython_extension`), pyplot
and marksell.plots, whose inline backend hooks into that shell as on a notebook's own import. Not what only some
notebooks use (statsmodels, the analysis packages): with two processes on two cores every second of CPU counts,
and a kernel would import them for nothing. Not scikit-learn: it loads the OpenMP runtime, which the analyses load
lazily inside their ``threadpool_limits(1)`` blocks, so a block that found it already loaded would limit it where
a cold kernel does not (KMeans inertia then differed in its last digits on a machine with several cores); SciPy's
and numpy's BLAS libraries are loaded by every analysis package's own import, before any such block, in a cold
kernel too. The imports land in ``sys.modules`` only, never in the notebook's namespace, so a notebook's
``import pandas as pd`` is instant and its outputs are the same as in a cold kernel (tests/reporting/
test_kernel_pool.py compares the sample notebooks' files). The warning filters the libraries install on import
are in place from the start, as after a notebook's first import cell. Started ahead of time by
:class:`marksell.reporting.kernel.KernelPool`, the import cost overlaps the previous notebook instead of delaying
the next.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import random
import runpy
import signal
import sys
import traceback
import warnings
from pathlib import Path

MODULES = (
    "numpy",
    "pandas",
    "scipy.optimize",
    "scipy.special",
    "scipy.stats",
    "matplotlib",
    "marksell.data",
    "marksell.reporting.tables",
    "marksell.reporting.artifacts",
    "marksell.reporting.display",
)


#: Imported once the kernel's shell exists: the inline backend registers itself with it.
WITH_SHELL = ("matplotlib.pyplot", "marksell.plots")


def load_ipython_extension(ipython) -> None:
    """Import :data:`WITH_SHELL` (the kernel loads this module as an extension, after creating its shell)."""
    import_stack(WITH_SHELL)


def import_stack(modules=MODULES) -> list[str]:
    """Import ``modules``; returns those that failed (the notebook's own import raises the error again)."""
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - not hidden: the notebook's import of it fails with the error
            print(f"marksell warm kernel: import {name} failed ({type(exc).__name__}: {exc})", file=sys.stderr)
            failed.append(name)
    return failed


def main() -> None:
    """Import the stack without the working folder on the path (as ipykernel_launcher loads ipykernel), put
    the path back as it was, then run ipykernel_launcher itself, so the kernel is set up exactly as usual (with
    this module as an extension: :func:`load_ipython_extension`). With ``--fork-server``: :func:`serve`."""
    if sys.argv[1:] == [FORK_SERVER]:
        serve()
        return
    cwd_first = sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()
    first = sys.path.pop(0) if cwd_first else None
    import_stack()
    if first is not None:
        sys.path.insert(0, first)
    _launch()


def _launch() -> None:
    sys.argv.append("--ext=marksell.reporting.warm_kernel")
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


#: The argument that makes this module a fork server (:func:`serve`).
FORK_SERVER = "--fork-server"


def serve() -> None:
    """Fork server: import the stack (and ipykernel) once, then for each request on stdin (a JSON line: the
    kernel's arguments, working folder, environment and console log) fork a kernel and answer its process id.
    A forked kernel starts as :func:`main` would after its imports, without paying for them (about 2 s of
    CPU each). Children are reaped as they end; when stdin closes (the pool is done, or its process died)
    the kernels still running are stopped and the server exits."""
    cwd_first = sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()
    if cwd_first:
        sys.path.pop(0)
    import_stack((*MODULES, "ipykernel.kernelapp"))
    children: set[int] = set()

    def reap(signum, frame):
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)

    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin.buffer:
        request = json.loads(line)
        sys.stderr.flush()
        with warnings.catch_warnings():  # Python 3.12+ warns of any thread; ours are the BLAS and allocator
            warnings.simplefilter("ignore", DeprecationWarning)  # pools, which are fork-safe (atfork handlers)
            pid = os.fork()
        if pid == 0:
            _become_kernel(request, cwd_first)
        children.add(pid)
        os.write(1, f"{pid}\n".encode())
    for pid in list(children):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


def _become_kernel(request: dict, cwd_first: bool) -> None:
    """In a forked child: the kernel's own session, folder, environment, console log and arguments, fresh
    random seeds (as a new process has), then ipykernel as :func:`main` runs it; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"] or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        if cwd_first:
            sys.path.insert(0, os.getcwd())
        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        sys.argv = [sys.argv[0], *request["argv"]]
        _launch()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - written to the kernel's console log, then the child exits
        traceback.print_exc()
    finally:
        for stream in (sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


if __name__ == "__main__":
    main()

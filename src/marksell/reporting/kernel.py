"""Kernel settings for one run: IPC sockets in a private, locked folder (TCP on 127.0.0.1 where IPC is
unavailable, i.e. Windows), and the kernel's own console output
(``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel``, ZMQ tracebacks) written to a log there instead of
the user's terminal. The runner shows that log only with ``--debug`` (its errors are in the notebook anyway).

A batch takes its kernels from a :class:`KernelPool`: a fresh kernel per notebook (never reused, so nothing one
notebook defines is seen by the next), started with the scientific stack imported (:mod:`.warm_kernel`), the
next one starting while the current notebook runs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_event_loop, run_sync
from traitlets import Any, Bool, Unicode

from marksell.reporting import staging
from marksell.reporting.forkserver import INLINE_BACKEND, ForkedProcess, ForkServer


class QuietKernelManager(AsyncKernelManager):
    """A kernel manager that sends the kernel process's stdout/stderr to ``log_path`` (when set)."""

    log_path = Unicode("", config=True, help="file that receives the kernel's console output")
    warm = Bool(False, config=True, help="launch through marksell.reporting.warm_kernel (stack imported first)")
    fork_server = Any(None, allow_none=True, help="a ForkServer that forks warm kernels (None: start a process)")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self.warm:
            kernel_cmd = warm_command(kernel_cmd)
        if self.fork_server is not None and self.fork_server.serves(kernel_cmd):
            self._fork_kernel(kernel_cmd, **kw)
            return
        if not self.log_path:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            kw["stdout"] = log
            kw["stderr"] = log
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    def _fork_kernel(self, kernel_cmd, env=None, cwd=None, **kw):
        """The kernel forked by the fork server, handed to the provisioner as its process (what
        ``LocalProvisioner.launch_kernel`` records for a kernel it starts itself)."""
        cwd = str(cwd or os.getcwd())
        env = {**(env or os.environ), "JPY_PARENT_PID": str(os.getpid())}  # as jupyter_client's launch_kernel sets
        pid = self.fork_server.fork(kernel_cmd[3:], cwd=cwd, env=env, log=self.log_path)
        prov = self.provisioner
        prov.process, prov.pid, prov.pgid, prov.cwd = ForkedProcess(pid), pid, pid, cwd
        self._reconcile_connection_info(prov.connection_info)


def warm_command(kernel_cmd: list[str]) -> list[str]:
    """The kernel command with ``-m ipykernel_launcher`` replaced by the warm launcher (other kernels unchanged)."""
    cmd = list(kernel_cmd)
    for i in range(len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
            cmd[i + 1] = "marksell.reporting.warm_kernel"
            break
    return cmd


def ipc_available() -> bool:
    """Whether kernels can talk over local (Unix domain) sockets: POSIX systems, not Windows."""
    return os.name == "posix"


@contextlib.contextmanager
def kernel_config():
    """Yield ``(config, log_path)`` for one execution; the socket folder and log are removed afterwards.

    IPC sockets open no TCP port (nothing to eavesdrop on); where IPC is unavailable, TCP on the loopback
    address only, on ports the kernel picks free."""
    with staging.kernel_folder() as sockets:
        yield _config(sockets), Path(sockets) / "kernel.log"


def _config(sockets):
    from traitlets.config import Config

    # figures must reach the notebook whatever the caller's backend (e.g. MPLBACKEND=Agg in CI)
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    cfg = Config()
    if ipc_available():
        cfg.KernelManager.transport = "ipc"
        cfg.KernelManager.ip = os.path.join(sockets, "k")
    else:
        cfg.KernelManager.transport = "tcp"
        cfg.KernelManager.ip = "127.0.0.1"
    cfg.NotebookClient.kernel_manager_class = QuietKernelManager
    cfg.QuietKernelManager.log_path = str(Path(sockets) / "kernel.log")
    return cfg


def read_log(log: Path, limit: int = 20_000) -> str:
    """The end of the kernel's console output ('' when there was none)."""
    try:
        data = log.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")


class Kernel:
    """One started kernel for one notebook: its manager, console log and socket folder (removed by ``close``)."""

    def __init__(self, kernel_name: str, cwd: str, fork_server: ForkServer | None = None):
        self.cwd = cwd
        self._folder = contextlib.ExitStack()
        sockets = self._folder.enter_context(staging.kernel_folder())
        self.log = Path(sockets) / "kernel.log"
        self.manager = QuietKernelManager(kernel_name=kernel_name, config=_config(sockets), warm=True, fork_server=fork_server)
        try:
            run_sync(self.manager.start_kernel)(cwd=cwd)  # returns once launched; the kernel boots meanwhile
        except BaseException:
            self._folder.close()
            raise

    def alive(self) -> bool:
        return bool(run_sync(self.manager.is_alive)())

    def close(self) -> None:
        """Stop the kernel if still running (the notebook client normally has) and remove its folder."""
        try:
            settle_interrupted_tasks()
            if self.manager.has_kernel:
                run_sync(self.manager.shutdown_kernel)(now=True)
        finally:
            self._folder.close()


def settle_interrupted_tasks() -> None:
    """Cancel what an interrupt left pending on this thread's event loop (the notebook client's cell execution).

    Ctrl-C (or SIGTERM in a batch worker) stops the loop mid-cell and leaves that task pending; the shutdown that
    follows runs the same loop, the task wakes to a dead kernel and Python prints "Task exception was never
    retrieved" with a DeadKernelError traceback on the user's terminal. Cancelled and awaited here, it ends quietly.
    """
    loop = ensure_event_loop()
    if loop.is_running():
        return
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


class KernelPool:
    """Kernels for the notebooks one process runs one after another: ``take`` hands out a fresh kernel per
    notebook and, while ``more`` is true, starts the next one so its start overlaps the current run. Kernels
    are forked by the pool's :class:`ForkServer` (stack imported once per pool, not per notebook) when ``fork``
    and the platform allows, else started as processes that import it (a single run gains nothing from a
    server). ``server``: a fork server started earlier (e.g. while the batch's checks run); a shared one also
    serves the pool's copies in forked processes. A spare kernel that died or was started in another folder
    is replaced. ``close`` stops the spare and the fork server."""

    def __init__(self, kernel_name: str = "python3", fork: bool = True, server: ForkServer | None = None):
        self.kernel_name = kernel_name
        self.fork = fork
        self.more = True
        self._spare: Kernel | None = None
        self._server = server
        self._pid = os.getpid()

    def start(self) -> None:
        """Start the next notebook's kernel now (e.g. while the parent still imports papermill)."""
        if self._spare is None:
            self._own()
            self._spare = self._kernel()

    def take(self) -> Kernel:
        spare, self._spare = self._spare, None
        forked = self._own()
        if spare is not None and (forked or spare.cwd != os.getcwd() or not spare.alive()):
            if not forked:
                spare.close()
            spare = None  # a forked copy belongs to the parent: left alone
        kernel = spare or self._kernel()
        if self.more:
            self._spare = self._kernel()
        return kernel

    def close(self) -> None:
        spare, self._spare = self._spare, None
        server, self._server = self._server, None
        if os.getpid() != self._pid:
            return  # a forked copy: the spare and the server belong to the parent
        try:
            if spare is not None:
                spare.close()
        finally:
            if server is not None:
                server.close()

    def _own(self) -> bool:
        """Make the pool this process's; True when it was a copy inherited through a fork (the spare and the
        fork server are the parent's, left alone, and this process gets its own unless the server is shared)."""
        forked = os.getpid() != self._pid
        if forked:
            if self._server is not None and not self._server.shared:
                self._server = None
            self._pid = os.getpid()
        return forked

    def _kernel(self) -> Kernel:
        if self._server is None and self.fork and ForkServer.available():
            self._server = ForkServer()
        return Kernel(self.kernel_name, os.getcwd(), self._server)


def execute_notebook(kernel: Kernel | None, source: str, target: str, **papermill_kwargs) -> None:
    """papermill on ``kernel`` (already started), or on one the notebook client starts (None; its manager class
    comes from the ``config`` argument); the kernel is shut down when the notebook ends, as papermill does with
    kernels it starts itself."""
    import papermill as pm
    from papermill.engines import papermill_engines

    papermill_engines.register("marksell", _engine())
    if kernel is not None:
        papermill_kwargs["km"] = kernel.manager
    pm.execute_notebook(source, target, engine_name="marksell", **papermill_kwargs)


@functools.cache
def _client():
    """papermill's notebook client, settling a cell an interrupt left pending (papermill imported on first use)."""
    from papermill.clientwrap import PapermillNotebookClient

    class SettlingClient(PapermillNotebookClient):
        """papermill's client, which on an interrupt mid-cell cancels the cell's pending task before the kernel
        cleanup runs the event loop again: else that task could wake during the cleanup, find the kernel gone
        and end with a DeadKernelError that Python prints as "Task exception was never retrieved"."""

        def papermill_execute_cells(self):
            try:
                super().papermill_execute_cells()
            except KeyboardInterrupt:
                settle_interrupted_tasks()
                raise

    return SettlingClient


@functools.cache
def _engine():
    from papermill.engines import NBClientEngine, NotebookExecutionManager
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class SavedAtEnds(NotebookExecutionManager):
        """papermill's execution record, written when the notebook starts and when it ends (also after an error,
        a timeout or a dead kernel) instead of also before and after every cell: the run is staged in a folder
        nobody reads until it is filed, and each of those saves re-validated and re-serialised the whole
        notebook with its figures (about 12 s of the parent's CPU in a batch of the eight sample notebooks)."""

        _at_end = False

        def save(self, **kwargs):
            if self._at_end:
                super().save(**kwargs)

        def notebook_start(self, **kwargs):
            self._at_end = True
            try:
                super().notebook_start(**kwargs)
            finally:
                self._at_end = False

        def notebook_complete(self, **kwargs):
            self._at_end = True
            super().notebook_complete(**kwargs)

    class Engine(NBClientEngine):
        """papermill's nbclient engine, on a kernel started beforehand (``km``; the client still stops it at the
        end) or one the client starts, saving the executed notebook at its start and end only
        (:class:`SavedAtEnds`) and settling a cell an interrupt left pending (:func:`_client`)."""

        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False, **kwargs):
            kwargs.pop("autosave_cell_every", None)  # no saves during the run
            nb_man = SavedAtEnds(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(
                kwargs,
                timeout=execution_timeout or None,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                shutdown_kernel="immediate",
            )  # graceful: 1.4 s of teardown, nothing to save
            return _client()(nb_man, **final).execute(cleanup_kc=True)

    return Engine

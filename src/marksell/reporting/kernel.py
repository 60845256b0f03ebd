"""Kernel settings for one run: IPC sockets in a private, locked folder (TCP on 127.0.0.1 where IPC is
unavailable, i.e. Windows), and the kernel's own console output
(``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel``, ZMQ tracebacks) written to a log there instead of
the user's terminal. The runner shows that log only with ``--debug`` (its errors are in the notebook anyway)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode

from marksell.reporting import staging


class QuietKernelManager(AsyncKernelManager):
    """A kernel manager that sends the kernel process's stdout/stderr to ``log_path`` (when set)."""

    log_path = Unicode("", config=True, help="file that receives the kernel's console output")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if not self.log_path:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            kw["stdout"] = log
            kw["stderr"] = log
            return await super()._async_launch_kernel(kernel_cmd, **kw)


def ipc_available() -> bool:
    """Whether kernels can talk over local (Unix domain) sockets: POSIX systems, not Windows."""
    return os.name == "posix"


@contextlib.contextmanager
def kernel_config():
    """Yield ``(config, log_path)`` for one execution; the socket folder and log are removed afterwards.

    IPC sockets open no TCP port (nothing to eavesdrop on); where IPC is unavailable, TCP on the loopback
    address only, on ports the kernel picks free."""
    from traitlets.config import Config

    with staging.kernel_folder() as sockets:
        # figures must reach the notebook whatever the caller's backend (e.g. MPLBACKEND=Agg in CI)
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        log = Path(sockets) / "kernel.log"
        cfg = Config()
        if ipc_available():
            cfg.KernelManager.transport = "ipc"
            cfg.KernelManager.ip = os.path.join(sockets, "k")
        else:
            cfg.KernelManager.transport = "tcp"
            cfg.KernelManager.ip = "127.0.0.1"
        cfg.NotebookClient.kernel_manager_class = QuietKernelManager
        cfg.QuietKernelManager.log_path = str(log)
        yield cfg, log


def read_log(log: Path, limit: int = 20_000) -> str:
    """The end of the kernel's console output ('' when there was none)."""
    try:
        data = log.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")

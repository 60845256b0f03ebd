"""The kernel fork server: one process with the scientific stack and ipykernel imported that forks each warm
kernel, so a kernel costs a fork instead of an interpreter start and its imports.

Light to import (the standard library only), so that a command can start the server first and let it import the
stack while the command itself imports marksell and checks its inputs."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import select
import signal
import subprocess
import sys

from marksell.reporting import warm_kernel

#: The matplotlib backend every kernel gets (read by matplotlib when imported, so a fork server needs it too).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def early_fork_server(shared: bool) -> ForkServer | None:
    """A fork server for a batch, started before its checks so that it imports the stack while they run (no kernel
    is forked before they pass); ``shared`` by the worker processes of a parallel batch where they are forked from
    this process. None where kernels cannot be forked, or where a parallel batch's workers are not forked (each
    then starts its own)."""
    if not ForkServer.available():
        return None
    if not shared:
        return ForkServer()
    context = multiprocessing.get_context()  # how a batch's worker processes start
    return ForkServer(lock=context.Lock()) if context.get_start_method() == "fork" else None


@contextlib.contextmanager
def killed_on_error(server: ForkServer | None):
    """Kill ``server`` at once when the block fails (checks that run before any kernel is forked); it runs on
    otherwise."""
    try:
        yield server
    except BaseException:
        if server is not None:
            server.kill()
        raise


class ForkedProcess:
    """A ``Popen``-like handle on a kernel forked by the fork server: not this process's child, so it is
    watched and signalled through a pidfd (never a recycled process id). The server reaps it, so its exit status
    is not known here: ``returncode`` is 0 once it has ended."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._fd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self._ended()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self._ended()
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            signal.pidfd_send_signal(self._fd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def _ended(self) -> None:
        self.returncode = 0
        os.close(self._fd)


class ForkServer:
    """A process with the stack and ipykernel imported that forks each warm kernel
    (:func:`marksell.reporting.warm_kernel.serve`): a kernel then costs a fork instead of an interpreter start
    and about 2 s of imports. POSIX with pidfds (Linux) only: :meth:`available`. Given a ``lock`` (a
    :mod:`multiprocessing` lock), it is shared: processes forked from its owner (a batch's workers) fork their
    kernels from it too. Only the owner stops it: ``close`` (and the kernels it forked that still run) or
    ``kill``."""

    def __init__(self, lock=None):
        env = {**os.environ, "MPLBACKEND": INLINE_BACKEND}
        self._lock = lock  # requests from processes forked after the server started take turns through it
        self._owner = os.getpid()
        self.command = [sys.executable, "-m", warm_kernel.__name__]
        self._proc = subprocess.Popen(
            [*self.command, warm_kernel.FORK_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # import failures show again in the notebook that makes them
            env=env,
            start_new_session=True,  # Ctrl-C reaches the batch, which stops the kernels itself
        )

    @staticmethod
    def available() -> bool:
        return os.name == "posix" and hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")

    @property
    def shared(self) -> bool:
        """Whether processes forked from its owner may use it."""
        return self._lock is not None

    def serves(self, kernel_cmd: list[str]) -> bool:
        """Whether this server can fork the kernel ``kernel_cmd`` starts (this Python's warm kernel), and runs."""
        return list(kernel_cmd[:3]) == self.command and self.running()

    def running(self) -> bool:
        if os.getpid() == self._owner:
            return self._proc.poll() is None
        try:  # a process forked from the owner cannot wait for the owner's child: ask whether it exists
            os.kill(self._proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def fork(self, args: list[str], cwd: str, env: dict, log: str) -> int:
        """Fork a kernel with these arguments, working folder, environment and console log; its process id."""
        request = {"argv": list(args), "cwd": cwd, "env": env, "log": log}
        try:
            with self._lock if self._lock is not None else contextlib.nullcontext():
                self._proc.stdin.write(json.dumps(request).encode() + b"\n")
                self._proc.stdin.flush()
                answer = self._proc.stdout.readline()
        except OSError as exc:
            raise RuntimeError(f"the kernel fork server stopped ({exc})") from exc
        if not answer.strip().isdigit():  # only its owner can know its exit status
            status = f" (exit status {self._proc.poll()})" if os.getpid() == self._owner else ""
            raise RuntimeError(f"the kernel fork server stopped{status}")
        return int(answer)

    def close(self) -> None:
        """Stop it once the kernels it forked are no longer needed (it stops those that still run); only in its
        owner, and once."""
        self._stop(now=False)

    def kill(self) -> None:
        """Stop it at once, before it forked any kernel (e.g. while it still imports and a check failed)."""
        self._stop(now=True)

    def _stop(self, now: bool) -> None:
        if os.getpid() != self._owner or self._proc.stdout.closed:
            return
        if now:
            self._proc.kill()
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()

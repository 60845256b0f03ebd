"""Private working folders of a run (the staging folder under ``reports/.tmp/`` and the kernel's socket folder
in the system temp directory), held by a lock while their run lives, so that folders left by a run that was
killed (SIGKILL, power loss) can be told apart from those of a run still going, and removed at start-up.

Each folder has a lock file held by the process that made it (``filelock``: ``flock`` on Linux and macOS,
``LockFileEx`` on Windows); the operating system releases the lock when that process dies, whatever killed it.
:func:`clean_stale` removes folders whose lock nobody holds. A lock file that is a symlink, FIFO or device is
refused, never followed or waited on.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from pathlib import Path

from filelock import FileLock, Timeout

KERNEL_PREFIX = "marksell-k-"  # short: Unix socket paths are limited to ~107 bytes
_LEGACY_KERNEL = re.compile(r"^ms-[a-z0-9_]{8}$")  # folders of earlier versions (tempfile.mkdtemp(prefix="ms-"))
_LEGACY_SOCKET = re.compile(r"^k-\d+$")
LEGACY_AGE_S = 3600  # an unlocked folder of an earlier version is stale after an hour
LOCK = ".lock"


def check_lock_file(lock: Path) -> None:
    """A lock file is a regular file or absent: a symlink, FIFO or device in its place is refused."""
    try:
        info = os.lstat(lock)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a symlink" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise OSError(f"the lock file {lock} is {kind}; remove it")


@contextlib.contextmanager
def held(folder_lock: Path):
    """Create ``folder_lock`` and hold an exclusive lock on it until the block ends."""
    check_lock_file(folder_lock)
    with FileLock(folder_lock, mode=0o600):
        yield


@contextlib.contextmanager
def staging_folder(root: Path, name: str):
    """A new folder ``root/<name>-<random>`` with its lock ``root/<name>-<random>.lock`` held while in use.

    The folder is not removed on exit (the caller moves or removes it); the lock file is.
    """
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"{name}-{uuid.uuid4().hex[:12]}"
    lock = folder.with_name(folder.name + LOCK)
    with held(lock):
        folder.mkdir()
        try:
            yield folder
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()


@contextlib.contextmanager
def kernel_folder():
    """A private folder for a kernel's IPC sockets in the system temp directory, removed on exit."""
    folder = Path(tempfile.mkdtemp(prefix=KERNEL_PREFIX))
    try:
        with held(folder / LOCK):
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_stale(staging_root: Path | None) -> list[Path]:
    """Remove staging folders under ``staging_root`` and kernel folders in the temp directory whose run is
    gone; returns what was removed. Folders of live runs (lock held) are left alone."""
    removed = []
    if staging_root is not None and staging_root.is_dir() and not staging_root.is_symlink():
        removed += _clean_staging(staging_root)
    removed += _clean_kernel_folders(Path(tempfile.gettempdir()))
    return removed


def _clean_staging(root: Path) -> list[Path]:
    out = []
    for entry in sorted(root.iterdir()):
        if entry.name.endswith(LOCK) or entry.is_symlink() or not entry.is_dir():
            continue
        lock = entry.with_name(entry.name + LOCK)
        if lock.exists():
            if _free(lock, lambda entry=entry: shutil.rmtree(entry, ignore_errors=True)):
                with contextlib.suppress(OSError):
                    lock.unlink()
                out.append(entry)
        elif not (entry / "run.json").exists() and _age(entry) > LEGACY_AGE_S * 24:
            # no lock and never finished (an earlier version's leftover): stale after a day. A finished run
            # that could not be moved into place has a run.json and is kept for its owner.
            shutil.rmtree(entry, ignore_errors=True)
            out.append(entry)
    for lock in root.glob("*" + LOCK):  # a lock whose folder is gone
        if not lock.with_name(lock.name[: -len(LOCK)]).exists():
            _free(lock, lambda lock=lock: lock.unlink())
    return out


def _clean_kernel_folders(tmp: Path) -> list[Path]:
    out = []
    uid = os.getuid() if hasattr(os, "getuid") else None  # Windows: the temp folder is the user's own
    try:
        entries = list(tmp.iterdir())
    except OSError:
        return out
    for entry in entries:
        try:
            info = entry.lstat()
        except OSError:
            continue
        if (uid is not None and info.st_uid != uid) or not stat.S_ISDIR(info.st_mode):
            continue
        if entry.name.startswith(KERNEL_PREFIX):
            lock = entry / LOCK
            if lock.exists() and _free(lock, lambda entry=entry: shutil.rmtree(entry, ignore_errors=True)):
                out.append(entry)
            elif not lock.exists() and _age(entry) > LEGACY_AGE_S:  # killed between mkdtemp and the lock
                shutil.rmtree(entry, ignore_errors=True)
                out.append(entry)
        elif _LEGACY_KERNEL.match(entry.name) and _age(entry) > LEGACY_AGE_S and _only_sockets(entry):
            shutil.rmtree(entry, ignore_errors=True)
            out.append(entry)
    return out


def _free(lock: Path, action) -> bool:
    """Run ``action`` while holding ``lock`` if nobody else holds it; True when it ran."""
    try:
        check_lock_file(lock)
    except OSError:
        return False
    if not lock.exists():
        return False
    mutex = FileLock(lock, timeout=0)
    try:
        mutex.acquire()
    except (Timeout, OSError):
        return False  # a live run holds it
    try:
        action()
        return True
    finally:
        mutex.release()


def _only_sockets(folder: Path) -> bool:
    try:
        return all(_LEGACY_SOCKET.match(p.name) and stat.S_ISSOCK(p.lstat().st_mode) for p in folder.iterdir())
    except OSError:
        return False


def _age(path: Path) -> float:
    try:
        return time.time() - path.lstat().st_mtime
    except OSError:
        return 0.0

"""Read a run's ``run.json`` safely: a regular file inside the reports folder, valid JSON, and a record that fits
:data:`SCHEMA`. The index lists every run from these records, so one odd file (a wrong type in a field, a
directory, a FIFO or a symlink out of ``reports/`` named ``run.json``) must be skipped with a reason, never
break or block the index.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import jsonschema

MAX_BYTES = 5_000_000  # a run record is a few kB; anything this large is not one

_TEXT_OR_NULL = {"type": ["string", "null"]}
_COUNT_OR_NULL = {"type": ["integer", "null"], "minimum": 0}
#: What the runner writes (``marksell.runner``); extra keys are allowed so that newer records still index.
SCHEMA = {
    "type": "object",
    "required": ["notebook", "status"],
    "properties": {
        "notebook": {"type": "string", "minLength": 1, "maxLength": 200},
        "notebook_file": {"type": "string"},
        "label": _TEXT_OR_NULL,
        "status": {"enum": ["ok", "warning", "failed"]},
        "error": _TEXT_OR_NULL,
        "warning": _TEXT_OR_NULL,
        "fallbacks": {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "fits": {"type": "integer", "minimum": 0},
                "share": {"type": "number", "minimum": 0},
                "items": {"type": "array", "items": {"type": "string"}},
            },
        },
        "render_error": _TEXT_OR_NULL,
        "started": {"type": "string"},
        "ended": {"type": "string"},
        "duration_s": {"type": "number", "minimum": 0},
        "parameters": {"type": "object"},
        "overrides": {"type": "object"},
        "inputs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string"},
                    "path": _TEXT_OR_NULL,
                    "sha256": _TEXT_OR_NULL,
                    "rows": _COUNT_OR_NULL,
                },
            },
        },
        "versions": {"type": "object", "additionalProperties": _TEXT_OR_NULL},
        "python": {"type": "string"},
        "git_commit": _TEXT_OR_NULL,
        "artifacts": {"type": "array", "items": {"type": "string"}},
        "timings": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "headline": {"type": "object", "maxProperties": 4, "additionalProperties": {"type": "string"}},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


class RunRecordError(ValueError):
    """A ``run.json`` that cannot be indexed; the message says why in a few words."""


def read_run_record(path: str | Path, root: str | Path | None = None) -> dict:
    """The run record at ``path``, checked; raises :class:`RunRecordError` naming the problem.

    ``root`` (the reports folder): the file must lie inside it after resolving links. The file is opened
    without following a final symlink and without blocking (a FIFO is refused, never waited on).
    """
    path = Path(path)
    if root is not None and not _inside(path, Path(root)):
        raise RunRecordError("points outside the reports folder (symlink); not followed")
    text = _read_regular(path)
    try:
        record = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise RunRecordError(f"not valid JSON ({str(exc).splitlines()[0]})") from None
    problems = schema_problems(record)
    if problems:
        raise RunRecordError(
            "does not fit the run record schema: "
            + "; ".join(problems[:3])
            + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")
        )
    return record


def schema_problems(record) -> list[str]:
    """Every way ``record`` breaks :data:`SCHEMA`, as ``field: problem`` lines (empty when it fits)."""
    out = []
    for err in sorted(_VALIDATOR.iter_errors(record), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(map(str, err.absolute_path)) or "record"
        out.append(f"{where}: {_short(err.message)}")
    return out


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve(strict=False).relative_to(root.resolve(strict=False))
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _read_regular(path: Path) -> str:
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise RunRecordError(f"cannot be read ({exc.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise RunRecordError("is a symlink; not followed")
    if not stat.S_ISREG(info.st_mode):
        raise RunRecordError(f"is not a regular file ({_kind(info.st_mode)})")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        reason = "is a symlink; not followed" if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror})"
        raise RunRecordError(reason) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped between the check and the open
            raise RunRecordError(f"is not a regular file ({_kind(info.st_mode)})")
        if info.st_size > MAX_BYTES:
            raise RunRecordError(f"is {info.st_size:,} bytes; a run record is at most {MAX_BYTES:,}")
        data = os.read(fd, MAX_BYTES + 1)
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RunRecordError("is not UTF-8 text") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _kind(mode: int) -> str:
    for test, word in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return word
    return "not a regular file"


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

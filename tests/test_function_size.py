"""Functions stay small: a stage of work each, which a reader can test alone (CONTRIBUTING.md, issue 14).

The measure is the one the issue names: a function's lines from ``def`` to its last line (signature and
docstring included), at most :data:`MAX_LINES`. Statement counts (ruff's PLR0915) miss what makes a function
long to read here: one-argument-per-line calls after ``ruff format`` and long expressions. Split a function
that grows past the limit along its stages; a new exception needs a reason in :data:`ALLOWED`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import marksell

MAX_LINES = 80
SRC = Path(marksell.__file__).parent

#: ``module path::function`` -> why it may stay longer.
ALLOWED: dict[str, str] = {}


def long_functions(root: Path = SRC, limit: int = MAX_LINES) -> dict[str, int]:
    """``{"path::name": lines}`` for every function or method under ``root`` longer than ``limit`` lines."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    out[f"{path.relative_to(root).as_posix()}::{node.name}"] = lines
    return out


def test_no_function_is_longer_than_the_limit():
    too_long = {k: v for k, v in long_functions().items() if k not in ALLOWED}
    assert not too_long, f"functions over {MAX_LINES} lines (split them along their stages): {too_long}"


def test_the_measure_sees_a_long_function(tmp_path):
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "m.py").write_text(f"def short():\n    return 1\n\n\nclass C:\n    def long(self):\n{body}\n")
    assert long_functions(tmp_path) == {"m.py::long": MAX_LINES + 1}

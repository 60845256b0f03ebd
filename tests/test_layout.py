"""Every analysis package has the same inner shape (CONTRIBUTING.md, issue 14): one word per role."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import marksell

SRC = Path(marksell.__file__).parent
#: Packages that serve every analysis rather than being one.
SHARED = {"data", "reporting", "sample"}
ANALYSES = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists() and p.name not in SHARED)
#: module -> the public function every analysis's module of that role defines.
ROLES = {"summary.py": "summary", "brief.py": "brief", "plots.py": None}


def _functions(path: Path) -> set[str]:
    return {n.name for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.FunctionDef)}


def test_the_analyses_are_found():
    assert {"audit", "segmentation", "prioritisation", "pricing", "forecasting", "kpi", "mmm", "experiments"} <= set(ANALYSES)


@pytest.mark.parametrize("analysis", ANALYSES)
def test_every_analysis_has_one_module_per_role(analysis):
    missing = [m for m in ROLES if not (SRC / analysis / m).exists()]
    assert not missing, f"marksell.{analysis} has no {', '.join(missing)} (see CONTRIBUTING.md, 'The shape of an analysis')"
    for module, function in ROLES.items():
        if function:
            assert function in _functions(SRC / analysis / module), f"marksell/{analysis}/{module} defines no {function}()"

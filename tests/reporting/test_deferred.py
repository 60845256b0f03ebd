"""rfc3987_syntax (1.3 s of Lark grammars) is not imported with nbformat and jsonschema in marksell's processes,
and jsonschema's IRI checks still give the answers of the real module."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from marksell.reporting import deferred

pytest.importorskip("rfc3987_syntax")

CHECKS = """
import json, sys
from jsonschema import FormatChecker
values = ["http://example.com/ä?x=1#f", "not an iri", "/relative/päth", "http://[::1]:80/", "ht tp://x", ""]
checker = FormatChecker()
answers = [[checker.conforms(v, f) for f in ("iri", "iri-reference")] for v in values]
print(json.dumps({"answers": answers, "real": "rfc3987_syntax.syntax_helpers" in sys.modules}))
"""


def _python(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_the_report_engine_imports_nbformat_without_the_iri_grammars():
    got = _python(
        "import json, sys\nimport marksell.reporting.cli, marksell.reporting.runner, marksell.reporting.render\n"
        "import nbformat, papermill, jsonschema\n"
        "print(json.dumps({'real': 'rfc3987_syntax.syntax_helpers' in sys.modules,"
        " 'stand_in': type(sys.modules.get('rfc3987_syntax')).__name__}))"
    )
    assert got == {"real": False, "stand_in": "DeferredModule"}


def test_iri_checks_give_the_real_modules_answers():
    real = _python("import rfc3987_syntax\n" + CHECKS)
    shimmed = _python("import marksell.reporting\n" + CHECKS)
    assert real["real"] and shimmed["real"], "the first IRI check imported the real module"
    assert shimmed["answers"] == real["answers"]
    assert [a[0] for a in real["answers"]][:2] == [True, False], "the values tell IRIs apart"


def test_nothing_is_replaced_once_the_module_or_jsonschemas_checks_are_imported(monkeypatch):
    monkeypatch.setitem(sys.modules, deferred.NAME, sys.modules.get(deferred.NAME) or object())
    assert not deferred.defer_rfc3987_syntax()
    monkeypatch.delitem(sys.modules, deferred.NAME)
    monkeypatch.setitem(sys.modules, "jsonschema._format", object())
    assert not deferred.defer_rfc3987_syntax()

"""Defer the import of ``rfc3987_syntax`` until an IRI is checked.

nbformat (and so papermill and nbconvert) imports jsonschema, whose format module imports ``rfc3987_syntax``
when it is installed (jsonschema's ``format-nongpl`` extra, which Jupyter's server packages install). That module
builds about thirty Lark parsers on import: 1.3 s of CPU in every ``marksell`` command, for the ``iri`` format
checks that nothing in marksell runs (nbformat validates with Draft 4, which has no such format). Until upstream
defers it (python-jsonschema/jsonschema#1428), :func:`defer_rfc3987_syntax` puts a stand-in module in its place
whose ``is_valid_syntax`` imports the real module on first use, so an IRI check still gives the real answer.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

NAME = "rfc3987_syntax"


class DeferredModule(types.ModuleType):
    """Stands for ``rfc3987_syntax`` in ``sys.modules``: ``is_valid_syntax`` and any other name import the real
    module, which then replaces the stand-in."""

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(real_module(), attr)

    @staticmethod
    def is_valid_syntax(term: str, value: str) -> bool:
        return real_module().is_valid_syntax(term, value)


def real_module() -> types.ModuleType:
    """The real ``rfc3987_syntax``, imported now if only the stand-in is there."""
    module = sys.modules.get(NAME)
    if isinstance(module, DeferredModule):
        del sys.modules[NAME]
        try:
            module = importlib.import_module(NAME)
        except BaseException:
            sys.modules.setdefault(NAME, DeferredModule(NAME))
            raise
    return module


def defer_rfc3987_syntax() -> bool:
    """Put the stand-in in place when the module is installed and neither it nor jsonschema's format checks are
    imported yet; returns whether it did."""
    if NAME in sys.modules or "jsonschema._format" in sys.modules or importlib.util.find_spec(NAME) is None:
        return False
    sys.modules[NAME] = DeferredModule(NAME)
    return True

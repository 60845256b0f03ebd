"""The project's exceptions: every message says what is wrong, where, and how to fix it."""

from __future__ import annotations


class MarksellError(Exception):
    """Base class of every error marksell raises on purpose."""


class DataContractError(MarksellError, ValueError):
    """An input file breaks its data contract.

    ``problems`` lists every problem found (not just the first), each a dict with
    ``column``, ``expected``, ``found``, ``examples`` and ``fix``.
    """

    def __init__(self, source: str, kind: str, problems: list[dict]):
        self.source = str(source)
        self.kind = kind
        self.problems = problems
        lines = [f"{self.source}: {len(problems)} problem(s) with this {kind} file:"]
        for p in problems:
            where = f"column '{p['column']}'" if p.get("column") else "file"
            line = f"  - {where}: expected {p['expected']}; found {p['found']}"
            if p.get("examples"):
                line += f" (e.g. {p['examples']})"
            line += f". Fix: {p['fix']}"
            lines.append(line)
        super().__init__("\n".join(lines))


class ParameterError(MarksellError, ValueError):
    """A notebook parameter is unknown, of the wrong type, or out of range."""


class AnalysisError(MarksellError, ValueError):
    """The data are valid but an analysis cannot be carried out on them (says why)."""


class DataQualityWarning(UserWarning):
    """Data that satisfies the contract but looks suspicious (returns, gaps, duplicates)."""


class KpiWarning(UserWarning):
    """Inputs that can be analysed only in part (channels in one file only, spend without leads)."""

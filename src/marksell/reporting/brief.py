"""The executive summary that opens every report: the answer, how sure we are, and what to do.

Each analysis writes its own from its results (``<analysis>.brief(summary)``); this module only shapes and shows
it. The notebook displays it in a cell tagged ``summary``, which the HTML report lifts under the title. Text from
data is escaped: a name in the data can never become markup in the report.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from marksell.reporting.numbers import amount, share  # noqa: F401 - the briefs' formatting, re-exported


@dataclass
class Brief:
    """Three to five sentences a reviewer can act on, in three parts."""

    answer: list[str]
    confidence: str = ""
    action: str = ""
    skipped: list[str] = field(default_factory=list)  # one line per part of the analysis that did not apply

    def __post_init__(self):
        self.answer = [s.strip() for s in self.answer if s and s.strip()]
        if not self.answer:
            raise ValueError("a brief needs at least one answer sentence")

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) pairs in reading order."""
        out = [("In short", " ".join(self.answer))]
        if self.confidence:
            out.append(("How sure", self.confidence))
        if self.action:
            out.append(("What to do", self.action))
        out.extend(("Not covered", s) for s in self.skipped)
        return out

    def as_dict(self) -> dict:
        """The brief for summary.json."""
        return {"answer": self.answer, "confidence": self.confidence, "action": self.action, "skipped": list(self.skipped)}

    def __repr__(self) -> str:
        return "\n".join(f"{label}: {text}" for label, text in self.lines())

    def _repr_html_(self) -> str:
        rows = "".join(f"<p><strong>{html.escape(label)}:</strong> {html.escape(text)}</p>" for label, text in self.lines())
        return (
            "<div class='ms-brief' role='note' style='border-left:4px solid #0072B2;padding:.2em 1em;"
            f"background:#f3f8fc;margin:.5em 0'>{rows}</div>"
        )

"""The executive summary that opens every report: the answer, how sure we are, and what to do.

Each analysis writes its own from its results (``<analysis>.brief(summary)``); this module only shapes and shows
it. The notebook displays it in a cell tagged ``summary``, which the HTML report lifts under the title. Text from
data is escaped: a name in the data can never become markup in the report.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field


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
        return {"answer": self.answer, "confidence": self.confidence, "action": self.action,
                "skipped": list(self.skipped)}

    def __repr__(self) -> str:
        return "\n".join(f"{label}: {text}" for label, text in self.lines())

    def _repr_html_(self) -> str:
        rows = "".join(f"<p><strong>{html.escape(label)}:</strong> {html.escape(text)}</p>"
                       for label, text in self.lines())
        return ("<div class='ms-brief' role='note' style='border-left:4px solid #0072B2;padding:.2em 1em;"
                f"background:#f3f8fc;margin:.5em 0'>{rows}</div>")


def share(value: float, places: int = 0) -> str:
    """0.1234 -> "12 %"."""
    return f"{value * 100:.{places}f} %"


def amount(value: float, currency: str = "") -> str:
    """1234567 -> "1.23 m", with the currency in front when given."""
    size = abs(value)
    for limit, suffix in ((1e9, " bn"), (1e6, " m"), (1e3, " k")):
        if size >= limit:
            text = f"{value / limit:,.2f}".rstrip("0").rstrip(".") + suffix
            break
    else:
        text = f"{value:,.0f}" if size >= 100 else f"{value:,.2f}"
    prefix = currency if len(currency) <= 1 else currency + " "
    return prefix + text

"""Loading input files for the audit: loader problems and data-quality warnings in words
(:class:`FileAudit`, :func:`audit_file`), and :class:`AuditResult`, which gathers the file and frame
audits of every input."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marksell.audit.findings import ISSUE_COLUMNS, FrameAudit, issue_row, normalise_kind
from marksell.data.contracts import CONTRACTS
from marksell.errors import DataContractError

# ----------------------------------------------------------------------------- file audit


def problem_sentence(p: dict) -> str:
    """A loader problem dict (``column, expected, found, examples, fix``) as one sentence."""
    col = p.get("column")
    where = (f"Columns '{col}'" if ", " in str(col) else f"Column '{col}'") if col else "The file"
    s = f"{where}: expected {p.get('expected')}, found {p.get('found')}"
    if p.get("examples"):
        s += f" (e.g. {p['examples']})"
    s += "."
    if p.get("fix"):
        s += f" Fix: {p['fix']}."
    return s.replace("..", ".")


_LEADING_INT = re.compile(r"^\s*(\d+)")
_QUOTED = re.compile(r"'([^']+)'")


@dataclass
class FileAudit:
    """The outcome of loading one file: status, problems in words, and the frame when it loaded."""

    kind: str
    file: str
    status: str  # "ok", "warnings" or "failed"
    problems: list[dict] = field(default_factory=list)  # column, check, count, problem (a sentence)
    frame: pd.DataFrame | None = None
    raw_rows: int | None = None  # rows read before validation (also for failed files)
    raw_columns: int | None = None

    @property
    def report(self) -> pd.DataFrame:
        """The problems as a tidy table: ``file, kind, status, column, check, problem``.

        A file without problems gets a single row saying so.
        """
        rows = [
            {
                "file": self.file,
                "kind": self.kind,
                "status": self.status,
                "column": p["column"],
                "check": p["check"],
                "problem": p["problem"],
            }
            for p in self.problems
        ]
        if not rows:
            rows = [
                {
                    "file": self.file,
                    "kind": self.kind,
                    "status": self.status,
                    "column": "",
                    "check": "",
                    "problem": "Loaded without problems or warnings.",
                }
            ]
        return pd.DataFrame(rows, columns=["file", "kind", "status", "column", "check", "problem"])


def _display(kind: str, path) -> str:
    from marksell.data import display_path
    from marksell.paths import resolve_input

    return display_path(resolve_input(path, kind))


def _raw_shape(kind: str, path, columns) -> tuple[int | None, int | None]:
    from marksell.data import read_table
    from marksell.paths import resolve_input

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw, _ = read_table(resolve_input(path, kind), CONTRACTS[kind], columns=columns or {})
        return int(raw.shape[0]), int(raw.shape[1])
    except Exception:  # unreadable: the loader's problem already says why
        return None, None


def audit_file(kind: str, path: str = "", columns: dict | None = None, keys: list[str] | None = None) -> FileAudit:
    """Load one file with :func:`marksell.loaders.load`, reporting (not raising) what goes wrong.

    Contract violations (:class:`~marksell.errors.DataContractError`) give status ``failed`` with
    one sentence per problem; data-quality warnings give status ``warnings``; anything else that
    stops the file being read is reported as a failure in words too. ``path`` empty = the sample
    company's file; ``columns`` maps the file's names to the contract's; ``keys`` are the series
    key columns of a sales history.
    """
    from marksell.data import DataQualityWarning, load

    kind = normalise_kind(kind)
    try:
        shown = _display(kind, path)
    except Exception:
        shown = str(path)
    kw = {"keys": list(keys)} if kind == "sales_history" and keys else {}
    problems: list[dict] = []
    frame = None
    status = "ok"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = load(kind, path, columns or None, **kw)
        except DataContractError as err:
            status = "failed"
            shown = err.source or shown
            seen = set()
            for p in err.problems:
                sentence = problem_sentence(p)
                if sentence in seen:  # the loader may report one duplicate-key problem per key column
                    continue
                seen.add(sentence)
                m = _LEADING_INT.match(str(p.get("found", "")))
                problems.append(
                    {
                        "column": p.get("column") or "",
                        "check": "contract",
                        "count": int(m.group(1)) if m else np.nan,
                        "problem": sentence,
                    }
                )
        except Exception as err:  # the audit reports every failure in words
            status = "failed"
            msg = str(err).splitlines()[0] if str(err) else ""
            problems.append(
                {
                    "column": "",
                    "check": "unreadable",
                    "count": np.nan,
                    "problem": f"The file could not be read ({type(err).__name__}: {msg}).",
                }
            )
    if status != "failed":
        for w in caught:
            if not issubclass(w.category, DataQualityWarning):
                continue  # library noise is not the analyst's problem
            text = str(w.message)
            if text.startswith(shown + ": "):
                text = text[len(shown) + 2 :]
            m = _LEADING_INT.match(text)
            q = _QUOTED.search(text)
            problems.append(
                {
                    "column": q.group(1) if q else "",
                    "check": "warning",
                    "count": int(m.group(1)) if m else np.nan,
                    "problem": text[0].upper() + text[1:] + ("" if text.endswith(".") else "."),
                }
            )
        if problems:
            status = "warnings"
    if frame is not None:
        raw_rows, raw_cols = int(frame.shape[0]), int(frame.shape[1])
    else:
        raw_rows, raw_cols = _raw_shape(kind, path, columns)
    return FileAudit(
        kind=kind, file=shown, status=status, problems=problems, frame=frame, raw_rows=raw_rows, raw_columns=raw_cols
    )


@dataclass
class AuditResult:
    """Audit of every input: per-kind file audits, frame audits (files that loaded) and the overview."""

    files: dict[str, FileAudit]
    frames: dict[str, FrameAudit]
    overview: pd.DataFrame

    def loaded(self) -> dict[str, pd.DataFrame]:
        """The frames that loaded, by kind."""
        return {k: f.frame for k, f in self.files.items() if f.frame is not None}

    def reports(self) -> pd.DataFrame:
        """Every file's problems in words (``file, kind, status, column, check, problem``)."""
        return pd.concat([f.report for f in self.files.values()], ignore_index=True)

    def issues(self) -> pd.DataFrame:
        """One row per finding, loader problems and audit checks alike: ``kind, column, check, count, detail``."""
        parts = []
        for kind, fa in self.files.items():
            for p in fa.problems:
                parts.append(
                    pd.DataFrame([issue_row(kind, p["column"], p["check"], p["count"], p["problem"])], columns=ISSUE_COLUMNS)
                )
            if kind in self.frames:
                parts.append(self.frames[kind].issues())
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=ISSUE_COLUMNS)
        out = pd.concat(parts, ignore_index=True)
        out["count"] = pd.to_numeric(out["count"]).astype("Int64")
        return out

"""Data audit: what is in each input file, and what is wrong with it, as small tidy tables.

The audit is the first thing an analyst runs on new data. Every check here is descriptive: it
*reports* problems in words instead of raising them, so one broken file never hides the state of
the others.

Frame-level checks (pure functions over a loaded DataFrame and its
:class:`~marksell.data.contracts.Contract`):

- :func:`date_coverage` - first/last date, periods present, missing periods (gaps) on the
  contract's frequency (or the frequency the dates show), optionally per series;
- :func:`missing_values` - missing values per column (count and share);
- :func:`duplicates` - exact duplicate rows and duplicated keys (the contract's ``unique`` columns);
- :func:`outliers` - robust outliers per numeric column (Tukey's IQR fences or median/MAD), within
  groups where values are only comparable within a group (a product's prices, a channel's spend);
- :func:`negative_values` - negative values, and whether the contract allows them;
- :func:`zero_runs` - runs of consecutive zero units or sales within a series (closures, stock-outs);
- :func:`audit_frame` - all of the above, plus :func:`frame_issues` to list the findings.

File-level: :func:`audit_file` loads one file with :func:`marksell.loaders.load`, turning
:class:`~marksell.errors.DataContractError` and :class:`~marksell.data.loaders.DataQualityWarning` into
sentences; :func:`audit_all` does it for every input kind and builds the overview table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from marksell.audit.checks import (
    OUTLIER_GROUPS,
    ZERO_COLUMNS,
    duplicates,
    key_columns,
    missing_values,
    negative_values,
    numeric_columns,
    outliers,
    zero_runs,
)
from marksell.audit.dates import (
    date_coverage,
    expected_frequency,
    file_frequency,
    rows_per_period,
    series_keys,
)
from marksell.audit.files import AuditResult, FileAudit, audit_file, problem_sentence
from marksell.audit.findings import (
    ISSUE_COLUMNS,
    KIND_ALIASES,
    FrameAudit,
    audit_frame,
    frame_issues,
    normalise_kind,
)
from marksell.audit.summary import (
    action_list,
    coverage_caption,
    coverage_table,
    duplicates_table,
    missing_caption,
    missing_matrix,
    missing_table,
    negatives_table,
    outliers_table,
    overview_sentences,
    overview_table,
    rows_by_month,
    summary,
    zero_runs_table,
)
from marksell.data.contracts import CONTRACTS, Contract
from marksell.errors import DataContractError


def inputs_to_audit(paths: dict) -> dict:
    """The inputs to audit: only those whose path is set when any is (the user's files), else every
    input of the sample company (with its customer list after the transactions)."""
    given = {kind: path for kind, path in paths.items() if str(path or "").strip()}
    if given:
        return given
    out = {}
    for kind, path in paths.items():
        out[kind] = path
        if normalise_kind(kind) == "transactions":
            out["customers"] = ""
    return out


def audit_all(
    paths: dict, columns: dict | None = None, keys: dict | None = None, method: str = "iqr", k: float | None = None
) -> AuditResult:
    """Audit every input kind in ``paths`` (kind -> path; empty path = the sample company's file).

    ``columns`` maps kind -> {file column: contract column}; ``keys`` maps kind -> series key
    columns (used for ``sales_history``). Kinds may be given by their short names (``funnel``,
    ``market``, ``panel``, ``sales``). The overview has one row per kind: ``kind, file, status,
    rows, columns, first_date, last_date, n_problems`` (loader problems and warnings) and
    ``n_findings`` (audit findings: gaps, missing values, duplicates, outliers, negatives).
    """
    columns = {normalise_kind(k_): v for k_, v in (columns or {}).items()}
    keys = {normalise_kind(k_): v for k_, v in (keys or {}).items()}
    files: dict[str, FileAudit] = {}
    frames: dict[str, FrameAudit] = {}
    rows = []
    for raw_kind, path in paths.items():
        kind = normalise_kind(raw_kind)
        fa = audit_file(kind, path or "", columns.get(kind), keys.get(kind))
        files[kind] = fa
        first = last = pd.NaT
        n_findings = np.nan
        if fa.frame is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frames[kind] = audit_frame(fa.frame, kind, keys=keys.get(kind), method=method, k=k)
            cov = frames[kind].coverage
            if len(cov):
                first, last = cov["first_date"].iloc[0], cov["last_date"].iloc[0]
            n_findings = len(frames[kind].issues())
        rows.append(
            {
                "kind": kind,
                "file": fa.file,
                "status": fa.status,
                "rows": fa.raw_rows,
                "columns": fa.raw_columns,
                "first_date": first,
                "last_date": last,
                "n_problems": len(fa.problems),
                "n_findings": n_findings,
            }
        )
    overview = pd.DataFrame(
        rows, columns=["kind", "file", "status", "rows", "columns", "first_date", "last_date", "n_problems", "n_findings"]
    )
    for c in ("rows", "columns", "n_findings"):
        overview[c] = overview[c].astype("Int64")
    for c in ("first_date", "last_date"):
        overview[c] = pd.to_datetime(overview[c])
    return AuditResult(files=files, frames=frames, overview=overview)


__all__ = [
    "CONTRACTS",
    "Contract",
    "DataContractError",
    "ISSUE_COLUMNS",
    "KIND_ALIASES",
    "OUTLIER_GROUPS",
    "ZERO_COLUMNS",
    "action_list",
    "audit_all",
    "coverage_caption",
    "coverage_table",
    "date_coverage",
    "duplicates",
    "duplicates_table",
    "expected_frequency",
    "file_frequency",
    "frame_issues",
    "key_columns",
    "missing_caption",
    "missing_matrix",
    "missing_table",
    "missing_values",
    "negative_values",
    "negatives_table",
    "numeric_columns",
    "outliers",
    "outliers_table",
    "overview_sentences",
    "overview_table",
    "problem_sentence",
    "rows_by_month",
    "rows_per_period",
    "series_keys",
    "summary",
    "zero_runs",
    "zero_runs_table",
]

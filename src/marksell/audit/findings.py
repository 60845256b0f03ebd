"""The audit of one loaded frame: every check at once (:class:`FrameAudit`, :func:`audit_frame`), its
findings as rows of the issues table, and the input kinds with their short names."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from marksell.audit.checks import (
    N_EXAMPLES,
    ZERO_COLUMNS,
    duplicates,
    missing_values,
    negative_values,
    outliers,
    zero_runs,
)
from marksell.audit.dates import date_coverage, series_keys
from marksell.data.contracts import CONTRACTS, INPUT_NAMES, Contract

#: Input names (the notebook's parameter prefixes) accepted for the contract kinds.
KIND_ALIASES = {name: kind for name, kind in INPUT_NAMES.items() if name != kind}

#: Columns of the issues table (one row per finding).
ISSUE_COLUMNS = ["kind", "column", "check", "count", "detail"]


def normalise_kind(kind: str) -> str:
    """The contract kind for ``kind`` or one of its short aliases (``funnel``, ``panel``, ...)."""
    k = KIND_ALIASES.get(str(kind), str(kind))
    if k not in CONTRACTS:
        raise ValueError(
            f"unknown input kind {kind!r}; known kinds: {sorted(CONTRACTS)} (or the short names {sorted(KIND_ALIASES)})"
        )
    return k


# ----------------------------------------------------------------------------- frame audit


@dataclass
class FrameAudit:
    """Every check of one loaded frame (see :func:`audit_frame`)."""

    kind: str
    rows: int
    columns: int
    coverage: pd.DataFrame
    series_coverage: pd.DataFrame
    missing: pd.DataFrame
    duplicates: pd.DataFrame
    outliers: pd.DataFrame
    negatives: pd.DataFrame
    zero_runs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def issues(self) -> pd.DataFrame:
        """The findings as rows of ``kind, column, check, count, detail`` (see :func:`frame_issues`)."""
        return frame_issues(self)


def audit_frame(
    df: pd.DataFrame,
    kind: str,
    contract: Contract | None = None,
    keys: list[str] | None = None,
    method: str = "iqr",
    k: float | None = None,
) -> FrameAudit:
    """Run every check on a loaded frame of ``kind`` (its contract by default)."""
    kind = normalise_kind(kind)
    contract = contract or CONTRACTS[kind]
    by = series_keys(df, contract, keys)
    return FrameAudit(
        kind=kind,
        rows=int(len(df)),
        columns=int(df.shape[1]),
        coverage=date_coverage(df, contract),
        series_coverage=date_coverage(df, contract, by=by) if by else date_coverage(df.iloc[:0], contract, by=[]),
        missing=missing_values(df),
        duplicates=duplicates(df, contract, keys),
        outliers=outliers(df, contract, method=method, k=k, keys=keys),
        negatives=negative_values(df, contract),
        zero_runs=zero_runs(df, contract, by=by if contract.kind == "sales_history" else None),
    )


def issue_row(kind, column, check, count, detail) -> dict:
    return {"kind": kind, "column": column, "check": check, "count": count, "detail": detail}


#: Columns of a coverage table that describe the dates; the others name the series.
_COVERAGE_FIELDS = (
    "first_date",
    "last_date",
    "frequency",
    "periods_expected",
    "periods_present",
    "missing_periods",
    "first_missing",
)


def frame_issues(fa: FrameAudit) -> pd.DataFrame:
    """One row per finding of a frame audit (only checks that found something)."""
    out = [
        *_date_gap_issues(fa),
        *_series_gap_issues(fa),
        *_missing_value_issues(fa),
        *_duplicate_issues(fa),
        *_outlier_issues(fa),
        *_zero_run_issues(fa),
        *_negative_value_issues(fa),
    ]
    return pd.DataFrame(out, columns=ISSUE_COLUMNS)


def _date_gap_issues(fa: FrameAudit) -> list[dict]:
    """Periods of the whole frame's date range that have no rows."""
    out = []
    for r in fa.coverage.itertuples(index=False):
        if r.missing_periods:
            out.append(
                issue_row(
                    fa.kind,
                    "",
                    "date gaps",
                    int(r.missing_periods),
                    f"{r.missing_periods} of {r.periods_expected} {r.frequency}s between "
                    f"{r.first_date.date()} and {r.last_date.date()} have no rows "
                    f"(first: {r.first_missing.date()})",
                )
            )
    return out


def _series_gap_issues(fa: FrameAudit) -> list[dict]:
    """Series with missing periods within their own date range (one row, the worst series as examples)."""
    sc = fa.series_coverage
    if not (len(sc) and (sc["missing_periods"] > 0).any()):
        return []
    gaps = sc[sc["missing_periods"] > 0]
    by = [c for c in sc.columns if c not in _COVERAGE_FIELDS]
    worst = gaps.sort_values("missing_periods", ascending=False).head(N_EXAMPLES)
    ex = "; ".join(f"{' / '.join(str(getattr(w, b)) for b in by)}: {w.missing_periods}" for w in worst.itertuples(index=False))
    return [
        issue_row(
            fa.kind,
            ", ".join(by),
            "series gaps",
            int(gaps["missing_periods"].sum()),
            f"{len(gaps)} of {len(sc)} series have missing {sc['frequency'].iloc[0]}s within their own date range (most: {ex})",
        )
    ]


def _missing_value_issues(fa: FrameAudit) -> list[dict]:
    """Columns with empty cells."""
    return [
        issue_row(
            fa.kind,
            r.column,
            "missing values",
            int(r.missing),
            f"{r.missing} of {fa.rows} rows ({r.share:.1%}) have no value",
        )
        for r in fa.missing.itertuples(index=False)
        if r.missing
    ]


def _duplicate_issues(fa: FrameAudit) -> list[dict]:
    """Rows repeating an earlier row exactly, or an earlier row's key."""
    out = []
    for r in fa.duplicates.itertuples(index=False):
        if pd.notna(r.count) and r.count:
            exact = r.check == "exact duplicate rows"
            what = "repeat an earlier row exactly" if exact else f"repeat an earlier row's key ({r.columns})"
            out.append(
                issue_row(
                    fa.kind,
                    "" if exact else r.columns,
                    r.check,
                    int(r.count),
                    f"{int(r.count)} row(s) {what}; e.g. {r.examples}",
                )
            )
    return out


def _outlier_issues(fa: FrameAudit) -> list[dict]:
    """Columns with values outside the robust fences."""
    return [
        issue_row(
            fa.kind,
            r.column,
            "outliers",
            int(r.count),
            f"{r.count} value(s) ({r.share:.1%}) outside the robust fences "
            f"({r.n_low} low, {r.n_high} high); most extreme: {r.examples}",
        )
        for r in fa.outliers.itertuples(index=False)
        if r.count
    ]


def _zero_run_issues(fa: FrameAudit) -> list[dict]:
    """Runs of consecutive zero periods (one row, the longest runs as examples)."""
    zr = fa.zero_runs
    if not len(zr):
        return []
    by = [c for c in zr.columns if c not in ("start", "end", "periods")]
    ex = "; ".join(
        f"{' / '.join(str(getattr(w, b)) for b in by) or 'all'}: {w.start.date()} to {w.end.date()} ({w.periods})"
        for w in zr.head(N_EXAMPLES).itertuples(index=False)
    )
    col = ZERO_COLUMNS.get(fa.kind, "")
    return [
        issue_row(
            fa.kind,
            col,
            "zero runs",
            int(len(zr)),
            f"{len(zr)} run(s) of 3 or more consecutive zero '{col}' periods in "
            f"{zr[by].drop_duplicates().shape[0] if by else 1} series "
            f"(closures or stock-outs?); longest: {ex}",
        )
    ]


def _negative_value_issues(fa: FrameAudit) -> list[dict]:
    """Columns with negative values where the contract forbids them."""
    return [
        issue_row(fa.kind, r.column, "negative values", int(r.count), f"{r.count} negative value(s) ({r.share:.1%}); {r.rule}")
        for r in fa.negatives.itertuples(index=False)
    ]

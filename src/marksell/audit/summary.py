"""Tables and sentences from an audit result: one table per check over every input, the overview in
words, a JSON-able summary, the tables behind the charts, and the action list."""

from __future__ import annotations

import pandas as pd

from marksell.audit.dates import file_frequency, period_code, rows_per_period
from marksell.audit.files import AuditResult
from marksell.audit.findings import FrameAudit, normalise_kind
from marksell.data.contracts import CONTRACTS


def _stack(frames: dict[str, FrameAudit], attr: str) -> pd.DataFrame:
    parts = [getattr(fa, attr).assign(kind=kind) for kind, fa in frames.items() if len(getattr(fa, attr))]
    if not parts:
        cols = ["kind", *getattr(next(iter(frames.values())), attr).columns] if frames else ["kind"]
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    return out[["kind", *[c for c in out.columns if c != "kind"]]]


def _dates_as_text(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c].dtype):
            out[c] = out[c].dt.strftime("%Y-%m-%d").fillna("")
    return out


def coverage_table(result: AuditResult) -> pd.DataFrame:
    """Date coverage of every loaded input with dates (one row per kind), dates as text.

    Adds ``series`` and ``series_with_gaps`` for inputs made of several time series.
    """
    frames = {k: fa for k, fa in result.frames.items() if len(fa.coverage) and pd.notna(fa.coverage["first_date"].iloc[0])}
    out = _stack(frames, "coverage")
    if out.empty:
        return out

    def gaps(fa: FrameAudit) -> int:
        if len(fa.series_coverage):
            return int((fa.series_coverage["missing_periods"] > 0).sum())
        return int(fa.coverage["missing_periods"].iloc[0] > 0)

    out["series"] = [len(frames[k].series_coverage) or 1 for k in out["kind"]]
    out["series_with_gaps"] = [gaps(frames[k]) for k in out["kind"]]
    return _dates_as_text(out)


def missing_table(result: AuditResult, only_missing: bool = True) -> pd.DataFrame:
    """Missing values of every loaded input: ``kind, column, dtype, missing, share``."""
    out = _stack(result.frames, "missing")
    return out[out["missing"] > 0].reset_index(drop=True) if only_missing else out


def duplicates_table(result: AuditResult) -> pd.DataFrame:
    """Duplicates of every loaded input, one row per kind.

    Columns: ``kind, key`` (the columns that should identify a row), ``exact_duplicate_rows``,
    ``duplicate_key_rows`` (rows repeating an earlier row's key; missing when there is no key) and
    ``examples`` (of repeated keys, else of exact duplicates).
    """
    rows = []
    for kind, fa in result.frames.items():
        d = fa.duplicates.set_index("check")
        exact, key = d.loc["exact duplicate rows"], d.loc["duplicate keys"]
        rows.append(
            {
                "kind": kind,
                "key": key["columns"],
                "exact_duplicate_rows": exact["count"],
                "duplicate_key_rows": key["count"],
                "examples": key["examples"] if pd.notna(key["count"]) and key["count"] else exact["examples"],
            }
        )
    out = pd.DataFrame(rows, columns=["kind", "key", "exact_duplicate_rows", "duplicate_key_rows", "examples"])
    for c in ("exact_duplicate_rows", "duplicate_key_rows"):
        out[c] = pd.to_numeric(out[c]).astype("Int64")
    return out


def outliers_table(result: AuditResult, only_flagged: bool = False) -> pd.DataFrame:
    """Outlier checks of every loaded input (one row per numeric column)."""
    out = _stack(result.frames, "outliers")
    return out[out["count"] > 0].reset_index(drop=True) if only_flagged else out


def zero_runs_table(result: AuditResult) -> pd.DataFrame:
    """Runs of consecutive zero periods of every loaded input: ``kind, series, start, end, periods``
    (``series`` joins the key values, e.g. ``S04 / P01``), dates as text, longest first."""
    parts = []
    for kind, fa in result.frames.items():
        zr = fa.zero_runs
        if not len(zr):
            continue
        by = [c for c in zr.columns if c not in ("start", "end", "periods")]
        series = zr[by].astype(str).agg(" / ".join, axis=1) if by else pd.Series("all", index=zr.index)
        parts.append(
            pd.DataFrame(
                {"kind": kind, "series": series, "start": zr["start"], "end": zr["end"], "periods": zr["periods"].astype("int64")}
            )
        )
    if not parts:
        return pd.DataFrame(columns=["kind", "series", "start", "end", "periods"])
    out = pd.concat(parts, ignore_index=True).sort_values(["periods", "start"], ascending=[False, True], kind="stable")
    return _dates_as_text(out.reset_index(drop=True))


def negatives_table(result: AuditResult) -> pd.DataFrame:
    """Negative values of every loaded input: ``kind, column, count, share, rule``."""
    return _stack(result.frames, "negatives")


def overview_sentences(result: AuditResult) -> list[str]:
    """The overview in words: one sentence per input."""
    out = []
    for r in result.overview.itertuples(index=False):
        if r.status == "failed":
            out.append(
                f"{r.kind} ({r.file}): could not be used - {r.n_problems} problem(s) with the file, "
                "listed below with their fixes."
            )
            continue
        dates = "" if pd.isna(r.first_date) else f", {r.first_date.date()} to {r.last_date.date()}"
        warn = f"; {r.n_problems} loader warning(s)" if r.n_problems else ""
        out.append(
            f"{r.kind} ({r.file}): {int(r.rows):,} rows, {int(r.columns)} columns{dates}{warn}; "
            f"{int(r.n_findings)} audit finding(s)."
        )
    return out


def summary(result: AuditResult) -> dict:
    """A JSON-able summary: per kind status, rows, dates and counts of findings by check."""
    issues = result.issues()
    out = {
        "n_inputs": int(len(result.overview)),
        "n_failed": int((result.overview["status"] == "failed").sum()),
        "n_with_warnings": int((result.overview["status"] == "warnings").sum()),
        "n_issues": int(len(issues)),
        "inputs": {},
    }
    for r in result.overview.itertuples(index=False):
        sub = issues[issues["kind"] == r.kind]
        out["inputs"][r.kind] = {
            "file": r.file,
            "status": r.status,
            "rows": None if pd.isna(r.rows) else int(r.rows),
            "first_date": None if pd.isna(r.first_date) else r.first_date.date().isoformat(),
            "last_date": None if pd.isna(r.last_date) else r.last_date.date().isoformat(),
            "n_problems": int(r.n_problems),
            "findings": {str(c): int(n) for c, n in sub.groupby("check").size().items()},
        }
    return out


# ----------------------------------------------------------------------------- tables for charts


def rows_by_month(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per calendar month of every frame with a date column:
    ``kind, month, rows, rows_per_period, missing``.

    Months between a frame's first and last date without any row appear with ``rows`` 0.
    ``rows_per_period`` is the number of rows per period of the input's own frequency in that
    month (the average per week for weekly data, which has four or five weeks a month; the rows of
    the quarter for quarterly data), so that a partial month stands out but the calendar does not.
    ``missing`` marks months in a period of the input's grid without any row.
    """
    parts = []
    for kind, df in frames.items():
        kind = normalise_kind(kind)
        contract = CONTRACTS[kind]
        date_col = contract.date_column
        if not date_col or date_col not in df.columns or df[date_col].notna().sum() == 0:
            continue
        s = rows_per_period(df, date_col, "MS")
        per = s.astype(float)
        missing = (s == 0).to_numpy()
        freq = file_frequency(df, contract)
        if freq and freq.startswith("W"):
            weekly = rows_per_period(df, date_col, freq)
            per = weekly.groupby(weekly.index.to_period("M").to_timestamp()).mean().reindex(s.index, fill_value=0.0)
        elif freq in ("QS", "YS"):  # coarser than a month: judge the month by its quarter (year)
            code = period_code(freq)
            by_period = df[date_col].dropna().dt.to_period(code).value_counts()
            per = pd.Series([float(by_period.get(m.to_period(code), 0)) for m in s.index], index=s.index)
            missing = (per == 0).to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "month": s.index,
                    "rows": s.to_numpy(),
                    "rows_per_period": per.to_numpy(dtype=float),
                    "missing": missing,
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "kind": pd.Series(dtype="string"),
                "month": pd.Series(dtype="datetime64[ns]"),
                "rows": pd.Series(dtype="int64"),
                "rows_per_period": pd.Series(dtype="float64"),
                "missing": pd.Series(dtype="bool"),
            }
        )
    return pd.concat(parts, ignore_index=True)


def missing_matrix(frames: dict[str, FrameAudit]) -> pd.DataFrame:
    """Share of missing values, kinds (rows) by columns; NaN where the file has no such column."""
    parts = {kind: fa.missing.set_index("column")["share"] for kind, fa in frames.items()}
    if not parts:
        return pd.DataFrame()
    m = pd.DataFrame(parts).T
    order = list(dict.fromkeys(c for fa in frames.values() for c in fa.missing["column"]))
    return m.reindex(columns=order)


def overview_table(result: AuditResult) -> pd.DataFrame:
    """The overview with dates as text (for display)."""
    return _dates_as_text(result.overview)


def action_list(result: AuditResult) -> list[str]:
    """What to do about the findings, most urgent first, one sentence each.

    ``Fix`` for failed inputs, duplicated keys and date gaps (they change totals and trends),
    ``Check`` for outliers and unexpected negatives, ``Accept`` for legal returns; a single
    sentence when nothing was found.
    """
    fix, check, accept = [], [], []
    for kind, fa in result.files.items():
        if fa.status == "failed":
            fix.append(f"Fix: {kind} ({fa.file}) cannot be used - {len(fa.problems)} problem(s), see section 6.")
    issues = result.issues()
    for r in issues.itertuples(index=False):
        if r.check in ("duplicate keys", "exact duplicate rows", "date gaps", "series gaps"):
            fix.append(f"Fix: {r.kind} - {r.detail}")
        elif r.check == "zero runs":
            check.append(f"Check: {r.kind} '{r.column}' - {r.detail}")
        elif r.check == "outliers":
            check.append(f"Check: {r.kind} '{r.column}' - {r.detail}")
        elif r.check == "negative values":
            if "allowed" in r.detail:
                accept.append(f"Accept: {r.kind} '{r.column}' - {r.detail}")
            elif "breaks the contract" in r.detail:
                fix.append(f"Fix: {r.kind} '{r.column}' - {r.detail}")
            else:
                accept.append(f"Note: {r.kind} '{r.column}' - {r.detail} (legitimate if the measure can fall)")
        elif r.check == "missing values":
            check.append(f"Check: {r.kind} '{r.column}' - {r.detail}")
    out = fix + check + accept
    return out or ["Nothing to fix: every input loaded and no check found anything."]


def coverage_caption(result: AuditResult) -> str:
    """The caption of the coverage chart, from the coverage found: span, inputs and months without rows."""
    cov = coverage_table(result)
    if cov.empty:
        return "Rows per month: no input with a date column loaded."
    missing = int(cov["missing_periods"].sum())
    gaps = ", ".join(f"{k} ({int(n)})" for k, n in zip(cov["kind"], cov["missing_periods"]) if n > 0)
    return f"Rows per month of {len(cov)} input(s) with dates, {min(cov['first_date'])[:7]} to {max(cov['last_date'])[:7]}; " + (
        f"{missing} period(s) without any row: {gaps}." if missing else "no period without rows."
    )


def missing_caption(result: AuditResult) -> str:
    """The caption of the missing-values chart: how many columns miss values, and the worst one."""
    miss = missing_table(result)
    if miss.empty:
        return "Share of missing values per input and column: no column misses any value."
    worst = miss.sort_values("share", ascending=False, kind="stable").iloc[0]
    return (
        f"Share of missing values per input and column: {len(miss)} column(s) miss values; most in "
        f"{worst['kind']} '{worst['column']}' ({worst['share']:.0%})."
    )

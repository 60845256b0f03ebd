"""Write a notebook's machine-readable artifacts (CSV/JSON) into its run folder.

The report runner passes ``artifacts_dir`` to every notebook; when it is empty (an analyst
exploring in JupyterLab, or nbval) nothing is written, so notebooks never litter the repo.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from marksell.jsonable import to_jsonable

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _neutralise_text(v):
    return "'" + v if isinstance(v, str) and v.startswith(_FORMULA_PREFIXES) else v


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells (and column names) starting with ``= + - @`` (or tab/CR) with a quote.

    Spreadsheets run such cells as formulas (CSV formula injection). Only text is touched:
    numbers (including negative ones), dates and missing values are left as they are, and
    already-neutralised text (starting with ``'``) is unchanged, so the function is idempotent.
    """
    out = df.copy()
    out.columns = [_neutralise_text(c) for c in out.columns]
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        try:
            mask = s.str.startswith(_FORMULA_PREFIXES, na=False).astype(bool)
        except AttributeError:  # an object column without any text (.str gives NaN for non-text cells)
            continue
        if mask.any():
            fixed = s.astype(object).copy()
            fixed[mask.to_numpy()] = ("'" + s[mask].astype(str)).to_numpy()
            out.isetitem(i, fixed)
    return out


class Artifacts:
    """Artifact writer bound to one run folder (no-op when ``directory`` is empty)."""

    def __init__(self, directory: str | Path | None):
        self.directory = Path(directory) if directory else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def save_csv(self, df: pd.DataFrame, name: str, float_format: str = "%.6g") -> Path | None:
        """Write ``df`` as ``name`` (CSV, no index, formulas neutralised)."""
        if self.directory is None:
            return None
        path = self.directory / name
        neutralise_formulas(df).to_csv(path, index=False, float_format=float_format, lineterminator="\n")
        return path

    def save_parquet(self, df: pd.DataFrame, name: str) -> Path | None:
        """Write ``df`` as Parquet (typed, compact and fast for large tables; no formula risk)."""
        if self.directory is None:
            return None
        path = self.directory / name
        df.to_parquet(path, index=False)
        return path

    def save_table(self, df: pd.DataFrame, stem: str, formats: tuple[str, ...] = ("csv",)) -> list[Path]:
        """Write ``df`` as ``stem.csv`` and/or ``stem.parquet``, as ``formats`` asks."""
        unknown = set(formats) - {"csv", "parquet"}
        if unknown:
            raise ValueError(f"unknown artifact format(s) {sorted(unknown)}; use 'csv' and/or 'parquet'")
        out = [
            self.save_csv(df, f"{stem}.csv") if "csv" in formats else None,
            self.save_parquet(df, f"{stem}.parquet") if "parquet" in formats else None,
        ]
        return [p for p in out if p is not None]

    def save_json(self, obj, name: str) -> Path | None:
        """Write ``obj`` as pretty, key-sorted JSON (NaN written as null)."""
        if self.directory is None:
            return None
        path = self.directory / name
        path.write_text(json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    def record_inputs(self, *frames: pd.DataFrame) -> Path | None:
        """Write ``inputs.json``: provenance (path, sha256, rows) the loaders put in ``df.attrs``."""
        if self.directory is None:
            return None
        records = [f.attrs["provenance"] for f in frames if "provenance" in getattr(f, "attrs", {})]
        return self.save_json(records, "inputs.json")

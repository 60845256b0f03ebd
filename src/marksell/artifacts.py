"""Write a notebook's machine-readable artifacts (CSV/JSON) into its run folder.

The report runner passes ``artifacts_dir`` to every notebook; when it is empty (an analyst
exploring in JupyterLab, or nbval) nothing is written, so notebooks never litter the repo.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells starting with ``= + - @`` with a quote (spreadsheet formula injection).

    Only text cells are touched: numbers (including negative ones) are left as they are.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            mask = s.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_PREFIXES))
            if mask.any():
                out[col] = s.astype(object).where(~mask, "'" + s.astype(str))
    return out


def to_jsonable(obj):
    """Convert numpy/pandas scalars and containers to plain JSON types (NaN -> null)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, (pd.DataFrame,)):
        return to_jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, (pd.Series,)):
        return to_jsonable(obj.to_dict())
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj


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

"""Plain JSON types from numpy and pandas values, for summary.json and every other JSON artifact."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pandas as pd


def to_jsonable(obj):
    """Convert numpy/pandas scalars and containers to plain JSON types.

    NaN, infinities, ``pd.NA`` and ``NaT`` become null; dates become ISO text; numpy arrays,
    sets and tuples become lists; anything else unknown becomes its ``str``. The result
    always passes ``json.dumps(..., allow_nan=False)``.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return to_jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, (pd.Index, np.ndarray)):
        return [to_jsonable(v) for v in obj.tolist()] if not isinstance(obj, pd.Index) else [to_jsonable(v) for v in obj]
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        items = [to_jsonable(v) for v in obj]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, np.datetime64):
        return None if np.isnat(obj) else pd.Timestamp(obj).isoformat()
    if isinstance(obj, np.timedelta64):
        return None if np.isnat(obj) else pd.Timedelta(obj).isoformat()
    if isinstance(obj, np.generic):
        obj = obj.item()
        if isinstance(obj, (bytes, complex)):
            return str(obj)
        return to_jsonable(obj)
    if isinstance(obj, float):
        return None if (math.isnan(obj) or math.isinf(obj)) else obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, Decimal):
        return to_jsonable(float(obj))
    if hasattr(obj, "isoformat"):
        try:
            return obj.isoformat()
        except (ValueError, TypeError):
            return str(obj)
    return str(obj)

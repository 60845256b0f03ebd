"""Preparing a price panel for the elasticity models: load, derive, filter and check it, control and
instrument terms, within-demeaning of fixed effects, and the design arrays every estimator shares."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marksell.data import expressions
from marksell.errors import AnalysisError, ParameterError

FIXED_EFFECTS = ("none", "store", "time", "both")
ALL = "all"  # product id used when the panel has no product_id column

#: The notebook's defaults; each applies only where the panel has the columns it names (:func:`resolve_settings`).
DEFAULT_METHODS = ("ols", "iv", "dml")
DEFAULT_FIXED_EFFECTS = "both"
DEFAULT_INSTRUMENTS = ("log(unit_cost)",)

NO_INSTRUMENT_NOTE = (
    "no instrument column: 2SLS and double ML skipped; OLS only, which is biased where prices "
    "react to demand — name a cost shifter in `instruments`"
)


@dataclass
class Settings:
    """The methods, fixed effects and instruments a run uses, and one line per default left out."""

    methods: list[str]
    fixed_effects: str
    instruments: list[str]
    notes: list[str] = field(default_factory=list)


def resolve_settings(
    panel: pd.DataFrame,
    methods: Sequence[str] = DEFAULT_METHODS,
    fixed_effects: str = DEFAULT_FIXED_EFFECTS,
    instruments: Sequence[str] = DEFAULT_INSTRUMENTS,
) -> Settings:
    """Apply the defaults only where the panel has their columns; other values pass unchanged.

    * instruments: the default ``log(unit_cost)`` needs a ``unit_cost`` column; without it there is no
      instrument, and the default methods shrink to OLS (2SLS and double ML need an instrument);
    * fixed effects: the default ``both`` keeps store effects only with a ``store_id`` column and week
      effects only with a ``date`` column and several rows per product and week (with one row per week
      they would absorb every price change); the season is then modelled by yearly Fourier terms.

    Values that differ from the defaults are the user's and are not changed: a column they name that
    does not exist fails in :func:`marksell.elasticity.fit_elasticities` with the column's name.
    """
    methods = [str(m).lower() for m in methods]
    instruments = [str(i) for i in instruments]
    notes = []
    if tuple(instruments) == DEFAULT_INSTRUMENTS and "unit_cost" not in panel.columns:
        instruments = []
        if tuple(methods) == DEFAULT_METHODS:
            methods = ["ols"]
            notes.append(NO_INSTRUMENT_NOTE)
        else:
            notes.append("no unit_cost column, so no default instrument: name a cost shifter in `instruments` for 2SLS")
    if fixed_effects == DEFAULT_FIXED_EFFECTS:
        fixed_effects, note = _default_fixed_effects(panel)
        if note:
            notes.append(note)
    return Settings(methods, fixed_effects, instruments, notes)


def check_named_columns(available: Sequence[str], shown: str, given: dict) -> None:
    """Before any kernel: the columns the user named in ``instruments``, ``controls`` and ``se_type``
    (``cluster:<column>``) are columns of the panel.

    ``available`` are the panel's column names after the mapping and ``derive``; ``given`` holds only
    the values the user set (defaults adapt to the data instead, see :func:`resolve_settings`).
    Raises one :class:`ParameterError` naming the parameter, the column, the file and its columns.
    """
    have = set(available)
    problems = []
    for param in ("instruments", "controls"):
        for term in given.get(param) or []:
            m = _LOG_RE.match(str(term))
            col = m.group(1).strip() if m else str(term).strip()
            if col not in have:
                problems.append(f"{param}: `{col}`" + (f" (in `{term}`)" if m else "") + f" is not a column of {shown}")
    se = str(given.get("se_type") or "")
    if se.startswith("cluster:") and se.split(":", 1)[1] not in have:
        problems.append(f"se_type: cluster column `{se.split(':', 1)[1]}` is not a column of {shown}")
    if problems:
        raise ParameterError(
            "; ".join(problems) + f". Its columns (after `columns` and `derive`) are "
            f"{', '.join(sorted(have))}; name one of them, map yours with `columns`, or leave "
            "the parameter at its default."
        )


def check_run_parameters(given: dict) -> None:
    """The runner's check of a pricing run before any kernel starts (see :func:`check_named_columns`).

    ``given`` holds the parameters the user set. Only the panel's header matters: its names, mapped by
    ``columns`` (flat, or under ``panel`` or ``price_panel``), plus the ``derive`` names. Path problems are left to the
    path checks and the loader, which report them with their own messages.
    """
    named = {k: given[k] for k in ("instruments", "controls", "se_type") if given.get(k)}
    if not named:
        return
    from marksell.data.columns import input_columns
    from marksell.data.read import mapped_header

    mapping = input_columns(given.get("columns"), {"price_panel": True})["price_panel"]
    found = mapped_header(given.get("panel_path"), "price_panel", mapping)
    if found is None:
        return
    names, shown = found
    check_named_columns(names + [str(d) for d in (given.get("derive") or {})], shown, named)


def _default_fixed_effects(panel: pd.DataFrame) -> tuple[str, str]:
    """The fixed effects of the default ``both`` that this panel supports, and a note on what was left out."""
    has_store = "store_id" in panel.columns
    store = has_store and panel["store_id"].nunique() > 1
    keys = [c for c in ("product_id", "date") if c in panel.columns]
    time = "date" in panel.columns and bool(panel.duplicated(keys).any())
    chosen = "both" if store and time else ("store" if store else ("time" if time else "none"))
    parts = []
    if not store:
        parts.append(f"{'one store' if has_store else 'no store column'}: store fixed effects skipped")
    if "date" not in panel.columns:
        parts.append("no date column: week fixed effects skipped")
    elif not time:
        parts.append(
            "one row per product and week, so week fixed effects skipped too (they would absorb every "
            "price change); the season is modelled by yearly Fourier terms instead"
        )
    return chosen, "; ".join(parts)


# --------------------------------------------------------------------------- input handling
def prepare_panel(
    raw: pd.DataFrame, columns: dict | None = None, derive: dict | None = None, query: str = "", shown: str = "the price panel"
) -> pd.DataFrame:
    """Derive columns, filter rows, then map and validate the result as the loader does a file.

    ``derive`` maps a new column to an expression on the raw columns (e.g. ``{"real_price": "price / cpi"}``);
    ``query`` keeps the rows where a condition holds (e.g. ``"year == 1995"``); both use the small language of
    :mod:`marksell.data.expressions`, never Python or ``DataFrame.eval``; ``columns`` then maps source names
    to contract names. A derived column mapped onto a name the file already has needs the file's column mapped away too
    (``{"real_price": "price", "price": "nominal_price"}``); otherwise the contract error names both.
    """
    from marksell.data import loaders

    try:
        df = expressions.filter_rows(expressions.derive_columns(raw, derive), query)
    except expressions.ExpressionError as exc:
        raise AnalysisError(f"{shown}: {exc}") from None
    df = df.reset_index(drop=True)
    df.attrs = {"file_columns": [str(c) for c in df.columns]}
    # a cross-section (one row per state, say) has no date and may have no product column
    df = loaders.validate_frame(df, "price_panel", columns, shown=shown, optional=("date", "product_id"), stacklevel=3)
    check_panel(df)
    return df


def load_panel(panel_path: str = "", columns: dict | None = None, derive: dict | None = None, query: str = "") -> pd.DataFrame:
    """Load a price panel for the notebook.

    Without ``derive``/``query`` this is the project's loader (``marksell.data.loaders.load_price_panel``,
    full data-contract validation; empty path = the sample company). With them (e.g. a cross-section
    that needs real prices computed first) the file is read as it is (CSV, Parquet or Excel), then
    :func:`prepare_panel` derives, filters, maps and validates it; provenance is attached either way.
    """
    from marksell.data import loaders

    if not derive and not query:
        return loaders.load_price_panel(panel_path, columns=columns or None)
    src = loaders.resolve_input(panel_path, "price_panel")
    if not src.exists():
        raise AnalysisError(f"panel_path: file not found: {loaders.display_path(src)}.")
    suffix = src.suffix.lower()
    if suffix in (".parquet", ".pq"):
        raw = pd.read_parquet(src)
    elif suffix in (".xlsx", ".xls"):
        raw = pd.read_excel(src)
    else:
        raw = pd.read_csv(src)
    panel = prepare_panel(raw, columns, derive, query, shown=loaders.display_path(src))
    panel.attrs["provenance"] = {
        "kind": "price_panel",
        "path": loaders.display_path(src),
        "sha256": loaders.file_sha256(src),
        "rows": int(len(panel)),
        "derive": dict(derive or {}),
        "query": query,
    }
    return panel


def check_panel(panel: pd.DataFrame, need_cost: bool = False) -> None:
    """Raise ``AnalysisError`` naming the column and rows when the panel cannot be analysed.

    Checks: ``price`` and ``units`` present and numeric; no missing, zero or negative price;
    no missing or negative units; ``unit_cost`` present and positive when ``need_cost``.
    """
    missing = [c for c in ("price", "units") if c not in panel.columns]
    if missing:
        raise AnalysisError(
            f"Required column(s) {missing} missing from the price panel; found "
            f"{sorted(map(str, panel.columns))}. Map your names with `columns`."
        )
    if len(panel) == 0:
        raise AnalysisError("The price panel is empty (check the date window, product and store filters).")
    for col in ("price", "units"):
        if not pd.api.types.is_numeric_dtype(panel[col]):
            raise AnalysisError(f"Column '{col}' must be numeric; found dtype {panel[col].dtype}.")
    price, units = panel["price"], panel["units"]
    bad = price.isna() | (price <= 0)
    if bad.any():
        raise AnalysisError(
            f"Column 'price': {int(bad.sum())} row(s) with missing, zero or negative price "
            f"(e.g. {_where(panel, bad)}); prices must be > 0. Remove or fix these rows."
        )
    bad = units.isna() | (units < 0)
    if bad.any():
        raise AnalysisError(
            f"Column 'units': {int(bad.sum())} row(s) with missing or negative units "
            f"(e.g. {_where(panel, bad)}); units must be >= 0 (returns belong elsewhere)."
        )
    if need_cost:
        if "unit_cost" not in panel.columns:
            raise AnalysisError(
                "Price recommendations need a 'unit_cost' column (cost per unit); map it "
                "with `columns` or drop the recommendation step."
            )
        bad = panel["unit_cost"].isna() | (panel["unit_cost"] <= 0)
        if bad.all():
            raise AnalysisError("Column 'unit_cost' has no positive values; recommendations need unit costs.")


def _where(panel: pd.DataFrame, mask: pd.Series) -> str:
    keys = [c for c in ("product_id", "store_id", "date") if c in panel.columns]
    row = panel.loc[mask].iloc[0]
    if not keys:
        return f"row {panel.index[mask.to_numpy()][0]}"
    return ", ".join(f"{k}={row[k]}" for k in keys)


def filter_panel(
    panel: pd.DataFrame, date_from: str = "", date_to: str = "", products: Sequence[str] = (), stores: Sequence[str] = ()
) -> pd.DataFrame:
    """Keep rows in ``[date_from, date_to]`` (inclusive, ISO dates; empty = open) and the listed
    products/stores (empty = all). Raises when a listed product/store is unknown or nothing is left."""
    out = panel
    if (date_from or date_to) and "date" not in out.columns:
        raise AnalysisError("date_from/date_to given but the panel has no 'date' column.")
    if date_from:
        out = out[out["date"] >= pd.Timestamp(date_from)]
    if date_to:
        out = out[out["date"] <= pd.Timestamp(date_to)]
    for col, wanted in (("product_id", products), ("store_id", stores)):
        if wanted:
            if col not in out.columns:
                raise AnalysisError(f"Filter on {col} given but the panel has no '{col}' column.")
            unknown = sorted(set(map(str, wanted)) - set(panel[col].astype(str)))
            if unknown:
                raise AnalysisError(f"Unknown {col} value(s) {unknown}; known: {sorted(panel[col].astype(str).unique())[:20]}.")
            out = out[out[col].astype(str).isin([str(w) for w in wanted])]
    if len(out) == 0:
        raise AnalysisError("No rows left after the date/product/store filters; widen them.")
    return out.reset_index(drop=True)


_LOG_RE = re.compile(r"^\s*log\((.+)\)\s*$")


def term_values(panel: pd.DataFrame, name: str, role: str) -> np.ndarray:
    """Values of a control/instrument term: a column name, or ``log(column)`` for its logarithm."""
    m = _LOG_RE.match(name)
    col = m.group(1).strip() if m else name
    if col not in panel.columns:
        raise AnalysisError(
            f"Unknown {role} column '{col}' (from '{name}'); available columns: {sorted(map(str, panel.columns))}."
        )
    s = panel[col]
    if s.dtype == bool:
        s = s.astype(int)
    if not pd.api.types.is_numeric_dtype(s):
        raise AnalysisError(f"{role.capitalize()} column '{col}' must be numeric; found {s.dtype}.")
    v = s.to_numpy(dtype=float)
    if m:
        bad = ~(v > 0) & ~np.isnan(v)
        if bad.any():
            raise AnalysisError(
                f"{role.capitalize()} '{name}': column '{col}' has {int(bad.sum())} zero or "
                f"negative value(s), so its log is undefined; use '{col}' in levels."
            )
        v = np.log(v)
    return v


# --------------------------------------------------------------------------- within-demeaning
def demean(
    values: np.ndarray, groups: Sequence[np.ndarray], tol: float = 1e-10, max_iter: int = 1000, weights: np.ndarray | None = None
) -> np.ndarray:
    """Subtract (optionally weighted) group means for one or more grouping factors.

    ``values`` is an (n, k) array, ``groups`` a list of integer code arrays (0..G-1) of length n.
    Several factors are handled by alternating projections until a full sweep moves no value by
    more than ``tol`` times the column scale. Memory: one copy of ``values`` plus O(G) buffers;
    no dummy matrix is built.
    """
    x = np.array(values, dtype=float, copy=True)
    if x.ndim == 1:
        x = x[:, None]
    if not groups:
        return x
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    sizes = [np.bincount(g, weights=w) for g in groups]
    scale = np.maximum(np.abs(x).max(axis=0) if len(x) else np.ones(x.shape[1]), 1e-300)
    for _ in range(max_iter):
        moved = np.zeros(x.shape[1])
        for g, c in zip(groups, sizes):
            for j in range(x.shape[1]):
                wx = x[:, j] if weights is None else x[:, j] * w
                means = np.bincount(g, weights=wx, minlength=len(c)) / np.where(c > 0, c, 1)
                x[:, j] -= means[g]
                moved[j] = max(moved[j], np.abs(means).max())
        if len(groups) == 1 or np.all(moved <= tol * scale):
            break
    return x


# --------------------------------------------------------------------------- design
def group_codes(s: pd.Series) -> np.ndarray:
    return pd.factorize(s, sort=True)[0].astype(np.int64)


def _fe_groups(d: pd.DataFrame, fixed_effects: str, prod: np.ndarray) -> list[np.ndarray]:
    if fixed_effects not in FIXED_EFFECTS:
        raise AnalysisError(f"fixed_effects must be one of {list(FIXED_EFFECTS)}; got '{fixed_effects}'.")
    groups = []
    if fixed_effects in ("store", "both"):
        if "store_id" not in d.columns:
            raise AnalysisError(
                f"fixed_effects='{fixed_effects}' needs a 'store_id' column; use 'none' or "
                "'time', or map your store/region column to store_id."
            )
        groups.append(group_codes(pd.Series(prod) * 1_000_003 + group_codes(d["store_id"])))
    if fixed_effects in ("time", "both"):
        if "date" not in d.columns:
            raise AnalysisError(f"fixed_effects='{fixed_effects}' needs a 'date' column; use 'none' or 'store'.")
        groups.append(group_codes(pd.Series(prod) * 1_000_003 + group_codes(d["date"])))
    if not groups:
        groups.append(prod)  # product intercepts
    return groups


def _fourier(dates: pd.Series, harmonics: int = 2) -> tuple[np.ndarray, list[str]]:
    doy = pd.to_datetime(dates).dt.day_of_year.to_numpy(dtype=float)
    cols, names = [], []
    for k in range(1, harmonics + 1):
        cols += [np.sin(2 * np.pi * k * doy / 365.25), np.cos(2 * np.pi * k * doy / 365.25)]
        names += [f"season_sin{k}", f"season_cos{k}"]
    return np.column_stack(cols), names


def _parse_se(panel: pd.DataFrame, se_type: str) -> tuple[np.ndarray | None, str]:
    if se_type.upper() == "HC1":
        return None, "HC1"
    if se_type.startswith("cluster:"):
        col = se_type.split(":", 1)[1]
        if col not in panel.columns:
            raise AnalysisError(f"se_type '{se_type}': cluster column '{col}' not found.")
        return group_codes(panel[col]), f"CR1 clustered by {col}"
    raise AnalysisError(f"se_type must be 'HC1' or 'cluster:<column>'; got '{se_type}'.")


class PanelDesign:
    """Arrays shared by every method: logs, controls, instruments, codes (positive-unit rows)."""

    def __init__(self, panel, fixed_effects, controls, instruments, seasonality, se_type, keep_zeros=False):
        check_panel(panel)
        d = panel if "product_id" in panel.columns else panel.assign(product_id=ALL)
        self.n_zero = d.loc[d["units"] <= 0, "product_id"].astype(str).value_counts()
        instruments = list(instruments or [])
        controls = list(controls or [])
        extra_w, w_names = [], []
        if "promo" in d.columns:
            extra_w.append(term_values(d, "promo", "control"))
            w_names.append("promo")
        for c in controls:
            extra_w.append(term_values(d, c, "control"))
            w_names.append(c)
        time_fe = fixed_effects in ("time", "both")
        use_season = seasonality and "date" in d.columns and not time_fe
        if use_season and pd.to_datetime(d["date"]).nunique() >= 26:
            f, names = _fourier(d["date"])
            extra_w += list(f.T)
            w_names += names
        z = [term_values(d, c, "instrument") for c in instruments]
        mask = (d["units"].to_numpy() > 0) if not keep_zeros else np.ones(len(d), bool)
        cols = extra_w + z
        missing = np.isnan(np.column_stack(cols)).any(axis=1) if cols else np.zeros(len(d), bool)
        # rows left out because a control or instrument is missing: counted and reported per product
        self.n_missing = d.loc[missing, "product_id"].astype(str).value_counts()
        mask &= ~missing
        d = d.loc[mask].reset_index(drop=True)
        self.d = d
        self.product = d["product_id"].astype(str).to_numpy()
        self.prod_code = group_codes(d["product_id"].astype(str))
        self.y = np.log(d["units"].to_numpy(dtype=float)) if not keep_zeros else d["units"].to_numpy(float)
        self.x = np.log(d["price"].to_numpy(dtype=float))
        self.w = np.column_stack([v[mask] for v in extra_w]) if extra_w else np.zeros((len(d), 0))
        self.w_names = w_names
        self.z = np.column_stack([v[mask] for v in z]) if z else np.zeros((len(d), 0))
        self.z_names = instruments
        self.groups = _fe_groups(d, fixed_effects, self.prod_code)
        self.clusters, self.se_label = _parse_se(d, se_type)
        self.fixed_effects = fixed_effects
        self.category = d["category"].astype(str).to_numpy() if "category" in d.columns else None

    def demeaned(self):
        if not hasattr(self, "_dm"):
            stacked = np.column_stack([self.y, self.x, self.w, self.z])
            self._dm = demean(stacked, self.groups)
        k_w = self.w.shape[1]
        dm = self._dm
        return dm[:, 0], dm[:, 1], dm[:, 2 : 2 + k_w], dm[:, 2 + k_w :]

    def dof_fe(self, idx: np.ndarray) -> int:
        """Absorbed fixed-effect levels among the rows ``idx`` (two-way: minus one per product)."""
        levels = sum(len(np.unique(g[idx])) for g in self.groups)
        if len(self.groups) == 2:
            levels -= len(np.unique(self.prod_code[idx]))
        return levels

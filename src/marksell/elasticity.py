"""Price elasticity of demand: log-log models, 2SLS, double machine learning, Poisson PML.

Column contract (``price_panel``, see the brief): ``price`` (>0) and ``units`` (>=0) are required;
``product_id``, ``store_id``, ``date``, ``category``, ``promo`` (0/1) and ``unit_cost`` are optional.
Without ``product_id`` the whole frame is one product ("all"); without ``store_id``/``date`` the
store/time fixed effects are unavailable, so a plain cross-section (one row per state, say) works
with ``fixed_effects="none"``.

Choices stated once, here:

* Model: ``log units = e * log price + controls + fixed effects + error``, one regression per product
  (and one pooled per category with a common ``e``). Controls are ``promo`` when present, yearly Fourier
  terms of the date (two harmonics) when there is no time fixed effect, and the user's ``controls``.
* Fixed effects are absorbed by within-demeaning (alternating projections over group means, using
  ``numpy.bincount``); no dummy matrix is ever built (a million rows demean in about a second).
  Fixed effects are interacted with the product (store x product, week x product), which makes the
  stacked demeaning identical to demeaning each product on its own.
* Standard errors: heteroskedasticity-robust HC1 by default (``se_type="HC1"``), or cluster-robust
  CR1 with ``se_type="cluster:<column>"``. The HC1 degrees-of-freedom correction counts the absorbed
  fixed effects; the cluster correction does not (fixed effects nested in clusters, as reghdfe does).
  Intervals are 95 % normal intervals.
* ``r2`` is the within R-squared when fixed effects are absorbed, the usual centred R-squared otherwise.
* Instruments and controls are column names, used in levels, or in logs when written ``log(column)``
  (the column must then be positive). Instruments are excluded from the demand equation.
* ``iv`` is two-stage least squares on the demeaned data; residuals for the standard errors use the
  actual (not fitted) price. ``first_stage_f`` is the robust Wald F of the excluded instruments in the
  first stage (same covariance type); F < 10 flags a weak instrument. ``endogeneity_p`` is a robust
  regression-based Durbin-Wu-Hausman test (small = prices respond to demand, the naive OLS is biased).
* ``dml`` is cross-fitted partialling-out (Chernozhukov et al. 2018): units, price (and instruments)
  are residualised on the controls (and store/week codes) with scikit-learn extra-trees
  (``ExtraTreesRegressor``, seeded) in K folds, then the
  residual-on-residual regression (or residual IV when instruments are named, the partially linear IV
  model) gives ``e``. Without instruments DML only removes confounding by the *observed* controls.
* Weeks with zero units are legitimate (a closed store, a stock-out); log-log methods exclude them and
  report the count in ``n_zero_units``; ``ppml`` (Poisson pseudo-maximum likelihood; IRLS with the same
  absorbed fixed effects by weighted demeaning, checked against statsmodels GLM) keeps them as a
  sensitivity check. It is a naive estimator: it does not correct for prices that follow demand.
* Rows whose control or instrument value is missing are left out and counted in ``note``.
* Identification guard: too few observations, a single price level, or too little price variation
  after fixed effects and controls give ``identified=False`` with the ``reason`` and no estimate.

Price recommendations from these estimates live in :mod:`marksell.elasticity_pricing`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from marksell.errors import AnalysisError

METHODS = ("ols", "iv", "dml", "ppml")
FIXED_EFFECTS = ("none", "store", "time", "both")
Z95 = float(stats.norm.ppf(0.975))
ALL = "all"  # product id used when the panel has no product_id column

RESULT_COLUMNS = [
    "product_id", "category", "level", "method", "elasticity", "std_error", "ci_low", "ci_high",
    "n_obs", "identified", "reason", "first_stage_f", "weak_instrument", "r2", "n_zero_units",
    "promo_coef", "promo_se", "endogeneity_p", "fixed_effects", "se_type", "note",
]


# --------------------------------------------------------------------------- input handling
def prepare_panel(raw: pd.DataFrame, columns: dict | None = None, derive: dict | None = None,
                  query: str = "") -> pd.DataFrame:
    """Derive columns, filter rows and rename to the contract names.

    ``derive`` maps a new column to a ``DataFrame.eval`` expression on the raw columns
    (e.g. ``{"real_price": "price / cpi"}``); ``query`` is a ``DataFrame.query`` row filter
    (e.g. ``"year == 1995"``); ``columns`` then maps source names to contract names
    (e.g. ``{"packs": "units", "real_price": "price"}``). Returns a validated copy.
    """
    df = raw.copy()
    for name, expr in (derive or {}).items():
        try:
            df[name] = df.eval(expr)
        except Exception as exc:  # noqa: BLE001 - turned into a message naming the expression
            raise AnalysisError(f"derive: cannot compute '{name}' = '{expr}': {exc}. "
                                f"Available columns: {sorted(map(str, raw.columns))}.") from None
    if query:
        try:
            df = df.query(query)
        except Exception as exc:  # noqa: BLE001
            raise AnalysisError(f"query '{query}' failed: {exc}. Available columns: "
                                f"{sorted(map(str, df.columns))}.") from None
    if columns:
        missing = sorted(set(columns) - set(df.columns))
        if missing:
            raise AnalysisError(f"columns: source column(s) {missing} not found; available: "
                                f"{sorted(map(str, df.columns))}.")
        df = df.rename(columns=columns)
    check_panel(df)
    return df.reset_index(drop=True)


def load_panel(panel_path: str = "", columns: dict | None = None, derive: dict | None = None,
               query: str = "") -> pd.DataFrame:
    """Load a price panel for the notebook.

    Without ``derive``/``query`` this is the project's loader (``marksell.loaders.load_price_panel``,
    full data-contract validation; empty path = the sample company). With them (e.g. a cross-section
    that needs real prices computed first) the file is read as it is (CSV, Parquet or Excel), then
    :func:`prepare_panel` derives, filters, renames and checks it; provenance is attached either way.
    """
    from marksell import loaders

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
    panel = prepare_panel(raw, columns, derive, query)
    panel.attrs["provenance"] = {"kind": "price_panel", "path": loaders.display_path(src),
                                 "sha256": loaders.file_sha256(src), "rows": int(len(panel)),
                                 "derive": dict(derive or {}), "query": query}
    return panel


def check_panel(panel: pd.DataFrame, need_cost: bool = False) -> None:
    """Raise ``AnalysisError`` naming the column and rows when the panel cannot be analysed.

    Checks: ``price`` and ``units`` present and numeric; no missing, zero or negative price;
    no missing or negative units; ``unit_cost`` present and positive when ``need_cost``.
    """
    missing = [c for c in ("price", "units") if c not in panel.columns]
    if missing:
        raise AnalysisError(f"Required column(s) {missing} missing from the price panel; found "
                            f"{sorted(map(str, panel.columns))}. Map your names with `columns`.")
    if len(panel) == 0:
        raise AnalysisError("The price panel is empty (check the date window, product and store filters).")
    for col in ("price", "units"):
        if not pd.api.types.is_numeric_dtype(panel[col]):
            raise AnalysisError(f"Column '{col}' must be numeric; found dtype {panel[col].dtype}.")
    price, units = panel["price"], panel["units"]
    bad = price.isna() | (price <= 0)
    if bad.any():
        raise AnalysisError(f"Column 'price': {int(bad.sum())} row(s) with missing, zero or negative price "
                            f"(e.g. {_where(panel, bad)}); prices must be > 0. Remove or fix these rows.")
    bad = units.isna() | (units < 0)
    if bad.any():
        raise AnalysisError(f"Column 'units': {int(bad.sum())} row(s) with missing or negative units "
                            f"(e.g. {_where(panel, bad)}); units must be >= 0 (returns belong elsewhere).")
    if need_cost:
        if "unit_cost" not in panel.columns:
            raise AnalysisError("Price recommendations need a 'unit_cost' column (cost per unit); map it "
                                "with `columns` or drop the recommendation step.")
        bad = panel["unit_cost"].isna() | (panel["unit_cost"] <= 0)
        if bad.all():
            raise AnalysisError("Column 'unit_cost' has no positive values; recommendations need unit costs.")


def _where(panel: pd.DataFrame, mask: pd.Series) -> str:
    keys = [c for c in ("product_id", "store_id", "date") if c in panel.columns]
    row = panel.loc[mask].iloc[0]
    if not keys:
        return f"row {panel.index[mask.to_numpy()][0]}"
    return ", ".join(f"{k}={row[k]}" for k in keys)


def filter_panel(panel: pd.DataFrame, date_from: str = "", date_to: str = "",
                 products: Sequence[str] = (), stores: Sequence[str] = ()) -> pd.DataFrame:
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
                raise AnalysisError(f"Unknown {col} value(s) {unknown}; known: "
                                    f"{sorted(panel[col].astype(str).unique())[:20]}.")
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
        raise AnalysisError(f"Unknown {role} column '{col}' (from '{name}'); available columns: "
                            f"{sorted(map(str, panel.columns))}.")
    s = panel[col]
    if s.dtype == bool:
        s = s.astype(int)
    if not pd.api.types.is_numeric_dtype(s):
        raise AnalysisError(f"{role.capitalize()} column '{col}' must be numeric; found {s.dtype}.")
    v = s.to_numpy(dtype=float)
    if m:
        bad = ~(v > 0) & ~np.isnan(v)
        if bad.any():
            raise AnalysisError(f"{role.capitalize()} '{name}': column '{col}' has {int(bad.sum())} zero or "
                                f"negative value(s), so its log is undefined; use '{col}' in levels.")
        v = np.log(v)
    return v


# --------------------------------------------------------------------------- linear algebra core
def demean(values: np.ndarray, groups: Sequence[np.ndarray], tol: float = 1e-10,
           max_iter: int = 1000, weights: np.ndarray | None = None) -> np.ndarray:
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


def ppml_fit(y: np.ndarray, x: np.ndarray, groups: Sequence[np.ndarray], clusters: np.ndarray | None = None,
             dof_fe: int = 0, tol: float = 1e-9, max_iter: int = 100) -> dict:
    """Poisson pseudo-maximum likelihood with absorbed fixed effects (IRLS + weighted demeaning).

    ``y`` are counts (zeros allowed), ``x`` regressors without constant. Fixed-effect levels whose
    units are all zero are uninformative and must be removed by the caller. Returns beta, cov
    (sandwich, HC1 or CR1 via ``clusters``), deviance R2 and the number of iterations.
    """
    mu = (y + y.mean()) / 2
    eta = np.log(mu)
    dev_old = np.inf
    for it in range(1, max_iter + 1):
        z = eta + (y - mu) / mu
        dm = demean(np.column_stack([z, x]), groups, tol=1e-10, weights=mu)
        sw = np.sqrt(mu)
        beta, *_ = np.linalg.lstsq(dm[:, 1:] * sw[:, None], dm[:, 0] * sw, rcond=None)
        r = dm[:, 0] - dm[:, 1:] @ beta
        eta = z - r
        mu = np.exp(np.clip(eta, -30, 30))
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
        if abs(dev - dev_old) / (0.1 + abs(dev)) < tol:
            break
        dev_old = dev
    xt = dm[:, 1:]
    bread = np.linalg.pinv((xt * mu[:, None]).T @ xt)
    n, k = xt.shape
    cov = _cov(xt, y - mu, bread, clusters, n - k - dof_fe)
    ybar = y.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        dev_null = 2 * float(np.sum(np.where(y > 0, y * np.log(y / ybar), 0.0) - (y - ybar)))
    return {"beta": beta, "cov": cov, "r2": 1 - dev / dev_null if dev_null > 0 else np.nan, "iterations": it}


def _cov(h: np.ndarray, resid: np.ndarray, bread: np.ndarray, clusters: np.ndarray | None,
         dof_resid: int) -> np.ndarray:
    """Sandwich covariance with score columns ``h`` (X or fitted X): HC1 or CR1."""
    n, k = h.shape
    if clusters is None:
        meat = (h * resid[:, None] ** 2).T @ h
        adj = n / max(dof_resid, 1)
    else:
        g = clusters
        n_g = int(g.max()) + 1
        sums = np.zeros((n_g, k))
        np.add.at(sums, g, h * resid[:, None])
        meat = sums.T @ sums
        n_clu = len(np.unique(g))
        adj = n_clu / max(n_clu - 1, 1) * (n - 1) / max(n - k, 1)
    return adj * bread @ meat @ bread


def ols_fit(y: np.ndarray, x: np.ndarray, clusters: np.ndarray | None = None, dof_fe: int = 0,
            r2_centred: bool = False) -> dict:
    """OLS of ``y`` on ``x`` (already demeaned, no constant). Returns beta, cov, r2, resid."""
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    n, k = x.shape
    cov = _cov(x, resid, xtx_inv, clusters, n - k - dof_fe)
    tss = float(((y - y.mean()) ** 2).sum() if r2_centred else (y**2).sum())
    r2 = 1.0 - float(resid @ resid) / tss if tss > 0 else np.nan
    return {"beta": beta, "cov": cov, "resid": resid, "r2": r2}


def tsls_fit(y: np.ndarray, endog: np.ndarray, exog: np.ndarray, instruments: np.ndarray,
             clusters: np.ndarray | None = None, dof_fe: int = 0) -> dict:
    """Two-stage least squares on demeaned arrays; coefficients ordered [endog..., exog...].

    Standard errors use residuals from the actual regressors (y - X b), not the second-stage
    fitted ones. ``first_stage_f`` holds, per endogenous regressor, the robust Wald F of the
    excluded instruments in its first stage.
    """
    n = len(y)
    x = np.column_stack([endog, exog])
    zfull = np.column_stack([instruments, exog])
    ztz_inv = np.linalg.pinv(zfull.T @ zfull)
    pi = ztz_inv @ (zfull.T @ x)
    xhat = zfull @ pi
    bread = np.linalg.pinv(xhat.T @ xhat)
    beta = bread @ (xhat.T @ y)
    resid = y - x @ beta
    k = x.shape[1]
    cov = _cov(xhat, resid, bread, clusters, n - k - dof_fe)
    kz = instruments.shape[1]
    f_stats = []
    for j in range(endog.shape[1]):
        first = ols_fit(endog[:, j], zfull, clusters, dof_fe)
        b, v = first["beta"][:kz], first["cov"][:kz, :kz]
        try:
            wald = float(b @ np.linalg.solve(v, b))
        except np.linalg.LinAlgError:
            wald = np.nan
        f_stats.append(wald / kz)
    return {"beta": beta, "cov": cov, "resid": resid, "first_stage_f": f_stats}


# --------------------------------------------------------------------------- design
def _codes(s: pd.Series) -> np.ndarray:
    return pd.factorize(s, sort=True)[0].astype(np.int64)


def _fe_groups(d: pd.DataFrame, fixed_effects: str, prod: np.ndarray) -> list[np.ndarray]:
    if fixed_effects not in FIXED_EFFECTS:
        raise AnalysisError(f"fixed_effects must be one of {list(FIXED_EFFECTS)}; got '{fixed_effects}'.")
    groups = []
    if fixed_effects in ("store", "both"):
        if "store_id" not in d.columns:
            raise AnalysisError(f"fixed_effects='{fixed_effects}' needs a 'store_id' column; use 'none' or "
                                "'time', or map your store/region column to store_id.")
        groups.append(_codes(pd.Series(prod) * 1_000_003 + _codes(d["store_id"])))
    if fixed_effects in ("time", "both"):
        if "date" not in d.columns:
            raise AnalysisError(f"fixed_effects='{fixed_effects}' needs a 'date' column; use 'none' or 'store'.")
        groups.append(_codes(pd.Series(prod) * 1_000_003 + _codes(d["date"])))
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
        return _codes(panel[col]), f"CR1 clustered by {col}"
    raise AnalysisError(f"se_type must be 'HC1' or 'cluster:<column>'; got '{se_type}'.")


class _Design:
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
        self.prod_code = _codes(d["product_id"].astype(str))
        self.y = np.log(d["units"].to_numpy(dtype=float)) if not keep_zeros else d["units"].to_numpy(float)
        self.x = np.log(d["price"].to_numpy(dtype=float))
        self.w = np.column_stack([v[mask] for v in extra_w]) if extra_w else np.zeros((len(d), 0))
        self.w_names = w_names
        self.z = np.column_stack([v[mask] for v in z]) if z else np.zeros((len(d), 0))
        self.z_names = instruments
        self.groups = _fe_groups(d, fixed_effects, self.prod_code)
        self.clusters, self.se_label = _parse_se(d, se_type)
        self.fixed_effects = fixed_effects
        self.category = (d["category"].astype(str).to_numpy() if "category" in d.columns else None)

    def demeaned(self):
        if not hasattr(self, "_dm"):
            stacked = np.column_stack([self.y, self.x, self.w, self.z])
            self._dm = demean(stacked, self.groups)
        k_w = self.w.shape[1]
        dm = self._dm
        return dm[:, 0], dm[:, 1], dm[:, 2:2 + k_w], dm[:, 2 + k_w:]

    def dof_fe(self, idx: np.ndarray) -> int:
        """Absorbed fixed-effect levels among the rows ``idx`` (two-way: minus one per product)."""
        levels = sum(len(np.unique(g[idx])) for g in self.groups)
        if len(self.groups) == 2:
            levels -= len(np.unique(self.prod_code[idx]))
        return levels


# --------------------------------------------------------------------------- estimation
def _empty_row(**kw) -> dict:
    row = {c: np.nan for c in RESULT_COLUMNS}
    row.update(identified=False, weak_instrument=False, note="")
    row.update(kw)
    return row


def _guard(x_raw: np.ndarray, x_res: np.ndarray, n: int, k: int, dof_fe: int, min_obs: int,
           min_price_sd: float) -> str:
    """Reason the price effect is not identified on these rows, or '' when it is."""
    if n < min_obs:
        return f"too few observations: n={n} < min_obs={min_obs}"
    if np.ptp(x_raw) == 0:
        return f"a single price level ({np.exp(x_raw[0]):.2f}): price never changes, so its effect cannot be estimated"
    if n - k - dof_fe < 5:
        return f"too few observations for the fixed effects and controls (n={n}, parameters={k + dof_fe})"
    sd = float(np.sqrt(np.mean(x_res**2)))
    if sd < min_price_sd:
        return (f"price barely varies after fixed effects and controls: sd of log price = {sd:.4f} "
                f"< min_price_sd={min_price_sd}")
    return ""


def _partial(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    if w.shape[1] == 0:
        return a
    coef, *_ = np.linalg.lstsq(w, a, rcond=None)
    return a - w @ coef


def _drop_constant(w: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    keep = [j for j in range(w.shape[1]) if np.abs(w[:, j]).max(initial=0) > 1e-10]
    return w[:, keep], [names[j] for j in keep]


def _fit_linear(des: _Design, idx: np.ndarray, method: str, min_obs: int, min_price_sd: float,
                weak_f: float, seed: int, dml_folds: int, base: dict) -> dict:
    y, x, w, z = (a[idx] for a in des.demeaned())
    w, w_names = _drop_constant(w, des.w_names)
    n = len(y)
    dof_fe = des.dof_fe(idx)
    clusters = des.clusters[idx] if des.clusters is not None else None
    if clusters is not None:
        clusters = _codes(pd.Series(clusters))
    k = 1 + w.shape[1]
    x_res = _partial(x, w)
    reason = _guard(des.x[idx], x_res, n, k, dof_fe, min_obs, min_price_sd)
    if not reason and not np.abs(y).max(initial=0) > 1e-12:
        reason = "units do not vary after fixed effects (every week sells the same)"
    if reason:
        return _empty_row(**base, n_obs=n, reason=reason)
    row = _empty_row(**base, n_obs=n, identified=True, reason="")
    n_miss = int(sum(des.n_missing.get(p, 0) for p in set(des.product[idx])))
    if n_miss:
        row["note"] = f"{n_miss} row(s) with a missing control/instrument value left out"
    centred = des.fixed_effects == "none"
    if method in ("iv", "dml") and z.shape[1]:
        z_res = _partial(z, w)
        z_sd = np.sqrt((z_res**2).mean(axis=0))
        if np.any(z_sd < 1e-8):
            bad = [des.z_names[j] for j in np.where(z_sd < 1e-8)[0]]
            return _empty_row(**base, n_obs=n, reason=f"instrument(s) {bad} do not vary after fixed effects and controls")
    if method == "ols":
        fit = ols_fit(y, np.column_stack([x, w]), clusters, dof_fe, r2_centred=centred)
        b, cov, r2 = fit["beta"], fit["cov"], fit["r2"]
    elif method == "iv":
        fit = tsls_fit(y, x[:, None], w, z, clusters, dof_fe)
        b, cov = fit["beta"], fit["cov"]
        resid = fit["resid"]
        tss = float(((y - y.mean()) ** 2).sum() if centred else (y**2).sum())
        r2 = 1 - float(resid @ resid) / tss
        f = fit["first_stage_f"][0]
        row.update(first_stage_f=f, weak_instrument=bool(not f >= weak_f),
                   endogeneity_p=_endogeneity_p(y, x, w, z, clusters, dof_fe))
        if not f >= weak_f:
            row["note"] = f"weak instrument(s): first-stage F={f:.1f} < {weak_f:g}; estimate unreliable"
    elif method == "dml":
        b, cov, r2, f, note = _dml(des, idx, y, x, w, z, clusters, seed, dml_folds)
        row["note"] = "; ".join(t for t in (row["note"], note) if t)
        if f is not None:
            row.update(first_stage_f=f, weak_instrument=bool(not f >= weak_f))
    else:
        raise AnalysisError(f"Unknown method '{method}'; choose from {list(METHODS)}.")
    se = float(np.sqrt(cov[0, 0]))
    row.update(elasticity=float(b[0]), std_error=se, ci_low=float(b[0] - Z95 * se),
               ci_high=float(b[0] + Z95 * se), r2=r2)
    if "promo" in w_names and method != "dml":
        j = 1 + w_names.index("promo")
        row.update(promo_coef=float(b[j]), promo_se=float(np.sqrt(cov[j, j])))
    return row


def _endogeneity_p(y, x, w, z, clusters, dof_fe) -> float:
    """Robust (regression-based, Wooldridge) Durbin-Wu-Hausman test: p-value of the first-stage
    residual added to the OLS demand equation; small p = price responds to the demand shock."""
    zw = np.column_stack([z, w])
    v = x - zw @ np.linalg.lstsq(zw, x, rcond=None)[0]
    fit = ols_fit(y, np.column_stack([x, w, v]), clusters, dof_fe + 1)
    t = fit["beta"][-1] / np.sqrt(fit["cov"][-1, -1])
    return float(2 * stats.norm.sf(abs(t)))


def _dml(des, idx, y, x, w, z, clusters, seed, folds):
    """Cross-fitted partialling-out; residual OLS (PLR) or residual 2SLS (PLIV with instruments)."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.model_selection import KFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    feats = [w]
    if "store_id" in des.d.columns:
        feats.append(_codes(des.d["store_id"].iloc[idx])[:, None].astype(float))
    if "date" in des.d.columns:
        feats.append(_codes(des.d["date"].iloc[idx])[:, None].astype(float))
    feats = np.column_stack(feats) if sum(f.shape[1] for f in feats) else np.zeros((len(y), 1))
    folds = min(folds, len(y))
    kf = KFold(n_splits=folds, shuffle=True, random_state=seed)
    n = len(y)
    # small samples: smaller leaves and no subsampling, else the trees could not split at all
    learner = ExtraTreesRegressor(n_estimators=25, max_depth=6, min_samples_leaf=min(10, max(2, n // 50)),
                                  max_features=0.6, random_state=seed)
    targets = np.column_stack([y, x, z])
    res = np.empty_like(targets)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(targets.shape[1]):
            res[:, j] = targets[:, j] - cross_val_predict(learner, feats, targets[:, j], cv=kf)
    ry, rx, rz = res[:, 0], res[:, 1], res[:, 2:]
    n = len(y)
    if rz.shape[1]:
        fit = tsls_fit(ry, rx[:, None], np.zeros((n, 0)), rz, clusters, 0)
        b, cov, f = fit["beta"], fit["cov"], fit["first_stage_f"][0]
        note = f"partially linear IV, {folds}-fold cross-fitted extra-trees"
    else:
        fit = ols_fit(ry, rx[:, None], clusters, 0)
        b, cov, f = fit["beta"], fit["cov"], None
        note = (f"partialling-out (no instruments: corrects only for observed controls), "
                f"{folds}-fold cross-fitted extra-trees")
    resid = ry - rx * b[0]
    r2 = 1 - float(resid @ resid) / float(ry @ ry) if ry @ ry > 0 else np.nan
    return b, cov, r2, f, note


def _fit_ppml(des: "_Design", idx: np.ndarray, min_obs: int, min_price_sd: float, base: dict) -> dict:
    """Poisson PML on levels of units, zero weeks included, fixed effects absorbed."""
    y = des.y[idx]
    x = np.column_stack([des.x[idx], des.w[idx]])
    groups = [_codes(pd.Series(g[idx])) for g in des.groups]
    # fixed-effect levels with no sales at all carry no information (and push mu to zero): drop them
    keep = np.ones(len(y), bool)
    for g in groups:
        keep &= (np.bincount(g, weights=y) > 0)[g]
    n_zero = int((y <= 0).sum())
    y, x = y[keep], x[keep]
    groups = [_codes(pd.Series(g[keep])) for g in groups]
    x_dm = demean(x, groups)
    xw, names = _drop_constant(x_dm[:, 1:], des.w_names)
    n = len(y)
    dof_fe = sum(int(g.max()) + 1 for g in groups) - (len(groups) - 1)
    reason = _guard(x[:, 0], _partial(x_dm[:, 0], xw), n, 1 + xw.shape[1], dof_fe, min_obs, min_price_sd)
    if reason:
        return _empty_row(**base, n_obs=n, reason=reason)
    keep_cols = [0] + [1 + des.w_names.index(c) for c in names]
    clusters = des.clusters[idx][keep] if des.clusters is not None else None
    if clusters is not None:
        clusters = _codes(pd.Series(clusters))
    fit = ppml_fit(y, x[:, keep_cols], groups, clusters, dof_fe)
    b, se = float(fit["beta"][0]), float(np.sqrt(fit["cov"][0, 0]))
    row = _empty_row(**base, n_obs=n, identified=True, reason="", elasticity=b, std_error=se,
                     ci_low=b - Z95 * se, ci_high=b + Z95 * se, r2=fit["r2"],
                     note=f"Poisson PML, {n_zero} zero-unit weeks kept; r2 = deviance R2")
    if "promo" in names:
        j = 1 + names.index("promo")
        row.update(promo_coef=float(fit["beta"][j]), promo_se=float(np.sqrt(fit["cov"][j, j])))
    return row


def fit_elasticities(panel: pd.DataFrame, methods: Sequence[str] = ("ols", "iv", "dml"),
                     fixed_effects: str = "both", controls: Sequence[str] = (),
                     instruments: Sequence[str] = (), se_type: str = "HC1", pooled: bool = True,
                     seasonality: bool = True, min_obs: int = 30, min_price_sd: float = 0.01,
                     weak_f: float = 10.0, seed: int = 7, dml_folds: int = 5) -> pd.DataFrame:
    """Own-price elasticity per product (and pooled per category) for each method.

    Returns one row per product (``level="product"``) and method, plus pooled rows per category
    (``level="category"``, ``product_id="pooled:<category>"``) for ``ols`` and ``iv``, with the columns ``RESULT_COLUMNS``.
    Rows that cannot be estimated have ``identified=False``, a ``reason`` and NaN numbers.
    ``iv`` needs ``instruments``; without them it raises. See the module docstring for choices.
    """
    methods = [m.lower() for m in methods]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise AnalysisError(f"Unknown method(s) {unknown}; choose from {list(METHODS)}.")
    if "iv" in methods and not instruments:
        raise AnalysisError("method 'iv' needs at least one instrument column (e.g. instruments=['log(unit_cost)']); "
                            "drop 'iv' from methods or name an instrument.")
    controls, instruments = list(controls or []), list(instruments or [])
    overlap = set(controls) & set(instruments)
    if overlap:
        raise AnalysisError(f"{sorted(overlap)} named both as control and instrument; an instrument must be "
                            "excluded from the demand equation.")
    des = _Design(panel, fixed_effects, controls, instruments, seasonality, se_type)
    cat_of = (dict(zip(des.product, des.category)) if des.category is not None else {})
    full = panel if "product_id" in panel.columns else panel.assign(product_id=ALL)
    all_products = sorted(full["product_id"].astype(str).unique())
    order = np.argsort(des.prod_code, kind="stable")
    bounds = np.searchsorted(des.prod_code[order], np.arange(des.prod_code.max() + 2 if len(order) else 1))
    prods_in = sorted(set(des.product))
    idx_of = {p: order[bounds[i]:bounds[i + 1]] for i, p in enumerate(prods_in)}
    if "ppml" in methods:
        des_pois = _Design(panel, fixed_effects, controls, [], seasonality, se_type, keep_zeros=True)
        idx_pois = {p: np.where(des_pois.product == p)[0] for p in all_products}
    rows = []
    common = {"fixed_effects": fixed_effects, "se_type": des.se_label}
    for method in methods:
        for p in all_products:
            base = dict(common, product_id=p, category=cat_of.get(p, _first(full, p)), level="product",
                        method=method, n_zero_units=int(des.n_zero.get(p, 0)))
            if method == "ppml":
                rows.append(_fit_ppml(des_pois, idx_pois[p], min_obs, min_price_sd, base))
            elif p not in idx_of:
                rows.append(_empty_row(**base, n_obs=0, reason="no weeks with positive units"))
            else:
                rows.append(_fit_linear(des, idx_of[p], method, min_obs, min_price_sd, weak_f, seed,
                                        dml_folds, base))
        if pooled and des.category is not None and method in ("ols", "iv"):
            for c in sorted(set(des.category)):
                idx = np.where(des.category == c)[0]
                members = sorted(set(des.product[idx]))
                base = dict(common, product_id=f"pooled:{c}", category=c, level="category", method=method,
                            n_zero_units=int(sum(des.n_zero.get(p, 0) for p in members)))
                row = _fit_linear(des, idx, method, min_obs, min_price_sd, weak_f, seed, dml_folds, base)
                row["note"] = (row["note"] + "; " if row["note"] else "") + f"common slope over {len(members)} products"
                rows.append(row)
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    out["identified"] = out["identified"].astype(bool)
    out["weak_instrument"] = out["weak_instrument"].astype(bool)
    out["n_obs"] = out["n_obs"].fillna(0).astype(int)
    return out


def _first(full: pd.DataFrame, p: str):
    if "category" not in full.columns:
        return ""
    s = full.loc[full["product_id"].astype(str) == p, "category"]
    return str(s.iloc[0]) if len(s) else ""


# --------------------------------------------------------------------------- cross-price
def fit_cross_elasticities(panel: pd.DataFrame, method: str = "iv", fixed_effects: str = "both",
                           controls: Sequence[str] = (), instruments: Sequence[str] = (),
                           se_type: str = "HC1", seasonality: bool = True, min_obs: int = 30,
                           min_price_sd: float = 0.01) -> pd.DataFrame:
    """Own and cross-price elasticities within each category (long table).

    For each product i: ``log units_i`` on the log prices of every product in its category in the
    same store-week (plus i's promo and controls, fixed effects absorbed). With ``method="iv"``
    every price is instrumented by the instruments of its own product (e.g. each product's unit
    cost). Positive cross elasticity = substitutes, negative = complements. Needs a category and
    a store and/or date column to match the weeks.
    """
    if method not in ("ols", "iv"):
        raise AnalysisError(f"cross elasticities support method 'ols' or 'iv'; got '{method}'.")
    if method == "iv" and not instruments:
        raise AnalysisError("method 'iv' needs instruments (e.g. ['log(unit_cost)']).")
    check_panel(panel)
    for col in ("product_id", "category"):
        if col not in panel.columns:
            raise AnalysisError(f"Cross elasticities need a '{col}' column.")
    keys = [c for c in ("store_id", "date") if c in panel.columns]
    if not keys:
        raise AnalysisError("Cross elasticities need store_id and/or date to line up prices of products.")
    d = panel.copy()
    d["product_id"] = d["product_id"].astype(str)
    d["_lp"] = np.log(d["price"].to_numpy(float))
    inst_names = list(instruments) if method == "iv" else []
    for j, name in enumerate(inst_names):
        d[f"_z{j}"] = term_values(d, name, "instrument")
    rows = []
    for cat, cd in d.groupby("category", sort=True):
        prods = sorted(cd["product_id"].unique())
        wide = cd.pivot_table(index=keys, columns="product_id", values=["_lp"] + [f"_z{j}" for j in range(len(inst_names))],
                              aggfunc="mean")
        for p in prods:
            own = cd[cd["product_id"] == p].copy()
            own = own.merge(wide.set_axis([f"{a}|{b}" for a, b in wide.columns], axis=1).reset_index(), on=keys)
            price_cols = [f"_lp|{q}" for q in prods]
            z_cols = [f"_z{j}|{q}" for q in prods for j in range(len(inst_names))]
            own = own.dropna(subset=price_cols + z_cols)
            n_zero = int((own["units"] <= 0).sum())
            own = own[own["units"] > 0].reset_index(drop=True)
            base = {"category": cat, "product_id": p, "method": method, "fixed_effects": fixed_effects}
            if len(own) < min_obs:
                for q in prods:
                    rows.append(dict(base, price_of=q, identified=False, n_obs=len(own),
                                     reason=f"too few matched observations: n={len(own)} < min_obs={min_obs}"))
                continue
            des = _Design(own.drop(columns=[c for c in own.columns if c.startswith(("_lp", "_z"))]),
                          fixed_effects, controls, [], seasonality, se_type)
            y, _, w, _ = des.demeaned()
            w, _names = _drop_constant(w, des.w_names)
            xp = demean(own[price_cols].to_numpy(float), des.groups)
            dof_fe = des.dof_fe(np.arange(len(own)))
            clusters = des.clusters
            sds = np.sqrt((_partial(xp, w) ** 2).mean(axis=0))
            if np.any(sds < min_price_sd):
                bad = [prods[j] for j in np.where(sds < min_price_sd)[0]]
                for q in prods:
                    rows.append(dict(base, price_of=q, identified=False, n_obs=len(own),
                                     reason=f"price of {bad} barely varies after fixed effects"))
                continue
            if method == "ols":
                fit = ols_fit(y, np.column_stack([xp, w]), clusters, dof_fe)
                fstat = None
            else:
                zz = demean(own[z_cols].to_numpy(float), des.groups)
                fit = tsls_fit(y, xp, w, zz, clusters, dof_fe)
                fstat = float(np.min(fit["first_stage_f"]))
            for j, q in enumerate(prods):
                b, se = float(fit["beta"][j]), float(np.sqrt(fit["cov"][j, j]))
                rows.append(dict(base, price_of=q, elasticity=b, std_error=se, ci_low=b - Z95 * se,
                                 ci_high=b + Z95 * se, n_obs=len(own), identified=True, reason="",
                                 min_first_stage_f=fstat, n_zero_units=n_zero))
    cols = ["category", "product_id", "price_of", "method", "elasticity", "std_error", "ci_low", "ci_high",
            "n_obs", "identified", "reason", "min_first_stage_f", "n_zero_units", "fixed_effects"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    out["relation"] = np.select(
        [out["product_id"] == out["price_of"], out["ci_low"] > 0, out["ci_high"] < 0],
        ["own", "substitute", "complement"], default="no clear effect")
    out.loc[~out["identified"].astype(bool), "relation"] = "not identified"
    return out


def cross_matrix(cross: pd.DataFrame, category: str, value: str = "elasticity") -> pd.DataFrame:
    """Square matrix for one category: rows = demand of, columns = price of."""
    sub = cross[cross["category"] == category]
    if sub.empty:
        raise AnalysisError(f"Category '{category}' not in the cross-elasticity table; known: "
                            f"{sorted(cross['category'].unique())}.")
    return sub.pivot(index="product_id", columns="price_of", values=value)


# --------------------------------------------------------------------------- promotions
def promo_lift(fits: pd.DataFrame, method: str = "iv") -> pd.DataFrame:
    """Promotion lift per product: % more units in a promo week at the same price (95 % CI).

    The lift is ``exp(b) - 1`` for the promo coefficient ``b`` of the log-log model, i.e. the effect
    of the promotion itself (display, feature) on top of its price cut, which the elasticity covers.
    """
    sub = fits[(fits["method"] == method) & (fits["level"] == "product")]
    if sub.empty:
        raise AnalysisError(f"No '{method}' rows in the elasticity table; run fit_elasticities with it.")
    b, se = sub["promo_coef"].astype(float), sub["promo_se"].astype(float)
    out = pd.DataFrame({
        "product_id": sub["product_id"], "category": sub["category"], "method": method,
        "lift_pct": np.expm1(b) * 100, "ci_low_pct": np.expm1(b - Z95 * se) * 100,
        "ci_high_pct": np.expm1(b + Z95 * se) * 100, "identified": sub["identified"] & b.notna(),
    })
    out["reason"] = np.where(out["identified"], "", np.where(sub["identified"], "no promo variation",
                                                              sub["reason"].fillna("")))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- truth & summary
def compare_to_truth(fits: pd.DataFrame, truth: dict) -> pd.DataFrame:
    """Join product rows with planted elasticities: error and whether the 95 % CI covers the truth."""
    sub = fits[fits["level"] == "product"].copy()
    sub["true_elasticity"] = sub["product_id"].map(truth)
    sub = sub[sub["true_elasticity"].notna()]
    sub["error"] = sub["elasticity"] - sub["true_elasticity"]
    sub["covered"] = (sub["ci_low"] <= sub["true_elasticity"]) & (sub["true_elasticity"] <= sub["ci_high"])
    return sub[["product_id", "method", "elasticity", "ci_low", "ci_high", "true_elasticity", "error",
                "covered", "identified"]].reset_index(drop=True)


def wide_table(fits: pd.DataFrame, level: str = "product", digits: int = 2) -> pd.DataFrame:
    """One row per product (or category), one column per method: ``estimate [ci_low, ci_high]``.

    Unidentified cells read ``not identified``; ``n_obs`` and the 2SLS first-stage F are appended.
    """
    sub = fits[fits["level"] == level]
    cells = np.where(sub["identified"],
                     sub["elasticity"].map(lambda v: f"{v:.{digits}f}") + " [" + sub["ci_low"].map(lambda v: f"{v:.{digits}f}")
                     + ", " + sub["ci_high"].map(lambda v: f"{v:.{digits}f}") + "]", "not identified")
    out = sub.assign(cell=cells).pivot(index="product_id", columns="method", values="cell")
    out = out[[m for m in fits["method"].unique() if m in out.columns]]
    first = sub.drop_duplicates("product_id").set_index("product_id")
    out["n_obs"] = sub.groupby("product_id")["n_obs"].max()
    if "iv" in set(sub["method"]):
        out["first_stage_f"] = sub[sub["method"] == "iv"].set_index("product_id")["first_stage_f"].round(1)
    out.insert(0, "category", first["category"])
    return out


def naive_vs_corrected(fits: pd.DataFrame, naive: str = "ols", corrected: str = "iv",
                       truth: dict | None = None, alpha: float = 0.01) -> pd.DataFrame:
    """Naive and corrected elasticities side by side, with a test of whether prices are endogenous.

    ``endogeneity_p`` is the heteroskedasticity-robust regression-based Durbin-Wu-Hausman test of the
    2SLS fit (the first-stage residual added to the naive equation); when the 2SLS rows are missing it
    falls back to the classic Hausman contrast ``(corrected - naive) / sqrt(se_c^2 - se_n^2)``.
    ``prices_respond_to_demand`` = p < ``alpha`` (1 % by default: many products are tested at once, so a
    stricter level keeps false alarms rare). With ``truth`` (product -> elasticity) the absolute
    errors of both estimates are added.
    """
    cols = ["product_id", "elasticity", "std_error", "identified", "endogeneity_p"]
    a = fits[(fits["method"] == naive) & (fits["level"] == "product")][cols].set_index("product_id")
    b = fits[(fits["method"] == corrected) & (fits["level"] == "product")][cols].set_index("product_id")
    if a.empty or b.empty:
        raise AnalysisError(f"Need both '{naive}' and '{corrected}' rows; fitted methods: "
                            f"{sorted(fits['method'].unique())}.")
    out = pd.DataFrame({naive: a["elasticity"], corrected: b["elasticity"]})
    out["gap"] = out[corrected] - out[naive]
    iv = fits[(fits["method"] == "iv") & (fits["level"] == "product")].set_index("product_id")["endogeneity_p"]
    if iv.notna().any():
        out["endogeneity_p"] = iv.reindex(out.index).astype(float)
    else:
        var = (b["std_error"] ** 2 - a["std_error"] ** 2).astype(float)
        z = out["gap"] / np.sqrt(var.where(var > 0, np.nan))
        out["endogeneity_p"] = 2 * stats.norm.sf(z.abs())
    out["prices_respond_to_demand"] = out["endogeneity_p"] < alpha
    both = (a["identified"] & b["identified"]).reindex(out.index).fillna(False).astype(bool)
    out.loc[~both, ["gap", "endogeneity_p"]] = np.nan
    out.loc[~both, "prices_respond_to_demand"] = False
    if truth:
        out["truth"] = out.index.map(truth)
        out[f"abs_error_{naive}"] = (out[naive] - out["truth"]).abs()
        out[f"abs_error_{corrected}"] = (out[corrected] - out["truth"]).abs()
    return out.reset_index()


def describe_panel(panel: pd.DataFrame) -> str:
    """One line on what the panel holds: rows, products, stores, weeks, zero-unit weeks."""
    parts = [f"{len(panel):,} rows"]
    for col, word in (("product_id", "products"), ("store_id", "stores"), ("category", "categories")):
        if col in panel.columns:
            parts.append(f"{panel[col].nunique()} {word}")
    if "date" in panel.columns:
        parts.append(f"{panel['date'].nunique()} weeks ({panel['date'].min():%Y-%m-%d} to {panel['date'].max():%Y-%m-%d})")
    parts.append(f"{int((panel['units'] == 0).sum())} zero-unit rows")
    return ", ".join(parts)


def explain_comparison(comparison: pd.DataFrame, naive: str = "ols", corrected: str = "iv") -> str:
    """A few sentences on which products the naive estimate misleads, for the notebook."""
    flagged = comparison[comparison["prices_respond_to_demand"]]
    n = len(comparison)
    if flagged.empty:
        what = "the product" if n == 1 else f"any of the {n} products"
        return (f"For {what} the {corrected} estimate does not differ from the naive one by more than chance "
                "(endogeneity test p >= 0.01): prices look unrelated to demand shocks here, and the (more "
                "precise) naive estimates can be used; the corrected ones remain the safer reading.")
    lines = [f"For **{len(flagged)} of {n}** products the naive and corrected estimates differ by more than "
             f"chance ({', '.join(flagged['product_id'])}):"]
    for _, r in flagged.iterrows():
        direction = "more" if r["gap"] < 0 else "less"
        lines.append(f"- {r['product_id']}: naive {r[naive]:.2f} vs corrected {r[corrected]:.2f} — demand is "
                     f"{direction} price-sensitive than the naive regression says.")
    lines.append("Use the corrected estimates for these products; the naive ones would mis-price them.")
    return "\n".join(lines)


def summarise(fits: pd.DataFrame, recs: pd.DataFrame | None = None, **settings) -> dict:
    """Small JSON-able summary of a run: settings, counts, median elasticity per method."""
    prod = fits[fits["level"] == "product"]
    out = {"settings": settings, "n_products": int(prod["product_id"].nunique()), "methods": {}}
    for m, g in prod.groupby("method", sort=True):
        ok = g[g["identified"]]
        out["methods"][m] = {
            "identified": int(len(ok)), "not_identified": int((~g["identified"]).sum()),
            "median_elasticity": float(ok["elasticity"].median()) if len(ok) else None,
            "weak_instrument": int(g["weak_instrument"].sum()),
        }
    out["zero_unit_weeks_excluded"] = int(prod.drop_duplicates("product_id")["n_zero_units"].sum())
    if recs is not None:
        out["recommendations"] = {s: int(n) for s, n in recs["status"].str.split(":").str[0].value_counts().items()}
    return out

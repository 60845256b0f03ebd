"""Sales forecasting: automatic statistical models, rolling-origin backtest, coherent hierarchies.

Input contract (long form, one row per series and period):

- ``date_col`` (datetime-like): the period; weekly, monthly or quarterly. Dates inside a period are
  mapped to its first day (week start on the data's weekday, month start, quarter start).
- ``keys`` (strings): zero or more key columns (e.g. ``region``, ``category``); no keys = one series.
- ``value_col`` (float): the quantity to forecast (e.g. ``sales``).

What :func:`run_forecast` does, and why:

1. **Validate** the frequency (given or inferred), gaps and duplicate periods (explicit policies,
   never silent), and that there is enough history for the horizon and the backtest.
2. **Hierarchy**: aggregates the bottom series (all keys) to the requested levels (e.g. ``total``,
   ``region``) so every level gets a forecast.
3. **Models** per series (statsmodels): ``naive``, ``snaive`` (baselines), ``ets`` (automatic
   ETSModel, stepwise AICc search over the admissible error/trend/damping/season set;
   multiplicative forms only for strictly positive data), ``arima`` (SARIMA with a small AICc
   search on conditional sums of squares after unit-root and seasonal-strength tests), ``theta``
   (ThetaModel) and ``combo`` (mean of ets, arima and theta).
   Every model gives prediction intervals at each requested level.
4. **Rolling-origin backtest** with ``n_origins`` origins and the forecast horizon: MASE, RMSSE,
   sMAPE, scaled bias and empirical interval coverage per series and model. To keep the cost down the
   model *structure* (ETS form, ARIMA order) is chosen once per series on the first origin's training
   data; later origins re-run the filter with those parameters on the longer history (no future
   information is used) and the final forecast re-estimates the parameters on all the data.
5. **Selection** per series (lowest backtest MASE) or one global model.
6. **Reconciliation** with numpy: bottom-up, OLS and MinT-shrink (Wickramasuriya, Athanasopoulos &
   Hyndman 2019, Schäfer-Strimmer shrinkage of the one-step residual covariance). Reconciled forecasts
   add up exactly; their interval widths are those of the base forecasts, moved with the mean.

Fits run in parallel across series (joblib loky processes, one BLAS thread per worker); results are
identical for any ``n_jobs`` because every series uses its own seed and one BLAS thread.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import norm

from marksell.errors import AnalysisError, ParameterError

BASELINES = ("naive", "snaive")
ALL_MODELS = ("naive", "snaive", "ets", "arima", "theta", "combo")
DEFAULT_MODELS = list(ALL_MODELS)
COMBO_MEMBERS = ("ets", "arima", "theta")
#: With more series than this and no models named, ARIMA is left out (the fast default: it is the
#: costliest model and rarely adds accuracy over ETS + Theta + their combination).
FAST_ABOVE = 200
FAST_MODELS = ("naive", "snaive", "ets", "theta", "combo")
RECONCILIATIONS = ("bottom_up", "ols", "mint_shrink")
SEASON_BY_FREQ = {"W": 52, "M": 12, "Q": 4}
_FREQ_WORDS = {
    "W": "W", "WEEK": "W", "WEEKLY": "W",
    "M": "M", "MS": "M", "ME": "M", "MONTH": "M", "MONTHLY": "M",
    "Q": "Q", "QS": "Q", "QE": "Q", "QUARTER": "Q", "QUARTERLY": "Q",
}
_WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
#: ETS seasonal forms are skipped for season lengths above this (too many states for ETS).
MAX_ETS_SEASON = 24
#: Seasonal strength (STL) above which a series is treated as strongly seasonal (Wang et al. 2006).
STRONG_SEASON = 0.64
FILL_GAPS = ("refuse", "zero", "interpolate")
DUPLICATES = ("refuse", "sum", "mean")


# --------------------------------------------------------------------------------------------
# Parameters and input validation
# --------------------------------------------------------------------------------------------

def normalise_freq(freq: str | None) -> str | None:
    """Map a frequency string (``W``, ``weekly``, ``MS``, ``QE``...) to ``W``, ``M`` or ``Q``.

    Empty/None means "infer from the dates". Unknown strings raise :class:`ParameterError`.
    """
    if freq is None or str(freq).strip() == "":
        return None
    s = str(freq).strip().upper()
    if s.startswith("W-"):
        s = "W"
    if s not in _FREQ_WORDS:
        raise ParameterError(
            f"Unknown frequency {freq!r}: use one of 'W' (weekly), 'M' (monthly) or 'Q' (quarterly), "
            "or leave it empty to infer it from the dates.")
    return _FREQ_WORDS[s]


def infer_freq(dates: pd.Series) -> str:
    """Infer ``W``, ``M`` or ``Q`` from the median spacing of the distinct dates."""
    d = pd.Series(pd.to_datetime(dates).dropna().unique()).sort_values()
    if len(d) < 3:
        raise AnalysisError("Cannot infer the frequency from fewer than 3 distinct dates; "
                            "pass freq='W', 'M' or 'Q'.")
    gap = float(np.median(np.diff(d.to_numpy()).astype("timedelta64[D]").astype(float)))
    if 6 <= gap <= 8:
        return "W"
    if 27 <= gap <= 32:
        return "M"
    if 88 <= gap <= 93:
        return "Q"
    raise AnalysisError(
        f"Cannot infer the frequency: the median spacing of the dates is {gap:g} days (not weekly, "
        "monthly or quarterly). Aggregate the data to weeks, months or quarters, or pass freq.")


def _period_start(dates: pd.Series, freq: str) -> tuple[pd.Series, str]:
    """Map dates to the first day of their period; return them and the pandas date_range alias."""
    if freq == "M":
        return dates.dt.to_period("M").dt.start_time, "MS"
    if freq == "Q":
        return dates.dt.to_period("Q").dt.start_time, "QS"
    anchor = int(dates.dt.day_of_week.mode().iloc[0])  # weeks start on the data's usual weekday
    end_day = _WEEKDAYS[(anchor - 1) % 7]
    return dates.dt.to_period(f"W-{end_day}").dt.start_time, f"W-{_WEEKDAYS[anchor]}"


def parse_levels(levels, keys: list[str]) -> list[tuple[str, ...]]:
    """Parse hierarchy levels such as ``["total", "region", "region x category"]`` to key tuples.

    A level is ``"total"`` (all series summed), a key name, keys joined by ``x``, ``*``, ``/`` or
    ``,``, or a list of key names. The bottom level (all keys) is always included, last.
    """
    out: list[tuple[str, ...]] = []
    for lev in levels or []:
        if isinstance(lev, (list, tuple)):
            parts = [str(p).strip() for p in lev]
        else:
            s = str(lev).strip()
            parts = [] if s.lower() in ("total", "all", "") else re.split(r"\s+x\s+|\s*[*/,+]\s*", s)
        bad = [p for p in parts if p not in keys]
        if bad:
            raise ParameterError(f"Hierarchy level {lev!r} uses {bad}, which are not key columns "
                                 f"{keys}; use 'total' or combinations of the keys.")
        tup = tuple(k for k in keys if k in parts)  # canonical order
        if tup not in out:
            out.append(tup)
    bottom = tuple(keys)
    out = [t for t in out if t != bottom] + [bottom]
    return sorted(out, key=len)


def level_name(level: tuple[str, ...]) -> str:
    """Readable name of a hierarchy level: ``total``, ``region``, ``region x category``."""
    return " x ".join(level) if level else "total"


def prepare_history(df: pd.DataFrame, date_col: str = "date", keys=(), value_col: str = "sales",
                    freq: str | None = None, fill_gaps: str = "refuse",
                    duplicates: str = "refuse") -> tuple[pd.DataFrame, str, list[str]]:
    """Validate and regularise a long sales history.

    Returns ``(bottom, freq, notes)``: ``bottom`` has the key columns, ``date`` (period start) and
    ``value`` on a complete period grid per series; ``notes`` say what was done (aggregated
    duplicates, filled gaps). ``fill_gaps`` is ``refuse`` | ``zero`` | ``interpolate`` (missing
    periods and missing values inside a series); ``duplicates`` is ``refuse`` | ``sum`` | ``mean``
    (several rows for one series and period).
    """
    keys = list(keys or [])
    if fill_gaps not in FILL_GAPS:
        raise ParameterError(f"fill_gaps={fill_gaps!r}: use one of {list(FILL_GAPS)}.")
    if duplicates not in DUPLICATES:
        raise ParameterError(f"duplicates={duplicates!r}: use one of {list(DUPLICATES)}.")
    missing = [c for c in [date_col, value_col, *keys] if c not in df.columns]
    if missing:
        raise AnalysisError(f"Column(s) {missing} not in the sales history (columns: "
                            f"{list(df.columns)}); map them with `columns` or fix `keys`/`value_col`.")
    notes: list[str] = []
    work = pd.DataFrame({k: df[k].astype("string").fillna("(missing)") for k in keys})
    dates = pd.to_datetime(df[date_col], errors="coerce")
    if dates.isna().any():
        raise AnalysisError(f"Column '{date_col}' has {int(dates.isna().sum())} value(s) that are not "
                            "dates; fix or drop those rows.")
    values = pd.to_numeric(df[value_col], errors="coerce")
    bad_num = values.isna() & df[value_col].notna()
    if bad_num.any():
        raise AnalysisError(f"Column '{value_col}' has {int(bad_num.sum())} non-numeric value(s) "
                            f"(e.g. {df.loc[bad_num, value_col].iloc[0]!r}); clean them first.")
    freq = normalise_freq(freq) or infer_freq(dates)
    start, alias = _period_start(dates, freq)
    work["date"] = start.to_numpy()
    work["value"] = values.to_numpy(dtype=float)
    gcols = [*keys, "date"]
    counts = work.groupby(gcols, sort=False, dropna=False).size()
    dup = counts[counts > 1]
    if len(dup):
        first = dup.index[0] if isinstance(dup.index[0], tuple) else (dup.index[0],)
        where = _key_text(keys, first[:-1] if keys else ()) + f", {pd.Timestamp(first[-1]).date()}"
        if duplicates == "refuse":
            raise AnalysisError(
                f"{len(dup)} period(s) have several rows (first: {where}: {int(dup.iloc[0])} rows) at "
                f"frequency '{freq}'. Use duplicates='sum' to add them up (e.g. daily rows to months) "
                "or 'mean' to average them.")
        notes.append(f"{len(dup)} period(s) had several rows (first: {where}); "
                     f"they were combined with '{duplicates}'.")
        work = (work.groupby(gcols, sort=False, dropna=False)["value"]
                .agg(lambda s: s.sum(min_count=1) if duplicates == "sum" else s.mean()).reset_index())
    # complete period grid per series, built for all series at once (a per-series loop is slow
    # for thousands of series); series in key order, periods in date order
    if keys:
        work = work.sort_values([*keys, "date"], kind="stable", ignore_index=True)
        span = work.groupby(keys, sort=False, dropna=False)["date"].agg(["first", "last"])
    else:
        work = work.sort_values("date", kind="stable", ignore_index=True)
        span = pd.DataFrame({"first": [work["date"].iloc[0]], "last": [work["date"].iloc[-1]]})
    cache: dict = {}
    grids = [cache.setdefault((a, b), pd.date_range(a, b, freq=alias)) if (a, b) not in cache
             else cache[(a, b)] for a, b in zip(span["first"], span["last"])]
    lens = np.array([len(g) for g in grids])
    full = pd.DataFrame({k: np.repeat(span.index.get_level_values(k).to_numpy(), lens)
                         for k in keys})
    full["date"] = np.concatenate([g.to_numpy() for g in grids])
    vals = work.set_index([*keys, "date"])["value"]
    value = (vals.reindex(pd.MultiIndex.from_frame(full)) if keys
             else vals.reindex(pd.DatetimeIndex(full["date"]))).to_numpy(dtype=float).copy()
    gap = np.isnan(value)
    n_gap_total, first_gap = int(gap.sum()), None
    if n_gap_total:
        j = int(np.flatnonzero(gap)[0])
        first_gap = (_key_text(keys, tuple(full[k].iloc[j] for k in keys))
                     + f", {pd.Timestamp(full['date'].iloc[j]).date()}")
        if fill_gaps == "zero":
            value[gap] = 0.0
        elif fill_gaps == "interpolate":
            ends = np.cumsum(lens)
            for lo, hi in zip(ends - lens, ends):
                if gap[lo:hi].any():
                    value[lo:hi] = pd.Series(value[lo:hi]).interpolate(
                        limit_direction="both").to_numpy()
    if n_gap_total:
        if fill_gaps == "refuse":
            raise AnalysisError(
                f"{n_gap_total} missing period(s) or value(s) inside the series (first: {first_gap}). "
                "Use fill_gaps='zero' when a missing period means no sales, or 'interpolate' when the "
                "value was not recorded.")
        notes.append(f"{n_gap_total} missing period(s)/value(s) (first: {first_gap}) were filled "
                     f"with '{fill_gaps}'.")
    bottom = full.assign(value=value)
    for k in keys:
        bottom[k] = bottom[k].astype("string")
    return bottom, freq, notes


def _key_text(keys, values) -> str:
    return "series " + (" / ".join(str(v) for v in values) if keys else "total")


# --------------------------------------------------------------------------------------------
# Hierarchy
# --------------------------------------------------------------------------------------------

@dataclass
class SeriesSet:
    """All series to forecast on one period grid.

    ``ids``/``level`` name each series, ``values`` holds one array per series (NaN-free, from its
    first period), ``dates`` the matching DatetimeIndex, ``S`` the summing matrix (rows = all
    series, columns = bottom series) and ``bottom`` the row numbers of the bottom series.
    """

    ids: list[str]
    level: list[str]
    values: list[np.ndarray]
    dates: list[pd.DatetimeIndex]
    S: np.ndarray
    bottom: list[int]
    alias: str


def _joined(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    """Key columns joined with `` / `` (vectorised; a row-wise join is slow on long frames)."""
    out = df[cols[0]].astype(str)
    for c in cols[1:]:
        out = out + " / " + df[c].astype(str)
    return out


def build_hierarchy(bottom: pd.DataFrame, keys, levels, freq: str) -> SeriesSet:
    """Aggregate the bottom series to each level and build the summing matrix ``S``."""
    keys = list(keys)
    parsed = parse_levels(levels, keys) if keys else [()]
    alias = {"M": "MS", "Q": "QS"}.get(freq) or f"W-{_WEEKDAYS[bottom['date'].iloc[0].day_of_week]}"
    bkeys = _joined(bottom, keys) if keys else pd.Series("total", index=bottom.index)
    wide = bottom.assign(_id=bkeys.to_numpy()).pivot(index="date", columns="_id", values="value")
    wide = wide.sort_index()
    bottom_ids = list(wide.columns)
    bmeta = (bottom.assign(_id=bkeys.to_numpy()).drop_duplicates("_id").set_index("_id")
             .loc[bottom_ids, keys] if keys else None)
    W = wide.to_numpy(dtype=float)
    col_of = pd.Series(np.arange(len(bottom_ids)), index=bottom_ids)
    ids, lev, vals, dts, rows = [], [], [], [], []
    for level in parsed:
        if level == tuple(keys):
            groups = [(b, [b]) for b in bottom_ids]
        elif not level:
            groups = [("total", bottom_ids)]
        else:
            lab = _joined(bmeta, list(level))
            groups = [(g, list(lab.index[lab == g])) for g in sorted(lab.unique())]
        for name, members in groups:
            cols = col_of.loc[members].to_numpy()
            block = W[:, cols]
            valid = ~np.isnan(block).all(axis=1)
            ids.append(name)
            lev.append(level_name(level))
            vals.append(np.nansum(block[valid], axis=1))
            dts.append(pd.DatetimeIndex(wide.index[valid]))
            row = np.zeros(len(bottom_ids))
            row[cols] = 1.0
            rows.append(row)
    S = np.array(rows)
    first = {}
    for j, name in enumerate(ids):
        first.setdefault(name, j)
    bottom_rows = [first[b] for b in bottom_ids if lev[first[b]] == level_name(tuple(keys))]
    if len(set(ids)) != len(ids):  # e.g. a region and a category with the same name
        ids = [f"{l}: {i}" if l not in ("total",) else i for i, l in zip(ids, lev)]
    return SeriesSet(ids, lev, vals, dts, S, bottom_rows, alias)


# --------------------------------------------------------------------------------------------
# Models (each works on a plain float array; structure fitted once, re-filtered at later origins)
# --------------------------------------------------------------------------------------------

def _z(levels) -> dict:
    return dict(_z_cached(tuple(levels)))


@lru_cache(maxsize=32)
def _z_cached(levels: tuple) -> tuple:
    return tuple((lv, float(norm.ppf(0.5 + lv / 200.0))) for lv in levels)


class _Naive:
    name = "naive"

    def __init__(self, m: int = 1):
        self.m = m
        self.spec = "naive" if m <= 1 else f"seasonal naive[{m}]"

    def fit(self, y):
        self.y = y
        r = np.full(len(y), np.nan)
        r[self.m:] = y[self.m:] - y[:-self.m]
        self.resid = r
        d = r[self.m:]
        self.sigma = float(np.sqrt(np.mean(d ** 2))) if len(d) else 0.0
        return self

    update = fit

    def forecast(self, h, levels):
        j = np.arange(h)
        mean = self.y[len(self.y) - self.m + (j % self.m)]
        k = j // self.m + 1 if self.m > 1 else j + 1
        sd = self.sigma * np.sqrt(k)
        return mean, {lv: (mean - z * sd, mean + z * sd) for lv, z in _z(levels).items()}


class _ETS:
    """Automatic ETS: stepwise AICc search over the admissible forms (heuristic initial states)."""

    name = "ets"

    def __init__(self, m, seasonal, positive, maxiter, reps, seed, strength=0.0):
        self.m, self.seasonal, self.positive = m, seasonal, positive
        self.maxiter, self.reps, self.seed = maxiter, reps, seed
        # strongly seasonal series (STL strength > 0.64): non-seasonal forms cannot win, skip them
        self.need_season = seasonal and strength > STRONG_SEASON

    def candidates(self):
        errors = ["add", "mul"] if self.positive else ["add"]
        seas = ([] if self.need_season else [None]) + (["add", "mul"] if self.seasonal else [])
        out = []
        for e in errors:
            for t, d in ((None, False), ("add", False), ("add", True)):
                for s in seas:
                    if s == "mul" and (e == "add" or not self.positive):
                        continue  # A,*,M is numerically unstable (Hyndman et al. 2008)
                    out.append((e, t, d, s))
        return out

    def _model(self, y, spec):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        e, t, d, s = spec
        return ETSModel(pd.Series(y), error=e, trend=t, damped_trend=d, seasonal=s,
                        seasonal_periods=self.m if s else None, initialization_method="heuristic")

    def _score(self, y, spec):
        """AICc and parameters of one form (no results object: it costs a numerical Hessian)."""
        from statsmodels.tools.eval_measures import aicc

        try:
            mod = self._model(y, spec)
            params = mod.fit(disp=False, maxiter=self.maxiter, return_params=True)
            value = float(aicc(mod.loglike(params), len(y), mod.k_params + 1))
        except Exception:  # an inadmissible form on this series: skip it
            return None
        return (value, params) if np.isfinite(value) else None

    def fit(self, y):
        """Stepwise search over :meth:`candidates` (about half of the forms, same winner mostly).

        1. one error type (multiplicative for positive data), trend none/additive, every admissible
           seasonal form; 2. the damped version of the winner if it has a trend; 3. the other error
           type with the winner's trend and season. Lowest AICc over every fitted form wins.
        """
        cands = self.candidates()
        rank = {c: j for j, c in enumerate(cands)}
        fitted = {}

        def run(specs):
            for spec in specs:
                if spec in rank and spec not in fitted:
                    fitted[spec] = self._score(y, spec)

        def best():
            ok = [(v[0], rank[c], c) for c, v in fitted.items() if v is not None]
            return min(ok)[2] if ok else None

        e0 = "mul" if self.positive else "add"
        run([c for c in cands if c[0] == e0 and not c[2]])
        if best() is None:
            run(cands)
        b = best()
        if b is not None and b[1] == "add":
            run([(e0, "add", True, b[3])])
        b = best()
        if b is not None:
            run([(e, b[1], b[2], b[3]) for e in ("add", "mul") if e != e0])
        b = best()
        if b is None:
            raise RuntimeError("no ETS form could be fitted")
        self.spec_t = b
        self.res = self._model(y, b).smooth(fitted[b][1])
        return self._after(y)

    def refit(self, y):
        self.res = self._model(y, self.spec_t).fit(disp=False, maxiter=self.maxiter,
                                                   start_params=self.res.params.to_numpy())
        return self._after(y)

    def update(self, y):
        self.res = self._model(y, self.spec_t).smooth(self.res.params.to_numpy())
        return self._after(y)

    def _after(self, y):
        self.y = y
        self.resid = y - np.asarray(self.res.fittedvalues, dtype=float)
        e, t, d, s = self.spec_t
        self.spec = "ETS({},{},{})".format(e[0].upper(), "N" if t is None else ("Ad" if d else "A"),
                                           "N" if s is None else s[0].upper())
        return self

    def forecast(self, h, levels):
        n = len(self.y)
        pred = self.res.get_prediction(start=n, end=n + h - 1, simulate_repetitions=self.reps,
                                       rng=np.random.default_rng(self.seed))
        mean = np.asarray(pred.predicted_mean, dtype=float)
        bands = {}
        for lv in levels:
            fr = pred.summary_frame(alpha=1 - lv / 100.0)
            bands[lv] = (fr["pi_lower"].to_numpy(float), fr["pi_upper"].to_numpy(float))
        return mean, bands


class _ARIMA:
    """SARIMA with d and D from tests and a small AICc grid over (p, q)(P, Q).

    The ARMA part is fitted to the differenced series (simple differencing: small state, fast) by
    conditional sum of squares (CSS; the order search and the estimate), then run once through
    the exact Kalman filter for forecasts and residuals; forecasts and their variances are
    integrated back with the psi weights of the full model.
    """

    name = "arima"

    def __init__(self, m, seasonal, maxiter, strength=None):
        self.m, self.seasonal, self.maxiter, self.strength = m, seasonal, maxiter, strength

    def _orders(self, y):
        from statsmodels.tsa.stattools import kpss

        D = 0
        if self.seasonal and len(y) >= 3 * self.m:
            st = self.strength if self.strength is not None else _seasonal_strength(y, self.m)
            D = int(st > STRONG_SEASON)
        w = y[self.m:] - y[:-self.m] if D else y
        d = 0
        for _ in range(2):
            if len(w) < 8 or np.std(w) == 0:
                break
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = kpss(w, regression="c", nlags="auto")[1]
            if p >= 0.05:
                break
            d += 1
            w = np.diff(w)
        return d, D

    def _delta(self):
        poly = np.array([1.0])
        for _ in range(self.d):
            poly = np.convolve(poly, [1.0, -1.0])
        if self.D:
            sp = np.zeros(self.m + 1)
            sp[0], sp[-1] = 1.0, -1.0
            poly = np.convolve(poly, sp)
        return poly

    def _diff(self, y):
        k = len(self.delta) - 1
        return np.convolve(y, self.delta, mode="valid") if k else y.copy()

    def _model(self, w, order):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        p, q, P, Q = order
        trend = "c" if self.d + self.D <= 1 else "n"
        return SARIMAX(w, order=(p, 0, q), seasonal_order=(P, 0, Q, self.m if (P or Q) else 0),
                       trend=trend, concentrate_scale=True)

    def fit(self, y):
        self.d, self.D = self._orders(y)
        self.delta = self._delta()
        w = self._diff(y)
        if self.seasonal and len(w) >= 2 * self.m + 4:
            grid = [(0, 1, 0, 1), (1, 0, 0, 1), (1, 0, 1, 0)]
        else:
            grid = [(1, 0, 0, 0), (0, 1, 0, 0), (1, 1, 0, 0), (2, 0, 0, 0), (0, 0, 0, 0)]
        # order search and estimation by conditional sum of squares (auto.arima's cheap
        # "approximation"; an exact-likelihood optimisation costs ~10x more for the same forecasts),
        # then one Kalman filter pass with those parameters for forecasts and residuals
        self.trend = self.d + self.D <= 1
        self.n_cond = max(o[0] + o[2] * self.m for o in grid)
        ranked = sorted(((score, j, order, start) for j, order in enumerate(grid)
                         for score, start in [_css_arma(w, order, self.m, self.trend, self.n_cond,
                                                         self.maxiter)]
                         if np.isfinite(score)), key=lambda t: t[:2])
        for _, _, order, start in ranked:
            try:
                res = self._model(w, order).smooth(start)
            except Exception:
                continue
            if np.isfinite(res.llf):
                self.order, self.res = order, res
                return self._after(y)
        raise RuntimeError("no ARIMA order could be fitted")

    def refit(self, y):
        w = self._diff(y)
        score, start = _css_arma(w, self.order, self.m, self.trend, self.n_cond, self.maxiter)
        if np.isfinite(score):
            self.res = self._model(w, self.order).smooth(start)
        else:  # keep the parameters of the first origin
            self.res = self.res.apply(w)
        return self._after(y)

    def update(self, y):
        self.res = self.res.apply(self._diff(y))
        return self._after(y)

    def _after(self, y):
        self.y = y
        k = len(self.delta) - 1
        r = np.full(len(y), np.nan)
        r[k:] = np.asarray(self.res.resid, dtype=float)
        r[: k + max(self.order[0], self.order[2] * self.m, 1)] = np.nan  # burn-in of the filter
        self.resid = r
        p, q, P, Q = self.order
        self.spec = f"ARIMA({p},{self.d},{q})" + (f"({P},{self.D},{Q})[{self.m}]"
                                                  if (P or Q or self.D) else "")
        return self

    def forecast(self, h, levels):
        from statsmodels.tsa.arima_process import arma2ma

        fc = self.res.get_forecast(h)
        fw = np.asarray(fc.predicted_mean, dtype=float)
        k = len(self.delta) - 1
        ext = np.concatenate([self.y, np.zeros(h)])
        n = len(self.y)
        for t in range(n, n + h):
            ext[t] = fw[t - n] - (np.dot(self.delta[1:], ext[t - k:t][::-1]) if k else 0.0)
        mean = ext[n:]
        ar = np.convolve(np.convolve(self.res.polynomial_ar, self.res.polynomial_seasonal_ar),
                         self.delta)
        ma = np.convolve(self.res.polynomial_ma, self.res.polynomial_seasonal_ma)
        psi = arma2ma(ar, ma, lags=h)
        # the filter's one-step variance exceeds sigma^2 while an MA part has not converged
        # (short series, MA roots near 1): scale every horizon by that finite-sample factor
        v1 = float(np.asarray(fc.var_pred_mean)[0])
        infl = max(1.0, v1 / float(self.res.scale)) if self.res.scale > 0 else 1.0
        sd = np.sqrt(float(self.res.scale) * infl * np.cumsum(psi ** 2))
        return mean, {lv: (mean - z * sd, mean + z * sd) for lv, z in _z(levels).items()}


class _Theta:
    """statsmodels ThetaModel point forecasts (deseasonalised when long enough and seasonal).

    Intervals use the Theta method's ARIMA(0,1,1)-with-drift equivalence, variance
    sigma^2 (1 + (h-1) alpha^2), with sigma^2 from the one-step SES residuals on the deseasonalised
    series (statsmodels refits an ARIMA for sigma^2 on every call and uses (1 + (alpha-1)^2), which
    gives much too wide intervals when alpha is small).
    """

    name = "theta"

    def __init__(self, m, seasonal, positive):
        self.m, self.seasonal, self.positive = m, seasonal, positive

    def fit(self, y):
        from statsmodels.tsa.forecasting.theta import ThetaModel, ThetaModelResults

        self.y = y
        self.mod = ThetaModel(y, period=max(self.m, 1), deseasonalize=self.seasonal,
                              method="auto" if self.positive else "additive")
        # ThetaModel.fit's two-step estimate (OLS drift + SES alpha), with the SES alpha found by a
        # grid + bounded search on the sum of squares (statsmodels runs a state-space optimiser:
        # ~10x slower, and it can stop at a local optimum of this multimodal function)
        if self.mod._deseasonalize and self.mod._use_test:
            self.mod._test_seasonality()
        x, seasonal = self.mod._deseasonalize_data()
        x = np.asarray(x, dtype=float)
        tt = np.arange(len(x), dtype=float)
        b0 = float(np.linalg.lstsq(np.column_stack([np.ones(len(x)), tt]), x, rcond=None)[0][1])
        alpha = _ses_alpha(x)
        self.res = ThetaModelResults(b0, alpha, None, _ses(x, alpha)[1], seasonal, False, self.mod)
        self.mult = bool(self.mod._has_seasonality and str(self.mod.method).startswith("mul"))
        self.factor = (y / x) if self.mult else np.ones(len(y))
        level, e = x[0], np.full(len(x), np.nan)
        for t in range(1, len(x)):
            e[t] = x[t] - level
            level += alpha * e[t]
        self.sigma = float(np.sqrt(np.nanmean(e[1:] ** 2))) if len(x) > 1 else 0.0
        self.alpha = alpha
        self.resid = e * self.factor
        self.resid[: min(len(y), self.m + 1)] = np.nan
        self.spec = "Theta" + (" (deseasonalised)" if self.seasonal else "")
        return self

    update = refit = fit

    def forecast(self, h, levels):
        mean = np.asarray(self.res.forecast(h), dtype=float)
        n, j = len(self.y), np.arange(h)
        fac = self.factor[n - self.m + (j % self.m)] if self.mult else 1.0
        sd = self.sigma * np.sqrt(1 + j * self.alpha ** 2) * fac
        return mean, {lv: (mean - z * sd, mean + z * sd) for lv, z in _z(levels).items()}


def _ses(x: np.ndarray, alpha: float) -> tuple[float, float]:
    """Simple exponential smoothing from level x[0]: (sum of squared one-step errors, last level)."""
    from scipy.signal import lfilter

    if len(x) < 2:
        return 0.0, float(x[-1])
    lev = lfilter([alpha], [1.0, alpha - 1.0], x[1:], zi=[(1 - alpha) * x[0]])[0]
    e = x[1:] - np.r_[x[0], lev[:-1]]
    return float(e @ e), float(lev[-1])


def _ses_alpha(x: np.ndarray) -> float:
    """Least-squares SES smoothing weight in [1e-4, 0.9999]: coarse grid, then bounded refinement."""
    from scipy.optimize import minimize_scalar

    grid = np.r_[1e-4, 0.02, np.arange(0.05, 0.951, 0.05), 0.9999]
    sse = [_ses(x, a)[0] for a in grid]
    j = int(np.argmin(sse))
    lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    r = minimize_scalar(lambda a: _ses(x, a)[0], bounds=(lo, hi), method="bounded",
                        options={"xatol": 1e-7})
    return float(r.x) if r.fun <= sse[j] else float(grid[j])


def _css_arma(w: np.ndarray, order, m: int, trend: bool, n_cond: int,
              maxiter: int = 50) -> tuple[float, np.ndarray]:
    """Conditional-sum-of-squares fit of a multiplicative ARMA(p, q)(P, Q)[m] to ``w``.

    Returns ``(AICc, start_params)``; AICc uses the same ``n_cond`` conditioning periods for every
    order so that orders are comparable; start_params are in SARIMAX order (intercept, AR, MA,
    seasonal AR, seasonal MA; scale concentrated out). ``(inf, None)`` when it cannot be fitted.
    """
    from scipy.optimize import least_squares
    from scipy.signal import lfilter

    p, q, P, Q = order
    mu = float(np.mean(w)) if trend else 0.0
    x = w - mu
    k = p + q + P + Q
    n_eff = len(x) - n_cond

    def polys(b):
        ar = np.r_[1.0, -b[:p]]
        ma = np.r_[1.0, b[p:p + q]]
        if P:
            sar = np.zeros(m + 1)
            sar[0], sar[m] = 1.0, -b[p + q]
            ar = np.convolve(ar, sar)
        if Q:
            sma = np.zeros(m + 1)
            sma[0], sma[m] = 1.0, b[p + q + P]
            ma = np.convolve(ma, sma)
        return ar, ma

    def resid(b):
        ar, ma = polys(b)
        return lfilter(ar, ma, x)[n_cond:]

    if n_eff <= k + 3:
        return np.inf, None
    if k:  # coefficients kept in (-0.98, 0.98) (stationary, invertible) by a tanh map
        try:
            u = least_squares(lambda u: resid(0.98 * np.tanh(u)), np.full(k, 0.1), method="lm",
                              max_nfev=max(1, maxiter) * (k + 1)).x
        except Exception:
            return np.inf, None
        b = 0.98 * np.tanh(u)
    else:
        b = np.zeros(0)
    sse = float(np.sum(resid(b) ** 2))
    if not np.isfinite(sse) or sse <= 0:
        return np.inf, None
    n_par = k + int(trend) + 1
    aicc = n_eff * np.log(sse / n_eff) + 2 * n_par + 2 * n_par * (n_par + 1) / max(n_eff - n_par - 1, 1)
    start = np.r_[[mu * np.sum(polys(b)[0])] if trend else [], b]
    return float(aicc), start


def _seasonal_strength(y: np.ndarray, m: int) -> float:
    """Strength of seasonality 1 - Var(R)/Var(S+R) from an STL decomposition (0..1)."""
    from statsmodels.tsa.seasonal import STL

    try:
        dec = STL(y, period=m, robust=False).fit()
    except Exception:
        return 0.0
    vr = np.var(dec.resid)
    vsr = np.var(dec.resid + dec.seasonal)
    return float(max(0.0, 1 - vr / vsr)) if vsr > 0 else 0.0


# --------------------------------------------------------------------------------------------
# One series: backtest origins + final forecast
# --------------------------------------------------------------------------------------------

def _fit_series(y, m, h, train_lengths, models, levels, seed, opts):
    """Fit every model on one series at each backtest origin and on the full history.

    Returns a dict: ``origins`` (list of {model: (mean, bands, resid)}), ``final`` (same for the
    full history plus ``spec``), ``notes``, ``conv`` (ConvergenceWarning count), ``cpu`` (seconds
    per model).
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    notes: list[str] = []
    n0 = train_lengths[0]
    positive = bool(np.all(y > 0))
    seasonal = m > 1 and n0 >= 2 * m
    if m > 1 and not seasonal:
        notes.append(f"shorter than two seasons ({n0} < {2 * m} periods at the first origin): "
                     "non-seasonal ETS/ARIMA/Theta used")
    snaive_m = m if n0 > m else 1
    if m > 1 and snaive_m == 1:
        notes.append("shorter than one season + 1: seasonal naive replaced by naive")
    if not positive and any(x in models for x in ("ets", "theta")):
        notes.append("has values <= 0: multiplicative ETS forms and multiplicative Theta "
                     "deseasonalising were not considered (they need strictly positive data)")
    simple_ok = n0 >= 10
    if not simple_ok:
        notes.append(f"only {n0} periods at the first origin: ETS/ARIMA/Theta replaced by naive")
    cpu = {mdl: 0.0 for mdl in models}
    out = {"origins": [dict() for _ in train_lengths], "final": {}, "spec": {}, "notes": notes}
    n_conv = 0

    strength = _seasonal_strength(y[:n0], m) if seasonal and n0 >= 3 * m else 0.0

    def make(mdl):
        if mdl == "naive" or (not simple_ok and mdl in COMBO_MEMBERS):
            return _Naive(1)
        if mdl == "snaive":
            return _Naive(snaive_m)
        if mdl == "ets":
            return _ETS(m, seasonal and m <= MAX_ETS_SEASON, positive, opts["ets_maxiter"],
                        opts["sim_reps"], seed, strength)
        if mdl == "arima":
            return _ARIMA(m, seasonal and m <= MAX_ETS_SEASON, opts["arima_maxiter"],
                          strength if n0 >= 3 * m else None)
        if mdl == "theta":
            return _Theta(m, seasonal, positive)
        raise ParameterError(mdl)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for mdl in [x for x in models if x != "combo"]:
            t0 = time.process_time()
            obj = make(mdl)
            try:
                for i, n in enumerate(train_lengths):
                    yi = y[:n]
                    (obj.fit if i == 0 else obj.update)(yi)
                    mean, bands = obj.forecast(h, levels)
                    out["origins"][i][mdl] = (mean, bands, obj.resid)
                getattr(obj, "refit", obj.fit)(y)
                mean, bands = obj.forecast(h, levels)
                out["final"][mdl] = (mean, bands, obj.resid)
                out["spec"][mdl] = obj.spec
            except Exception as exc:  # degrade to seasonal naive, say so
                notes.append(f"{mdl} failed ({type(exc).__name__}: {str(exc)[:80]}); "
                             "seasonal naive used instead")
                fb = _Naive(snaive_m)
                for i, n in enumerate(train_lengths):
                    fb.fit(y[:n])
                    out["origins"][i][mdl] = (*fb.forecast(h, levels), fb.resid)
                fb.fit(y)
                out["final"][mdl] = (*fb.forecast(h, levels), fb.resid)
                out["spec"][mdl] = fb.spec + " (fallback)"
            cpu[mdl] += time.process_time() - t0
        n_conv = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    if "combo" in models:
        members = [x for x in COMBO_MEMBERS if x in out["final"]]
        if not members:
            raise ParameterError("models: 'combo' needs at least one of ets, arima, theta.")
        for store in [*out["origins"], out["final"]]:
            store["combo"] = _combine([store[x] for x in members], levels)
        out["spec"]["combo"] = "mean of " + ", ".join(members)
    out["conv"] = n_conv
    out["cpu"] = cpu
    out["positive"] = positive
    return out


def _combine(parts, levels):
    """Mean of member forecasts; bounds averaged level by level (quantile averaging)."""
    mean = np.mean([p[0] for p in parts], axis=0)
    bands = {lv: (np.mean([p[1][lv][0] for p in parts], axis=0),
                  np.mean([p[1][lv][1] for p in parts], axis=0)) for lv in levels}
    res = [p[2] for p in parts if p[2] is not None]
    with warnings.catch_warnings():  # all-NaN burn-in columns give NaN, as intended
        warnings.simplefilter("ignore", RuntimeWarning)
        resid = np.nanmean(np.vstack(res), axis=0) if res else None
    return mean, bands, resid


def _fit_chunk(tasks, m, h, models, levels, opts):
    """Fit a list of ``(index, y, train_lengths, seed)`` tasks with one BLAS thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return [(i, _fit_series(y, m, h, tl, models, levels, seed, opts)) for i, y, tl, seed in tasks]


# --------------------------------------------------------------------------------------------
# Metrics and reconciliation
# --------------------------------------------------------------------------------------------

def _scales(y_train: np.ndarray, m: int) -> tuple[float, float]:
    """In-sample seasonal-naive MAE and MSE (naive when the series is shorter than m + 1)."""
    lag = m if len(y_train) > m else 1
    d = y_train[lag:] - y_train[:-lag]
    if len(d) == 0:
        return np.nan, np.nan
    mae, mse = float(np.mean(np.abs(d))), float(np.mean(d ** 2))
    return (mae if mae > 0 else np.nan), (mse if mse > 0 else np.nan)


def shrink_covariance(resid: np.ndarray) -> tuple[np.ndarray, float]:
    """Schäfer-Strimmer shrinkage of a residual covariance towards its diagonal.

    ``resid`` is (T, n) one-step residuals (not centred, as in Wickramasuriya et al. 2019 and the
    R package hts). Returns ``(W, lambda)``.
    """
    x = np.asarray(resid, dtype=float)
    T = x.shape[0]
    cov = x.T @ x / T
    sd = np.sqrt(np.diag(cov))
    sd[sd == 0] = 1.0
    xs = x / sd
    corr = cov / np.outer(sd, sd)
    v = (1.0 / (T * (T - 1))) * ((xs ** 2).T @ (xs ** 2) - (xs.T @ xs) ** 2 / T)
    np.fill_diagonal(v, 0.0)
    d = corr ** 2
    np.fill_diagonal(d, 0.0)
    lam = float(np.clip(v.sum() / d.sum(), 0.0, 1.0)) if d.sum() > 0 else 1.0
    W = lam * np.diag(np.diag(cov)) + (1 - lam) * cov
    return W, lam


def reconciliation_matrix(S: np.ndarray, method: str, bottom: list[int],
                          resid: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Matrix ``P`` (bottom x all) such that ``S @ P @ base`` is the reconciled forecast."""
    n_all, n_b = S.shape
    if method == "bottom_up":
        P = np.zeros((n_b, n_all))
        P[np.arange(n_b), bottom] = 1.0
        return P, {}
    if method == "ols":
        return np.linalg.solve(S.T @ S, S.T), {}
    if method == "mint_shrink":
        W, lam = shrink_covariance(resid)
        W = W + np.eye(n_all) * 1e-9 * max(np.trace(W) / n_all, 1e-12)
        Wi_S = np.linalg.solve(W, S)
        P = np.linalg.solve(S.T @ Wi_S, Wi_S.T)
        return P, {"lambda": lam}
    raise ParameterError(f"Unknown reconciliation {method!r}: use {list(RECONCILIATIONS)}.")


def _residual_matrix(resids: list[np.ndarray | None]) -> np.ndarray | None:
    """Stack the last common stretch of non-missing residuals (T, n); None when too short."""
    if any(r is None for r in resids):
        return None
    L = min(_tail_valid(r) for r in resids)
    if L < 3:
        return None
    return np.column_stack([r[-L:] for r in resids])


def _tail_valid(r: np.ndarray) -> int:
    bad = np.flatnonzero(np.isnan(r))
    return len(r) - (bad[-1] + 1) if len(bad) else len(r)


# --------------------------------------------------------------------------------------------
# The whole run
# --------------------------------------------------------------------------------------------

@dataclass
class ForecastRun:
    """Everything a forecasting run produces (see :func:`run_forecast`)."""

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    metrics: pd.DataFrame
    leaderboard: pd.DataFrame
    by_horizon: pd.DataFrame
    reconciliation: pd.DataFrame
    history: pd.DataFrame
    chosen: pd.DataFrame
    summary: dict
    notes: list[str] = field(default_factory=list)
    cpu_by_model: dict = field(default_factory=dict)


def run_forecast(df: pd.DataFrame, keys=(), value_col: str = "sales", date_col: str = "date",
                 freq: str | None = None, horizon: int = 3, season_length: int = 0,
                 levels=("total",), interval_levels=(80, 95), models=None, n_origins: int = 3,
                 step: int = 0, selection: str = "per_series", n_jobs: int = 1,
                 fill_gaps: str = "refuse", duplicates: str = "refuse",
                 reconciliations=RECONCILIATIONS, seed: int = 0, ets_maxiter: int = 100,
                 arima_maxiter: int = 50, sim_reps: int = 500) -> ForecastRun:
    """Forecast every series of a (hierarchical) sales history and say how far to trust it.

    Parameters mirror the notebook: ``horizon`` periods ahead; ``season_length`` 0 = from the
    frequency (W 52, M 12, Q 4; 1 = no seasonality); ``levels`` the hierarchy levels (bottom level
    always added); ``models`` a subset of :data:`ALL_MODELS` (baselines always added);
    ``n_origins`` backtest origins ``step`` periods apart (0 = ``horizon``); ``selection``
    ``per_series`` or ``global``; ``n_jobs`` worker processes. With ``models`` empty and more than
    :data:`FAST_ABOVE` series, the fast default :data:`FAST_MODELS` (no ARIMA) is used, and a note
    says so. ``ets_maxiter`` bounds the ETS optimiser, ``arima_maxiter`` the CSS least squares
    (iterations per parameter), ``sim_reps`` the simulated paths for multiplicative ETS intervals.

    Output columns:

    - ``forecast``: series_id, level, date, model, spec, forecast, lo_<L>, hi_<L> per interval
      level, chosen (bool: the selected model of that series); reconciled rows have model
      ``bottom_up`` / ``ols`` / ``mint_shrink`` (reconciling the chosen forecasts).
    - ``backtest``: one row per series, model, origin and step with actual, forecast, bounds.
    - ``metrics``: series_id, level, model, mase, rmsse, smape, bias, coverage_<L>, chosen.
    - ``leaderboard``: model, mean metrics over all series, skill_vs_snaive (1 - MASE/MASE_snaive).
    - ``reconciliation``: method (base/bottom_up/ols/mint_shrink), level, mase, rmsse, smape, bias.
    """
    t_start = time.perf_counter()
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ParameterError(f"horizon={horizon!r}: the forecast horizon must be a whole number of "
                             "periods >= 1 (e.g. 3 for the next quarter of monthly data).")
    if n_origins < 1:
        raise ParameterError(f"n_origins={n_origins!r}: use at least 1 backtest origin.")
    if selection not in ("per_series", "global"):
        raise ParameterError(f"selection={selection!r}: use 'per_series' or 'global'.")
    levels_q = [float(x) for x in interval_levels]
    if not levels_q or any(not 0 < x < 100 for x in levels_q):
        raise ParameterError(f"interval_levels={list(interval_levels)}: use percentages in (0, 100), "
                             "e.g. [80, 95].")
    levels_q = [int(x) if float(x).is_integer() else x for x in levels_q]
    named = bool(models)
    models = list(models) if models else list(DEFAULT_MODELS)
    unknown = [x for x in models if x not in ALL_MODELS]
    if unknown:
        raise ParameterError(f"Unknown model(s) {unknown}: choose from {list(ALL_MODELS)}.")
    models = [x for x in ALL_MODELS if x in set(models) | set(BASELINES)]
    keys = list(keys or [])
    bottom, freq, notes = prepare_history(df, date_col, keys, value_col, freq, fill_gaps, duplicates)
    m = int(season_length) if season_length else SEASON_BY_FREQ[freq]
    if m < 1:
        raise ParameterError(f"season_length={season_length!r}: use 0 (from frequency), 1 (none) "
                             "or the number of periods in a season.")
    step = int(step) if step else horizon
    ss = build_hierarchy(bottom, keys, levels, freq)
    n_all = len(ss.ids)
    if not named and n_all > FAST_ABOVE:
        models = [x for x in models if x in FAST_MODELS]
        notes.append(f"{n_all} series: ARIMA was left out to keep the run time down (the fast default "
                     f"above {FAST_ABOVE} series when no models are named); pass models to include "
                     "it.")
    ends = {d[-1] for d in ss.dates}
    if len(ends) > 1 and n_all > len(ss.bottom):
        raise AnalysisError("The series end on different dates "
                            f"({min(ends).date()} .. {max(ends).date()}); a hierarchy needs a "
                            "common last period. Trim the history to a common end or fill the gaps.")
    tasks = []
    for i, y in enumerate(ss.values):
        n = len(y)
        tl = [n - horizon - (n_origins - 1 - k) * step for k in range(n_origins)]
        if tl[0] < 3:
            raise AnalysisError(
                f"Series '{ss.ids[i]}' has {n} periods: too short for a horizon of {horizon} and "
                f"{n_origins} backtest origin(s) {step} apart (needs at least "
                f"{horizon + (n_origins - 1) * step + 3}). Lower horizon or n_origins.")
        tasks.append((i, y, tl, seed + i))
    opts = {"ets_maxiter": ets_maxiter, "arima_maxiter": arima_maxiter, "sim_reps": sim_reps}
    results = _run_tasks(tasks, m, horizon, models, levels_q, opts, n_jobs)
    conv = sum(r["conv"] for r in results)
    cpu_by_model = {mdl: sum(r["cpu"].get(mdl, 0.0) for r in results) for mdl in models}
    for i, r in enumerate(results):
        for note in r["notes"]:
            notes.append(f"{ss.ids[i]}: {note}")
    if conv:
        notes.append(f"{conv} optimiser convergence warning(s) from statsmodels were suppressed "
                     "(fits kept; they affect accuracy only through the backtest scores).")
    # ---- backtest table -------------------------------------------------------------------
    bt_rows = []
    for i, r in enumerate(results):
        y, dts = ss.values[i], ss.dates[i]
        for k, n in enumerate(tasks[i][2]):
            mae, mse = _scales(y[:n], m)
            actual = y[n:n + horizon]
            for mdl in models:
                mean, bands, _ = r["origins"][k][mdl]
                row = {"series_id": ss.ids[i], "level": ss.level[i], "model": mdl,
                       "origin": dts[n - 1], "step": np.arange(1, horizon + 1),
                       "date": dts[n:n + horizon], "actual": actual, "forecast": mean,
                       "scale_mae": mae, "scale_mse": mse}
                for lv in levels_q:
                    row[f"lo_{lv}"], row[f"hi_{lv}"] = bands[lv]
                bt_rows.append(row)
    backtest = _stack(bt_rows)
    metrics = _metrics(backtest, ["series_id", "level", "model"], levels_q)
    # ---- selection -------------------------------------------------------------------------
    order = {mdl: j for j, mdl in enumerate(models)}
    if selection == "global":
        overall = metrics.groupby("model")["mase"].mean()
        best = min(overall.index, key=lambda x: (overall[x], order[x]))
        chosen = {sid: best for sid in ss.ids}
    else:
        ranked = (metrics.assign(_o=metrics["model"].map(order))
                  .sort_values(["mase", "_o"], na_position="last", kind="stable")
                  .drop_duplicates("series_id"))
        chosen = dict(zip(ranked["series_id"], ranked["model"]))
    metrics["chosen"] = [chosen[s] == mdl for s, mdl in zip(metrics["series_id"], metrics["model"])]
    metrics = metrics.sort_values(["series_id", "model"], key=_sort_key(ss, order)).reset_index(
        drop=True)
    # ---- reconciliation in the backtest and for the final forecast ----------------------------
    idx_of = {sid: i for i, sid in enumerate(ss.ids)}
    do_rec = n_all > len(ss.bottom) and len(reconciliations) > 0
    rec_rows, rec_notes = [], []
    final_rec = {}
    if do_rec:
        for k in range(n_origins):
            base = np.vstack([results[i]["origins"][k][chosen[sid]][0] for sid, i in idx_of.items()])
            res = _resid_for(results, ss, chosen, k)
            for method in ["base", *reconciliations]:
                rec = _reconcile(ss, base, method, res, rec_notes)
                if rec is None:
                    continue
                for i in range(n_all):
                    n = tasks[i][2][k]
                    y = ss.values[i]
                    mae, mse = _scales(y[:n], m)
                    rec_rows.append({
                        "method": method, "series_id": ss.ids[i], "level": ss.level[i],
                        "origin": ss.dates[i][n - 1], "step": np.arange(1, horizon + 1),
                        "actual": y[n:n + horizon], "forecast": rec[i],
                        "scale_mae": mae, "scale_mse": mse})
        base = np.vstack([results[i]["final"][chosen[sid]][0] for sid, i in idx_of.items()])
        res = _resid_for(results, ss, chosen, None)
        for method in reconciliations:
            rec = _reconcile(ss, base, method, res, rec_notes)
            if rec is not None:
                final_rec[method] = rec
    notes.extend(sorted(set(rec_notes)))
    if rec_rows:
        rec_bt = _stack(rec_rows)
        reconciliation = _metrics(rec_bt, ["method", "level"], [])
        lvl_order = {lv: j for j, lv in enumerate(dict.fromkeys(ss.level))}
        meth_order = {mm: j for j, mm in enumerate(["base", *reconciliations])}
        reconciliation = reconciliation.sort_values(
            ["method", "level"], key=lambda s: s.map(meth_order if s.name == "method" else lvl_order)
        ).reset_index(drop=True)
    else:
        reconciliation = pd.DataFrame(columns=["method", "level", "mase", "rmsse", "smape", "bias"])
    # ---- forecast table ----------------------------------------------------------------------
    fc_rows = []
    for i, r in enumerate(results):
        sid = ss.ids[i]
        fdates = pd.date_range(ss.dates[i][-1], periods=horizon + 1, freq=ss.alias)[1:]
        for mdl in models:
            mean, bands, _ = r["final"][mdl]
            row = {"series_id": sid, "level": ss.level[i], "date": fdates, "model": mdl,
                   "spec": r["spec"][mdl], "forecast": mean}
            for lv in levels_q:
                row[f"lo_{lv}"], row[f"hi_{lv}"] = bands[lv]
            row["chosen"] = chosen[sid] == mdl
            fc_rows.append(row)
        cmean, cbands, _ = r["final"][chosen[sid]]
        for method, rec in final_rec.items():
            shift = rec[i] - cmean
            row = {"series_id": sid, "level": ss.level[i], "date": fdates, "model": method,
                   "spec": f"{method} of chosen", "forecast": rec[i]}
            for lv in levels_q:
                row[f"lo_{lv}"], row[f"hi_{lv}"] = cbands[lv][0] + shift, cbands[lv][1] + shift
            row["chosen"] = False
            fc_rows.append(row)
    forecast = _stack(fc_rows)
    history = _stack([{"series_id": sid, "level": ss.level[i], "date": ss.dates[i],
                       "value": ss.values[i]} for i, sid in enumerate(ss.ids)])
    # ---- leaderboard, error by horizon, summary ------------------------------------------------
    leaderboard = _leaderboard(metrics, chosen, levels_q, models)
    backtest["abs_scaled_error"] = (backtest["forecast"] - backtest["actual"]).abs() / backtest[
        "scale_mae"]
    by_horizon = (backtest.groupby(["model", "step"], sort=False)["abs_scaled_error"].mean()
                  .rename("mase").reset_index())
    chosen_df = pd.DataFrame({"series_id": ss.ids, "level": ss.level,
                              "model": [chosen[s] for s in ss.ids],
                              "spec": [results[i]["spec"][chosen[s]] for i, s in enumerate(ss.ids)]})
    coherence = None
    if final_rec:
        coherence = {mth: float(np.max(np.abs(ss.S @ rec[ss.bottom] - rec))) for mth, rec in
                     final_rec.items()}
    lb = leaderboard.set_index("model")
    summary = {
        "n_series": n_all, "n_bottom": len(ss.bottom), "frequency": freq, "season_length": m,
        "horizon": horizon, "n_origins": n_origins, "origin_step": step, "selection": selection,
        "models": models, "interval_levels": levels_q,
        "levels": list(dict.fromkeys(ss.level)),
        "mase_chosen": float(lb.loc["chosen", "mase"]),
        "mase_snaive": float(lb.loc["snaive", "mase"]),
        "skill_vs_snaive": float(lb.loc["chosen", "skill_vs_snaive"]),
        "coverage_chosen": {str(lv): float(lb.loc["chosen", f"coverage_{lv}"]) for lv in levels_q},
        "models_chosen": chosen_df["model"].value_counts().to_dict(),
        "leaderboard": leaderboard.round(4).to_dict(orient="records"),
        "reconciliation_mase": (reconciliation.pivot(index="method", columns="level", values="mase")
                                .round(4).to_dict(orient="index") if len(reconciliation) else {}),
        "coherence_max_abs_error": coherence,
        "best_reconciliation": (reconciliation[reconciliation["method"] != "base"]
                                .groupby("method")["mase"].mean().idxmin()
                                if len(reconciliation) else None),
        "convergence_warnings": conv,
        "notes": notes,
    }
    cpu_by_model["_wall_s"] = time.perf_counter() - t_start
    return ForecastRun(forecast, backtest, metrics, leaderboard, by_horizon, reconciliation,
                       history, chosen_df, summary, notes, cpu_by_model)


def _run_tasks(tasks, m, h, models, levels, opts, n_jobs):
    """Fit all series, sequentially or in worker processes (loky, or Dask through joblib's
    ``parallel_config``): the same results either way."""
    if n_jobs is None or n_jobs == 0:
        n_jobs = 1
    if n_jobs == 1 or len(tasks) == 1:
        out = _fit_chunk(tasks, m, h, models, levels, opts)
    else:
        from joblib import Parallel, delayed

        n_w = n_jobs if n_jobs > 0 else (len(tasks))
        n_chunks = min(len(tasks), max(1, n_w) * 4)
        chunks = [tasks[j::n_chunks] for j in range(n_chunks)]
        # loky processes by default; a joblib.parallel_config(backend="dask") context sends the
        # chunks to a Dask distributed cluster instead
        parts = Parallel(n_jobs=n_jobs)(
            delayed(_fit_chunk)(c, m, h, models, levels, opts) for c in chunks)
        out = [x for p in parts for x in p]
    out.sort(key=lambda t: t[0])
    return [r for _, r in out]


def _stack(parts: list[dict]) -> pd.DataFrame:
    """One frame from many column dicts (equal-length arrays; scalars repeated to that length).

    Same result as concatenating one small DataFrame per dict, without the per-frame cost (which
    dominates the run time for thousands of series).
    """
    lens = [max((len(v) for v in d.values() if np.ndim(v) == 1), default=1) for d in parts]
    out = {}
    for col in parts[0]:
        arrs = []
        for d, n in zip(parts, lens):
            v = d[col]
            if np.ndim(v) == 0:
                if isinstance(v, pd.Timestamp):
                    v = v.to_datetime64()
                v = np.repeat(np.array([v], dtype=object if isinstance(v, str) else None), n)
            elif isinstance(v, (pd.Index, pd.Series)):
                v = v.to_numpy()
            arrs.append(np.asarray(v))
        out[col] = np.concatenate(arrs)
    return pd.DataFrame(out)


def _metrics(bt: pd.DataFrame, by: list[str], levels) -> pd.DataFrame:
    """MASE, RMSSE, sMAPE, scaled bias and coverage, averaged over origins and steps."""
    e = bt["forecast"] - bt["actual"]
    denom = bt["forecast"].abs() + bt["actual"].abs()
    w = pd.DataFrame({
        **{c: bt[c] for c in by}, "origin": bt["origin"],
        "ae": e.abs() / bt["scale_mae"], "se": e ** 2 / bt["scale_mse"],
        "sm": np.where(denom > 0, 200 * e.abs() / denom.where(denom > 0, 1.0), 0.0),
        "bias": e / bt["scale_mae"]})
    for lv in levels:
        w[f"coverage_{lv}"] = ((bt["actual"] >= bt[f"lo_{lv}"]) & (bt["actual"] <= bt[f"hi_{lv}"])
                               ).astype(float)
    per_origin = w.groupby([*by, "origin"], sort=False).mean(numeric_only=True)
    per_origin["rmsse"] = np.sqrt(per_origin["se"])
    out = per_origin.groupby(level=list(range(len(by))), sort=False).mean()
    out = out.rename(columns={"ae": "mase", "sm": "smape"}).reset_index()
    return out[[*by, "mase", "rmsse", "smape", "bias", *[f"coverage_{lv}" for lv in levels]]]


def _leaderboard(metrics, chosen, levels, models) -> pd.DataFrame:
    cols = ["mase", "rmsse", "smape", "bias", *[f"coverage_{lv}" for lv in levels]]
    lb = metrics.groupby("model", sort=False)[cols].mean()
    ch = metrics[metrics["chosen"]][cols].mean().rename("chosen")
    lb = pd.concat([lb.loc[[x for x in models if x in lb.index]], ch.to_frame().T])
    lb["skill_vs_snaive"] = 1 - lb["mase"] / lb.loc["snaive", "mase"]
    lb["n_chosen"] = [sum(v == x for v in chosen.values()) for x in lb.index[:-1]] + [len(chosen)]
    return lb.reset_index(names="model")


def _sort_key(ss, order):
    pos = {sid: i for i, sid in enumerate(ss.ids)}

    def key(s):
        return s.map(pos) if s.name == "series_id" else s.map(order)
    return key


def _resid_for(results, ss, chosen, k):
    """One-step residuals of each series' chosen model at origin k (None = final)."""
    out = []
    for i, sid in enumerate(ss.ids):
        store = results[i]["final"] if k is None else results[i]["origins"][k]
        r = store[chosen[sid]][2]
        if r is None:  # theta: use ETS (or seasonal naive) residuals as the error proxy
            r = store.get("ets", store["snaive"])[2]
        out.append(r)
    return out


def _reconcile(ss, base, method, resids, notes):
    if method == "base":
        return base
    resid = None
    if method == "mint_shrink":
        resid = _residual_matrix(resids)
        if resid is None:
            notes.append("MinT-shrink skipped: fewer than 3 common in-sample residuals.")
            return None
    P, _ = reconciliation_matrix(ss.S, method, ss.bottom, resid)
    return ss.S @ (P @ base)


def seasonal_indices(history: pd.DataFrame, m: int, value_col: str = "value",
                     series_col: str = "series_id") -> pd.DataFrame:
    """Multiplicative seasonal index per series and season position (classical decomposition).

    ``history`` is long (series, date, value) with complete periods; returns a wide frame (rows =
    series, columns = position 1..m by calendar order of the first date's period, mean 1 per row).
    """
    from statsmodels.tsa.seasonal import seasonal_decompose

    rows = {}
    for sid, g in history.groupby(series_col, sort=False):
        g = g.sort_values("date")
        y = g[value_col].to_numpy(float)
        if len(y) < 2 * m or np.any(y <= 0):
            continue
        dec = seasonal_decompose(y, model="multiplicative", period=m)
        pos = (g["date"].dt.month.to_numpy() - 1) % m if m == 12 else np.arange(len(y)) % m
        idx = pd.Series(dec.seasonal).groupby(pos).mean()
        rows[sid] = (idx / idx.mean()).to_numpy()
    return pd.DataFrame(rows, index=np.arange(1, m + 1)).T


# --------------------------------------------------------------------------------------------
# Reporting helpers for the notebook
# --------------------------------------------------------------------------------------------

def headline(run: ForecastRun) -> str:
    """A few sentences (markdown) a manager can act on: skill, trust in intervals, coherence."""
    s = run.summary
    lb = run.leaderboard.set_index("model")
    cov = s["coverage_chosen"]
    cov_txt = ", ".join(f"{float(lv):g}% intervals caught {100 * v:.0f}% of actuals"
                        for lv, v in cov.items())
    best = lb.drop(index=["chosen"]).sort_values("mase").index[0]
    lines = [
        f"- **Skill:** over {s['n_origins']} backtest origins the chosen forecasts have a MASE of "
        f"{s['mase_chosen']:.2f} against {s['mase_snaive']:.2f} for seasonal naive "
        f"({100 * s['skill_vs_snaive']:.0f}% lower error). The best single model overall is "
        f"`{best}` (MASE {lb.loc[best, 'mase']:.2f}).",
        f"- **Uncertainty:** {cov_txt}.",
    ]
    if len(run.reconciliation):
        rec = run.reconciliation.groupby("method")["mase"].mean()
        top = rec.drop(index="base", errors="ignore").idxmin()
        lines.append(f"- **Coherence:** `{top}` reconciliation has the lowest average backtest MASE "
                     f"across levels ({rec[top]:.2f} vs {rec.get('base', np.nan):.2f} unreconciled); "
                     "its forecasts add up exactly from region x category to total.")
    return "\n".join(lines)


def forecast_table(run: ForecastRun, model: str = "chosen", level: float = 80,
                   series_ids=None) -> pd.DataFrame:
    """Wide table: one row per series, per future period 'forecast [lo, hi]' rounded to integers."""
    fc = run.forecast
    f = fc[fc["chosen"]] if model == "chosen" else fc[fc["model"] == model]
    if series_ids is not None:
        f = f[f["series_id"].isin(series_ids)]
    lv = int(level) if float(level).is_integer() else level
    cell = (f["forecast"].round(0).map("{:,.0f}".format) + " [" + f[f"lo_{lv}"].round(0)
            .map("{:,.0f}".format) + ", " + f[f"hi_{lv}"].round(0).map("{:,.0f}".format) + "]")
    out = f.assign(cell=cell.to_numpy(), month=f["date"].dt.strftime("%Y-%m-%d")).pivot(
        index="series_id", columns="month", values="cell")
    order = list(dict.fromkeys(f["series_id"]))
    return out.loc[order]

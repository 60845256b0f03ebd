"""Exogenous columns (price, promotion, calendar) for the regression model: history and future.

Contract: the exogenous columns are numeric columns of the sales history (one value per series and
period) and of a *future* table with the same date and key columns, covering the ``horizon``
periods after the last period of every bottom series. Aggregated series (total, region, ...) get
the mean of their members' values (a price or a promotion share) or, for columns named in
``exog_sum``, the sum (e.g. advertising spend).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marksell.errors import AnalysisError, ParameterError
from marksell.forecasting.series import SeriesSet, joined_keys, key_text, period_start


def _numeric(df: pd.DataFrame, cols, where: str) -> pd.DataFrame:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise AnalysisError(
            f"Exogenous column(s) {missing} not in the {where} (columns: "
            f"{list(df.columns)}). Add them, map them with `columns`, or remove them "
            "from `exog_cols`."
        )
    out = {}
    for c in cols:
        v = pd.to_numeric(df[c], errors="coerce")
        bad = v.isna()
        if bad.any():
            ex = df.loc[bad, c].iloc[0]
            raise AnalysisError(
                f"Exogenous column '{c}' in the {where} has {int(bad.sum())} missing or non-numeric "
                f"value(s) (e.g. {ex!r} in row {int(np.flatnonzero(bad.to_numpy())[0])}). The "
                "regression needs a number for every period, in the history and the future: fill "
                "them (e.g. 0 for 'no promotion')."
            )
        out[c] = v.to_numpy(dtype=float)
    return pd.DataFrame(out, index=df.index)


def _periods(df: pd.DataFrame, date_col: str, freq: str, where: str) -> pd.Series:
    if date_col not in df.columns:
        raise AnalysisError(f"Column '{date_col}' not in the {where} (columns: {list(df.columns)}).")
    dates = pd.to_datetime(df[date_col], errors="coerce")
    if dates.isna().any():
        raise AnalysisError(
            f"Column '{date_col}' in the {where} has {int(dates.isna().sum())} "
            "value(s) that are not dates; fix or drop those rows."
        )
    return pd.Series(period_start(dates, freq)[0].to_numpy(), index=df.index)


def exog_matrices(
    history: pd.DataFrame,
    future: pd.DataFrame | None,
    ss: SeriesSet,
    keys,
    exog_cols,
    horizon: int,
    freq: str,
    date_col: str = "date",
    exog_sum=(),
) -> tuple[list[np.ndarray], list[str]]:
    """One ``(n_i + horizon, k)`` matrix per series of ``ss`` (history rows, then future rows).

    Raises :class:`AnalysisError` naming the column, series and dates when a value is missing or
    the future table does not cover the horizon. Returns ``(matrices, notes)``.
    """
    keys, cols = list(keys or []), list(exog_cols)
    _check_plan(future, keys, cols, exog_sum, horizon, date_col)
    grid = _value_grid(history, future, keys, cols, freq, date_col)
    notes: list[str] = []
    wide = _bottom_matrices(grid, ss, keys, cols, horizon, notes)
    return _aggregate_matrices(wide, ss, cols, horizon, exog_sum), notes


def _check_plan(future: pd.DataFrame | None, keys: list, cols: list, exog_sum, horizon: int, date_col: str) -> None:
    """``exog_sum`` within ``exog_cols``, and a future table with the history's key columns."""
    bad_sum = [c for c in exog_sum if c not in cols]
    if bad_sum:
        raise ParameterError(f"exog_sum names {bad_sum}, which are not in exog_cols {cols}.")
    if future is None or len(future) == 0:
        raise AnalysisError(
            f"The regression on {cols} needs their future values: give a future table (parameter "
            f"`future_path`) with columns {[date_col, *keys, *cols]} for the {horizon} period(s) "
            "after the history, or leave `exog_cols` empty."
        )
    missing_keys = [k for k in keys if k not in future.columns]
    if missing_keys:
        raise AnalysisError(
            f"Key column(s) {missing_keys} not in the future table (columns: "
            f"{list(future.columns)}); it needs the same keys as the history."
        )


def _value_grid(history: pd.DataFrame, future: pd.DataFrame, keys: list, cols: list, freq: str, date_col: str) -> pd.DataFrame:
    """The drivers' values per bottom series and period (index ``_id, date``) from the history and the future.

    The history wins where both tables have a period; several rows per period are averaged.
    """
    frames = []
    for df, where in ((history, "sales history"), (future, "future table")):
        part = _numeric(df, cols, where)
        part["date"] = _periods(df, date_col, freq, where)
        part["_id"] = (joined_keys(df, keys) if keys else pd.Series("total", index=df.index)).to_numpy()
        frames.append(part)
    hist, fut = frames
    seen = pd.MultiIndex.from_frame(hist[["_id", "date"]])
    fut = fut[~pd.MultiIndex.from_frame(fut[["_id", "date"]]).isin(seen)]
    return pd.concat([hist, fut], ignore_index=True).groupby(["_id", "date"], sort=False)[cols].mean()


def _bottom_matrices(grid: pd.DataFrame, ss: SeriesSet, keys: list, cols: list, horizon: int, notes: list[str]) -> dict:
    """``{bottom series index: matrix}`` over the series' history dates, then the horizon's dates.

    Gaps in the history (filled periods) are interpolated, with a note; a gap in the horizon raises
    :class:`AnalysisError` naming the series and dates.
    """
    bottom_ids = [ss.ids[j] for j in ss.bottom]
    raw_ids = _bottom_raw_ids(ss, keys)
    # one reindex for all bottom series (history dates, then the horizon's dates)
    dates = [ss.dates[j].append(pd.date_range(ss.dates[j][-1], periods=horizon + 1, freq=ss.alias)[1:]) for j in ss.bottom]
    lens = np.array([len(d) for d in dates])
    idx = pd.MultiIndex.from_arrays([np.repeat(raw_ids, lens), np.concatenate(dates)])
    values = grid.reindex(idx).to_numpy(dtype=float)
    ends = np.cumsum(lens)
    wide = {}
    for sid, raw, j, d, lo, hi in zip(bottom_ids, raw_ids, ss.bottom, dates, ends - lens, ends):
        block = values[lo:hi]
        gap = np.isnan(block).any(axis=1)
        if gap.any():
            n_hist = len(ss.dates[j])
            if gap[n_hist:].any():
                miss = d[n_hist:][gap[n_hist:]]
                raise AnalysisError(
                    f"The future table has no {cols} values for {key_text(keys, raw.split(' / '))} "
                    f"on {', '.join(str(x.date()) for x in miss[:3])}"
                    f"{' ...' if len(miss) > 3 else ''} (the horizon is {horizon} period(s) after "
                    f"{ss.dates[j][-1].date()}). Add those rows, or lower the horizon."
                )
            notes.append(f"{int(gap.sum())} period(s) of {sid} had no exogenous values (filled gaps): interpolated.")
            block = pd.DataFrame(block).interpolate(limit_direction="both").to_numpy()
        wide[j] = block
    return wide


def _aggregate_matrices(wide: dict, ss: SeriesSet, cols: list, horizon: int, exog_sum) -> list[np.ndarray]:
    """One matrix per series of ``ss``: a bottom series' own, an aggregate's the mean of its members' (the sum
    for ``exog_sum`` columns), each member aligned on the aggregate's dates (members may start later)."""
    sums = np.array([c in set(exog_sum) for c in cols])
    out = []
    for i in range(len(ss.ids)):
        members = np.flatnonzero(ss.S[i])
        if len(members) == 1 and ss.bottom[members[0]] == i:  # a bottom series: its own values
            out.append(wide[i])
            continue
        n_i = len(ss.dates[i])
        mats = []
        for j in (ss.bottom[b] for b in members):
            X = wide[j]
            start = n_i - (len(X) - horizon)
            X = np.vstack([np.full((max(start, 0), X.shape[1]), np.nan), X[max(-start, 0) :]])
            mats.append(X)
        stack = np.stack(mats)
        with np.errstate(all="ignore"):
            agg = np.where(sums, np.nansum(stack, axis=0), np.nanmean(stack, axis=0))
        out.append(agg)
    return out


def _bottom_raw_ids(ss: SeriesSet, keys) -> list[str]:
    """Bottom series ids as joined key values (``build_hierarchy`` may prefix them with a level)."""
    lev = ss.level[ss.bottom[0]] if ss.bottom else ""
    return [ss.ids[j][len(lev) + 2 :] if ss.ids[j].startswith(f"{lev}: ") else ss.ids[j] for j in ss.bottom]


def load_plan(future_path: str, sales_path: str, exog_cols, keys=(), columns: dict | None = None) -> pd.DataFrame | None:
    """The sales plan for the notebook's parameters (None when no drivers are used).

    With the user's own history (``sales_path`` set) an empty ``future_path`` would fall back to
    the sample company's plan, which cannot match: that is refused with the fix. Only the date
    mapping of ``columns`` applies to the plan (its other columns are the keys and drivers).
    """
    from marksell.data import load_sales_plan

    if not exog_cols:
        return None
    if str(sales_path or "").strip() and not str(future_path or "").strip():
        raise ParameterError(
            f"exog_cols={list(exog_cols)} need the drivers' future values for your sales history: "
            "set future_path to a file with the date, the key columns and those columns for the "
            "periods to forecast, or set exog_cols=[] to forecast without drivers."
        )
    date_map = {k: v for k, v in (columns or {}).items() if v == "date"}
    return load_sales_plan(future_path, columns=date_map or None, keys=list(keys or []))

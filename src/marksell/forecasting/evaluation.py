"""Backtest scores: scaled errors, interval coverage, leaderboards."""

from __future__ import annotations

import numpy as np
import pandas as pd


def error_scales(y_train: np.ndarray, m: int) -> tuple[float, float]:
    """In-sample seasonal-naive MAE and MSE (naive when the series is shorter than m + 1)."""
    lag = m if len(y_train) > m else 1
    d = y_train[lag:] - y_train[:-lag]
    if len(d) == 0:
        return np.nan, np.nan
    mae, mse = float(np.mean(np.abs(d))), float(np.mean(d**2))
    return (mae if mae > 0 else np.nan), (mse if mse > 0 else np.nan)


def stack_columns(parts: list[dict]) -> pd.DataFrame:
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


def accuracy_metrics(bt: pd.DataFrame, by: list[str], levels) -> pd.DataFrame:
    """MASE, RMSSE, sMAPE, scaled bias and coverage, averaged over origins and steps."""
    e = bt["forecast"] - bt["actual"]
    denom = bt["forecast"].abs() + bt["actual"].abs()
    w = pd.DataFrame(
        {
            **{c: bt[c] for c in by},
            "origin": bt["origin"],
            "ae": e.abs() / bt["scale_mae"],
            "se": e**2 / bt["scale_mse"],
            "sm": np.where(denom > 0, 200 * e.abs() / denom.where(denom > 0, 1.0), 0.0),
            "bias": e / bt["scale_mae"],
        }
    )
    for lv in levels:
        w[f"coverage_{lv}"] = ((bt["actual"] >= bt[f"lo_{lv}"]) & (bt["actual"] <= bt[f"hi_{lv}"])).astype(float)
    per_origin = w.groupby([*by, "origin"], sort=False).mean(numeric_only=True)
    per_origin["rmsse"] = np.sqrt(per_origin["se"])
    out = per_origin.groupby(level=list(range(len(by))), sort=False).mean()
    out = out.rename(columns={"ae": "mase", "sm": "smape"}).reset_index()
    return out[[*by, "mase", "rmsse", "smape", "bias", *[f"coverage_{lv}" for lv in levels]]]


def leaderboard_table(metrics, chosen, levels, models) -> pd.DataFrame:
    cols = ["mase", "rmsse", "smape", "bias", *[f"coverage_{lv}" for lv in levels]]
    lb = metrics.groupby("model", sort=False)[cols].mean()
    ch = metrics[metrics["chosen"]][cols].mean().rename("chosen")
    lb = pd.concat([lb.loc[[x for x in models if x in lb.index]], ch.to_frame().T])
    lb["skill_vs_snaive"] = 1 - lb["mase"] / lb.loc["snaive", "mase"]
    lb["n_chosen"] = [sum(v == x for v in chosen.values()) for x in lb.index[:-1]] + [len(chosen)]
    return lb.reset_index(names="model")


def series_sort_key(ss, order):
    pos = {sid: i for i, sid in enumerate(ss.ids)}

    def key(s):
        return s.map(pos) if s.name == "series_id" else s.map(order)

    return key

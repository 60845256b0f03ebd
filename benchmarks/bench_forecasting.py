"""Benchmark: the sales-forecast notebook's computation on many monthly series.

Size at scale 1.0: 1,000 monthly series of 10 years (120 months) in 10 groups, hierarchy total / group /
series (1,011 series), horizon 3, all default models, 3 backtest origins, per-series selection,
reconciliation, on 2 worker processes. References measured in the same run:

- ``statsmodels loop``: what a plain implementation does, ETS only: automatic ETSModel selection (the
  same admissible set, statsmodels' default estimated initial states) refitted from scratch at every
  origin and for the final forecast, one series after another, default BLAS threads. Measured on a
  subsample (it is slow) and extrapolated linearly to all series (marked in ``extra``).
- ``statsforecast``: AutoETS + AutoARIMA + AutoTheta + SeasonalNaive, ``cross_validation`` with 3
  windows plus ``forecast``, ``n_jobs=2``, in a separate venv (``/tmp/sf-venv``, needs pandas<3),
  run as a subprocess; numba compilation is done on a warm-up call and reported separately.

Per-series CPU cost of each marksell model (all origins and the final fit) is reported in ``extra``.

With drivers: the same series with a planted promotion effect (``promo``, log lift 0.12) and a sales plan;
marksell adds the ``regression`` model (regression with ARIMA errors). Reference: a plain statsmodels
``SARIMAX(log y, exog=promo)`` loop with a fixed airline order, fitted by maximum likelihood at every origin
and for the final forecast (subsample, extrapolated). ``extra`` has the recovered mean lift.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from harness import measure, print_table, record

SF_PYTHON = os.environ.get("SF_PYTHON", "/tmp/sf-venv/bin/python")
HORIZON, N_ORIGINS, SEASON = 3, 3, 12
PROMO_LIFT = 0.12


def make_series(
    n_series: int, n_months: int = 120, seed: int = 0, drivers: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic monthly sales: level x growth x multiplicative seasonality x AR(1) noise.

    ``drivers=True``: also a ``promo`` column (share of the month on promotion, planted log lift
    :data:`PROMO_LIFT`) and returns ``(history, plan)`` with the plan for the next ``HORIZON`` months.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_months)
    level = rng.uniform(50, 5000, n_series)[:, None]
    growth = rng.normal(0.003, 0.004, n_series)[:, None]
    amp = rng.uniform(0.0, 0.35, n_series)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_series)[:, None]
    season = 1 + amp * np.sin(2 * np.pi * t / 12 + phase)
    noise = np.zeros((n_series, n_months))
    eps = rng.normal(0, rng.uniform(0.03, 0.12, n_series)[:, None], (n_series, n_months))
    for j in range(1, n_months):
        noise[:, j] = 0.4 * noise[:, j - 1] + eps[:, j]
    y = level * np.exp(growth * t) * season * np.exp(noise)
    dates = pd.date_range("2015-01-01", periods=n_months + HORIZON, freq="MS")
    group = np.array([f"g{i % 10}" for i in range(n_series)])
    sid = np.array([f"s{i:04d}" for i in range(n_series)])
    if not drivers:
        return pd.DataFrame(
            {
                "date": np.tile(dates[:n_months], n_series),
                "group": np.repeat(group, n_months),
                "sid": np.repeat(sid, n_months),
                "sales": np.round(y.ravel(), 2),
            }
        )
    prng = np.random.default_rng(seed + 1)
    n_all = n_months + HORIZON
    promo = np.where(prng.random((n_series, n_all)) < 0.3, prng.choice([0.25, 0.5, 0.75, 1.0], (n_series, n_all)), 0.0)
    y = y * np.exp(PROMO_LIFT * promo[:, :n_months])
    hist = pd.DataFrame(
        {
            "date": np.tile(dates[:n_months], n_series),
            "group": np.repeat(group, n_months),
            "sid": np.repeat(sid, n_months),
            "sales": np.round(y.ravel(), 2),
            "promo": promo[:, :n_months].ravel(),
        }
    )
    plan = pd.DataFrame(
        {
            "date": np.tile(dates[n_months:], n_series),
            "group": np.repeat(group, HORIZON),
            "sid": np.repeat(sid, HORIZON),
            "promo": promo[:, n_months:].ravel(),
        }
    )
    return hist, plan


def run_marksell(df: pd.DataFrame, n_jobs: int = 2, plan: pd.DataFrame | None = None) -> dict:
    from marksell.forecasting import run_forecast

    kw = {"exog_cols": ["promo"], "future": plan} if plan is not None else {}
    run = run_forecast(
        df, keys=["group", "sid"], horizon=HORIZON, levels=["total", "group"], n_origins=N_ORIGINS, n_jobs=n_jobs, **kw
    )
    n = run.summary["n_series"]
    cpu = {k: v for k, v in run.cpu_by_model.items() if not k.startswith("_")}
    return {
        "n_series_total": n,
        "worker_cpu_s": round(sum(cpu.values()), 1),
        "cpu_ms_per_series": {k: round(1000 * v / n, 1) for k, v in cpu.items()},
        "mase_chosen": round(run.summary["mase_chosen"], 3),
        "mase_snaive": round(run.summary["mase_snaive"], 3),
        "mase_ets": round(float(run.leaderboard.set_index("model").loc["ets", "mase"]), 3),
        "mase_by_model": {r["model"]: round(float(r["mase"]), 3) for r in run.leaderboard.to_dict(orient="records")},
        "models_chosen": run.summary["models_chosen"],
        "coverage_chosen": run.summary["coverage_chosen"],
        "convergence_warnings": run.summary["convergence_warnings"],
        **(
            {
                "promo_lift_mean": round(
                    float(run.coefficients.loc[run.coefficients["level"] == "group x sid", "estimate"].mean()), 4
                ),
                "promo_lift_planted": PROMO_LIFT,
            }
            if plan is not None
            else {}
        ),
    }


def _measure_fresh(n: int, drivers: bool = False) -> dict:
    """Run :func:`run_marksell` in a fresh interpreter; wall, CPU (incl. workers) and peak memory."""
    code = (
        f"import json, resource, sys, time; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from bench_forecasting import make_series, run_marksell\n"
        f"drivers = {drivers!r}\n"
        f"data = make_series({int(n)}, drivers=drivers)\n"
        "df, plan = data if drivers else (data, None)\n"
        "t0, c0 = time.perf_counter(), time.process_time()\n"
        "extra = run_marksell(df, 2, plan)\n"
        "wall = time.perf_counter() - t0\n"
        "cpu = time.process_time() - c0 + extra['worker_cpu_s']\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'ok': True, 'wall_s': wall, 'cpu_s': cpu, 'peak_mb': peak, "
        "'extra': extra}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return {"ok": False, "error": out.stderr[-800:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_statsmodels_loop(df: pd.DataFrame, n_sub: int) -> dict:
    """Plain loop: automatic ETSModel (estimated initial states) refitted at every origin."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    forms = [
        (e, t, d, s)
        for e in ("add", "mul")
        for t, d in ((None, False), ("add", False), ("add", True))
        for s in (None, "add", "mul")
        if not (s == "mul" and e == "add")
    ]
    sids = df["sid"].drop_duplicates().iloc[:n_sub]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sid in sids:
            y = df.loc[df["sid"] == sid, "sales"].to_numpy(float)
            n = len(y)
            for cut in [n - HORIZON * (N_ORIGINS - k) for k in range(N_ORIGINS)] + [n]:
                best = None
                for e, t, d, s in forms:
                    res = ETSModel(
                        pd.Series(y[:cut]), error=e, trend=t, damped_trend=d, seasonal=s, seasonal_periods=SEASON if s else None
                    ).fit(disp=False)
                    if best is None or res.aicc < best.aicc:
                        best = res
                best.forecast(HORIZON)
    per = (time.perf_counter() - t0) / len(sids)
    return {"subsample": len(sids), "wall_s_per_series": round(per, 3)}


_SF_SCRIPT = r"""
import json, sys, time
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, AutoARIMA, AutoTheta, SeasonalNaive
df = pd.read_parquet(sys.argv[1]).rename(columns={"sid": "unique_id", "date": "ds", "sales": "y"})
df = df[["unique_id", "ds", "y"]]
models = lambda: [AutoETS(season_length=12), AutoARIMA(season_length=12), AutoTheta(season_length=12),
                  SeasonalNaive(season_length=12)]
t0 = time.perf_counter()
warm = df[df["unique_id"].isin(df["unique_id"].unique()[:2])]
StatsForecast(models=models(), freq="MS", n_jobs=1).forecast(df=warm, h=3)
jit = time.perf_counter() - t0
t1 = time.perf_counter()
sf = StatsForecast(models=models(), freq="MS", n_jobs=2)
cv = sf.cross_validation(df=df, h=3, n_windows=3, step_size=3)
fc = sf.forecast(df=df, h=3)
wall = time.perf_counter() - t1
print(json.dumps({"wall_s": wall, "jit_s": jit}))
"""


def run_statsforecast(df: pd.DataFrame) -> dict | None:
    if not Path(SF_PYTHON).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "series.parquet"
        df.to_parquet(path)
        script = Path(tmp) / "sf.py"
        script.write_text(_SF_SCRIPT)
        out = subprocess.run([SF_PYTHON, str(script), str(path)], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return {"error": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_sarimax_exog_loop(hist: pd.DataFrame, plan: pd.DataFrame, n_sub: int) -> dict:
    """Plain statsmodels: SARIMAX(log sales, exog=promo), airline order, MLE at every origin."""
    import warnings

    from statsmodels.tsa.statespace.sarimax import SARIMAX

    t0 = time.perf_counter()
    lifts = []
    for sid in hist["sid"].unique()[:n_sub]:
        g = hist[hist["sid"] == sid]
        y, x = np.log(g["sales"].to_numpy()), g[["promo"]].to_numpy()
        xf = plan.loc[plan["sid"] == sid, ["promo"]].to_numpy()
        n = len(y)
        for cut in [n - HORIZON * (N_ORIGINS - k) for k in range(N_ORIGINS)] + [n]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = SARIMAX(y[:cut], exog=x[:cut], order=(0, 1, 1), seasonal_order=(0, 1, 1, SEASON)).fit(disp=False)
                res.forecast(HORIZON, exog=x[cut : cut + HORIZON] if cut < n else xf)
        lifts.append(float(res.params[0]))
    per = (time.perf_counter() - t0) / n_sub
    return {"wall_s_per_series": round(per, 3), "n_sub": n_sub, "promo_lift_mean": round(float(np.mean(lifts)), 4)}


def main(scale: float = 1.0, ref_series: int | None = None) -> list[dict]:
    n = max(10, int(round(1000 * scale)))
    df = make_series(n)
    size = f"{n} series x 120 months"
    rows = []
    ms = _measure_fresh(n)  # loky workers inside a forked child can stall: use a fresh interpreter
    print("marksell:", {k: ms.get(k) for k in ("wall_s", "cpu_s", "extra", "error")}, flush=True)
    n_sub = ref_series or max(3, int(round(20 * scale)))
    sm = measure(run_statsmodels_loop, df, n_sub)
    sm_wall = sm["extra"]["wall_s_per_series"] * n if sm.get("ok") else None
    print("statsmodels loop:", sm.get("extra") or sm.get("error"), flush=True)
    sf = run_statsforecast(df)
    print("statsforecast:", sf, flush=True)
    ref_wall = sf["wall_s"] if sf and "wall_s" in sf else sm_wall
    rows.append(
        {
            "analysis": "forecast",
            "size": size,
            "impl": "marksell (2 workers)",
            "wall_s": ms.get("wall_s"),
            "cpu_s": ms.get("cpu_s"),
            "peak_mb": ms.get("peak_mb"),
            "ratio_vs_ref": (ms["wall_s"] / ref_wall) if ref_wall and ms.get("ok") else None,
            "extra": ms.get("extra") or ms.get("error"),
        }
    )
    rows.append(
        {
            "analysis": "forecast",
            "size": size,
            "impl": "statsmodels loop ETS (extrapolated)",
            "wall_s": sm_wall,
            "cpu_s": None,
            "peak_mb": sm.get("peak_mb"),
            "ratio_vs_ref": (sm_wall / ref_wall) if ref_wall and sm_wall else None,
            "extra": sm.get("extra") or sm.get("error"),
        }
    )
    if sf is not None:
        rows.append(
            {
                "analysis": "forecast",
                "size": size,
                "impl": "statsforecast (2 jobs)",
                "wall_s": sf.get("wall_s"),
                "cpu_s": None,
                "peak_mb": None,
                "ratio_vs_ref": 1.0 if "wall_s" in sf else None,
                "extra": sf,
            }
        )
    # with drivers: the regression model joins the candidates
    hist, plan = make_series(n, drivers=True)
    md = _measure_fresh(n, drivers=True)
    print("marksell with drivers:", {k: md.get(k) for k in ("wall_s", "cpu_s", "error")}, flush=True)
    sx = measure(run_sarimax_exog_loop, hist, plan, n_sub)
    sx_wall = sx["extra"]["wall_s_per_series"] * n if sx.get("ok") else None
    print("statsmodels SARIMAX+exog loop:", sx.get("extra") or sx.get("error"), flush=True)
    rows.append(
        {
            "analysis": "forecast+drivers",
            "size": size,
            "impl": "marksell (2 workers)",
            "wall_s": md.get("wall_s"),
            "cpu_s": md.get("cpu_s"),
            "peak_mb": md.get("peak_mb"),
            "ratio_vs_ref": (md["wall_s"] / sx_wall) if sx_wall and md.get("ok") else None,
            "extra": md.get("extra") or md.get("error"),
        }
    )
    rows.append(
        {
            "analysis": "forecast+drivers",
            "size": size,
            "impl": "statsmodels SARIMAX+exog loop (extrapolated)",
            "wall_s": sx_wall,
            "cpu_s": None,
            "peak_mb": sx.get("peak_mb"),
            "ratio_vs_ref": 1.0 if sx_wall else None,
            "extra": sx.get("extra") or sx.get("error"),
        }
    )
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument(
        "--ref-series",
        type=int,
        default=None,
        help="series in the statsmodels reference subsample (default 20 x scale, at least 3)",
    )
    args = ap.parse_args()
    result = main(args.scale, args.ref_series)
    record("forecasting", result)
    print_table(result)
    for r in result:
        print(r["impl"], json.dumps(r["extra"], default=str))

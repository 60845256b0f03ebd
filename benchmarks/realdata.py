"""Real public data through the ``marksell`` command: each published figure beside ours.

Usage: ``python benchmarks/realdata.py --data DIR [--only cdnow,cigarettes,series] [--keep DIR]``

``DIR`` holds the public files named in the README (not shipped with the project):

- ``cdnow_sample_transactions.csv`` (``customer_id, order_date, quantity, revenue``): the CDNOW 1/10 sample of
  Fader & Hardie; BG/NBD and Gamma-Gamma fitted on the first 39 weeks (Fader, Hardie & Lee 2005).
- ``cigarettes_sw.csv`` (``state, year, cpi, population, packs, income, tax, price, taxs``): Stock & Watson's
  CigarettesSW; 2SLS price elasticities of the 1995 cross-section.
- ``sales_series.csv`` (``series_id, date, value``) and ``sales_series_meta.csv`` (``series_id, frequency,
  season_length, horizon``): five series of Hyndman & Athanasopoulos; the last ``horizon`` periods are held
  out and scored by MASE against seasonal naive.

Every analysis runs as a user would run it: ``marksell run NOTEBOOK -f params.yaml`` with documented
parameters only (paths, the column mapping, and what only the user knows), and the figures are read from the
run's artifacts. Not part of the tests: the data are not shipped with the project.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

#: Published figures (see the module docstring for the sources).
CDNOW_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}
#: Stock & Watson's 2SLS elasticities (robust s.e.) of the 1995 cross-section, three specifications.
CIGARETTE_SPECS = {
    "sales tax": ({"controls": [], "instruments": ["salestax"]}, -1.08, 0.32),
    "sales tax, income": ({"controls": ["log(rincome)"], "instruments": ["salestax"]}, -1.14, 0.37),
    "both taxes, income": ({"controls": ["log(rincome)"], "instruments": ["salestax", "cigtax"]}, -1.28, 0.25),
}


def marksell() -> str:
    exe = Path(sys.executable).with_name("marksell")
    return str(exe) if exe.exists() else "marksell"


def run(notebook: str, params: dict, work: Path, name: str) -> Path:
    """``marksell run NOTEBOOK -f params.yaml --out work/name``; the report folder (raises if not ok)."""
    pfile = work / f"{name}.yaml"
    pfile.write_text(yaml.safe_dump(params, sort_keys=False))
    out = work / name
    t0 = time.perf_counter()
    proc = subprocess.run([marksell(), "run", notebook, "-f", str(pfile), "--out", str(out)], capture_output=True, text=True)
    record = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    if proc.returncode != 0 or record.get("status") != "ok":
        raise RuntimeError(f"{notebook} ({name}) failed: exit {proc.returncode}, {record.get('error')}\n{proc.stderr[-2000:]}")
    print(f"  {notebook} ({name}): ok in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return out


def cdnow(data: Path, work: Path) -> pd.DataFrame:
    """BG/NBD and Gamma-Gamma on CDNOW as observed on 1997-10-01 (the published 39-week calibration period:
    ``as_of`` is the first day not observed, so the models are fitted on 1997-01-01 .. 1997-09-30)."""
    out = run(
        "customer_segmentation",
        {
            "transactions_path": str(data / "cdnow_sample_transactions.csv"),
            "as_of": "1997-10-01",
            "merge_same_day": True,
            "time_unit": "W",
        },
        work,
        "cdnow",
    )
    params = json.loads((out / "summary.json").read_text())["clv"]["params"]
    return pd.DataFrame(
        [{"check": "CDNOW", "figure": k, "published": v, "marksell": params.get(k)} for k, v in CDNOW_PUBLISHED.items()]
    )


def cigarettes(data: Path, work: Path) -> pd.DataFrame:
    """2SLS price elasticity of cigarette demand, 1995 cross-section of 48 states (HC1 standard errors)."""
    base = {
        "panel_path": str(data / "cigarettes_sw.csv"),
        "columns": {"packs": "units", "rprice": "price", "price": "nominal_price", "state": "store_id"},
        "derive": {
            "rprice": "price / cpi",
            "salestax": "(taxs - tax) / cpi",
            "cigtax": "tax / cpi",
            "rincome": "income / population / cpi",
        },
        "query": "year == 1995",
        "methods": ["ols", "iv"],
        "fixed_effects": "none",
        "se_type": "HC1",
    }
    rows = []
    for i, (spec, (extra, published, se)) in enumerate(CIGARETTE_SPECS.items()):
        out = run("pricing_elasticity", {**base, **extra}, work, f"cigarettes-{i + 1}")
        fits = pd.read_csv(out / "elasticities.csv")
        iv = fits[fits["method"] == "iv"].iloc[0]
        ols = fits[fits["method"] == "ols"].iloc[0]
        rows += [
            {"check": "cigarettes", "figure": f"2SLS elasticity ({spec})", "published": published, "marksell": iv["elasticity"]},
            {"check": "cigarettes", "figure": f"2SLS s.e. ({spec})", "published": se, "marksell": iv["std_error"]},
            {
                "check": "cigarettes",
                "figure": f"OLS elasticity ({spec}; biased)",
                "published": np.nan,
                "marksell": ols["elasticity"],
            },
        ]
    return pd.DataFrame(rows)


def _mase(forecast, actual, train, m) -> float:
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(np.asarray(forecast) - actual)) / scale)


def series(data: Path, work: Path) -> pd.DataFrame:
    """Each series' last ``horizon`` periods held out; one run per frequency on the rest (the monthly series
    end on different dates: each is forecast from its own end)."""
    values = pd.read_csv(data / "sales_series.csv", parse_dates=["date"])
    meta = pd.read_csv(data / "sales_series_meta.csv").set_index("series_id")
    position = values.groupby("series_id").cumcount(ascending=False)  # 0 = the last period
    cut = values[position >= values["series_id"].map(meta["horizon"]).to_numpy()]
    scores = []
    for freq, ids in meta.groupby("frequency").groups.items():
        h = int(meta.loc[ids[0], "horizon"])
        path = work / f"series-{freq}.csv"
        cut[cut["series_id"].isin(ids)].to_csv(path, index=False)
        out = run(
            "sales_forecasting",
            {
                "sales_path": str(path),
                "columns": {"value": "sales"},
                "keys": ["series_id"],
                "levels": ["series_id"],
                "horizon": h,
                "exog_cols": [],
            },
            work,
            f"series-{freq}",
        )
        fc = pd.read_csv(out / "forecast.csv")
        for sid in ids:
            m = int(meta.loc[sid, "season_length"])
            y = values.loc[values["series_id"] == sid, "value"].to_numpy(float)
            train, test = y[:-h], y[-h:]
            f = fc[fc["series_id"] == sid]
            row = {
                "series": sid,
                "chosen_model": f.loc[f["chosen"], "model"].iloc[0],
                "chosen": _mase(f.loc[f["chosen"], "forecast"], test, train, m),
            }
            for model in ("snaive", "ets", "arima", "theta", "combo"):
                row[model] = _mase(f.loc[f["model"] == model, "forecast"], test, train, m)
            scores.append(row)
    table = pd.DataFrame(scores).set_index("series")
    print(table.round(3).to_string(), file=sys.stderr)
    mean = table.select_dtypes("number").mean()
    beats = int((table["chosen"] < table["snaive"]).sum())
    return pd.DataFrame(
        [
            {
                "check": "series",
                "figure": "series where the chosen forecast beats seasonal naive",
                "published": "most",
                "marksell": f"{beats} of {len(table)}",
            },
            *[
                {"check": "series", "figure": f"mean MASE, {m}", "published": np.nan, "marksell": mean[m]}
                for m in ("snaive", "ets", "arima", "theta", "combo", "chosen")
            ],
        ]
    )


CHECKS = {"cdnow": cdnow, "cigarettes": cigarettes, "series": series}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding the public files")
    ap.add_argument("--only", default=",".join(CHECKS), help="comma-separated checks: " + ", ".join(CHECKS))
    ap.add_argument("--keep", type=Path, help="keep the runs' report folders here (default: a temporary folder)")
    args = ap.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="marksell-realdata-"))
    work.mkdir(parents=True, exist_ok=True)
    tables = []
    try:
        for name in (n.strip() for n in args.only.split(",") if n.strip()):
            tables.append(CHECKS[name](args.data, work))
            print(tables[-1].to_string(index=False, float_format=lambda v: f"{v:.4g}"), file=sys.stderr)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    table = pd.concat(tables, ignore_index=True)
    with pd.option_context("display.max_colwidth", 60, "display.width", 140):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

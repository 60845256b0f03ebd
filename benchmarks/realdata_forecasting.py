"""Forecast accuracy on real series: the last season held out, MASE against seasonal naive.

Usage: ``python benchmarks/realdata_forecasting.py --data DIR`` where ``DIR`` holds
``sales_series.csv`` (``series_id, date, value``) and ``sales_series_meta.csv`` (``series_id,
frequency, season_length, horizon``), e.g. the five series of Hyndman & Athanasopoulos used for the
README's figures. Each series: the last ``horizon`` periods are held out; marksell selects per series
with a 3-origin backtest on the rest. With ``SF_PYTHON`` pointing at a Python that has statsforecast
(it needs pandas < 3, so a separate environment), AutoETS / AutoARIMA / AutoTheta are scored on the same
hold-out in the same run. Not part of the tests: the data are not shipped with the project.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

_SF_SCRIPT = r"""
import json, sys
import numpy as np, pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, AutoARIMA, AutoTheta
d = pd.read_csv(sys.argv[1], parse_dates=["date"])
meta = pd.read_csv(sys.argv[2]).set_index("series_id")
out = {}
for sid, g in d.groupby("series_id", sort=False):
    h, m = int(meta.loc[sid, "horizon"]), int(meta.loc[sid, "season_length"])
    f = "MS" if meta.loc[sid, "frequency"] == "M" else "QS"
    y = g["value"].to_numpy(float)
    tr = pd.DataFrame({"unique_id": sid, "ds": g["date"].iloc[:-h], "y": y[:-h]})
    fc = StatsForecast(models=[AutoETS(season_length=m), AutoARIMA(season_length=m),
                               AutoTheta(season_length=m)], freq=f).forecast(df=tr, h=h)
    out[sid] = {c: fc[c].tolist() for c in ["AutoETS", "AutoARIMA", "AutoTheta"]}
print(json.dumps(out))
"""


def _mase(forecast, actual, train, m) -> float:
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(np.asarray(forecast) - actual)) / scale)


def evaluate(data: Path, sf_python: str | None = None) -> pd.DataFrame:
    from marksell.forecasting import run_forecast

    series = pd.read_csv(data / "sales_series.csv", parse_dates=["date"])
    meta = pd.read_csv(data / "sales_series_meta.csv").set_index("series_id")
    sf = None
    if sf_python and Path(sf_python).exists():
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "sf.py"
            script.write_text(_SF_SCRIPT)
            res = subprocess.run(
                [sf_python, str(script), str(data / "sales_series.csv"), str(data / "sales_series_meta.csv")],
                capture_output=True,
                text=True,
            )
        sf = json.loads(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else None
        if sf is None:
            print("statsforecast failed:", res.stderr[-400:], file=sys.stderr)
    rows = []
    for sid, g in series.groupby("series_id", sort=False):
        h, m = int(meta.loc[sid, "horizon"]), int(meta.loc[sid, "season_length"])
        y = g["value"].to_numpy(float)
        train, test = y[:-h], y[-h:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = run_forecast(g.iloc[:-h], value_col="value", freq=meta.loc[sid, "frequency"], horizon=h, n_origins=3, seed=0)
        fc = run.forecast
        row = {"series": sid}
        for model in ["snaive", "ets", "arima", "theta", "combo"]:
            row[model] = _mase(fc.loc[fc["model"] == model, "forecast"], test, train, m)
        chosen = fc[fc["chosen"]]
        row["chosen"] = _mase(chosen["forecast"], test, train, m)
        row["chosen_model"] = chosen["model"].iloc[0]
        for lv in (80, 95):
            row[f"coverage_{lv}"] = float(
                np.mean((test >= chosen[f"lo_{lv}"].to_numpy()) & (test <= chosen[f"hi_{lv}"].to_numpy()))
            )
        if sf:
            for model, values in sf[sid].items():
                row[f"sf_{model}"] = _mase(values, test, train, m)
        rows.append(row)
    return pd.DataFrame(rows).set_index("series")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with sales_series*.csv")
    ap.add_argument(
        "--sf-python",
        default=os.environ.get("SF_PYTHON"),
        help="a Python with statsforecast (default: $SF_PYTHON; none: skipped)",
    )
    args = ap.parse_args()
    table = evaluate(args.data, args.sf_python)
    num = table.select_dtypes("number")
    print(pd.concat([num, num.mean().to_frame("mean").T]).round(3).to_string())
    print(table["chosen_model"].to_string())


if __name__ == "__main__":
    main()

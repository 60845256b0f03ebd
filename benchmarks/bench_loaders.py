"""Benchmark the loaders on large inputs: time, peak memory, and memory as a multiple of the data.

Scale 1.0 = 10 million transactions (1 million customers) in Parquet, and the same rows in CSV
at a tenth of the size (CSV writing alone takes minutes at 10M). ``mem_multiple`` is the peak
memory the load added (peak RSS minus RSS before the load) divided by the loaded frame's in-memory
size. References, on the same file in the same run: ``pandas.read_parquet`` (no validation) and
DuckDB's Parquet reader to a pandas frame.

    python benchmarks/bench_loaders.py [--scale 0.1]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import cli, measure# noqa: E402


def make_transactions(n_rows: int, n_customers: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n_rows)
    start = np.datetime64("2023-01-01")
    return pd.DataFrame({
        "order_id": pd.array([f"O{i:09d}" for i in range(n_rows)], dtype="str"),
        "customer_id": pd.array(np.char.add("C", np.char.zfill(cust.astype(str), 7)), dtype="str"),
        "order_date": start + rng.integers(0, 1095, n_rows).astype("timedelta64[D]"),
        "revenue": np.round(rng.gamma(2.0, 40.0, n_rows), 2),
        "quantity": rng.integers(1, 5, n_rows),
        "channel": pd.Categorical(rng.choice(["search", "social", "email", "affiliate", "display"], n_rows)),
        "region": pd.Categorical(rng.choice(["North", "South", "East", "West"], n_rows)),
    })


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_marksell(path: str) -> dict:
    import warnings

    from marksell.data.loaders import load_transactions

    before = _rss_mb()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = load_transactions(path)
    wall = time.perf_counter() - t0
    size = df.memory_usage(deep=True).sum() / 2**20
    objects = int((df.dtypes == object).sum())
    return {"load_s": wall, "data_mb": size, "mem_multiple": (_rss_mb() - before) / size, "object_cols": objects}


def load_pandas(path: str) -> dict:
    before = _rss_mb()
    t0 = time.perf_counter()
    df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    size = df.memory_usage(deep=True).sum() / 2**20
    return {"load_s": time.perf_counter() - t0, "data_mb": size, "mem_multiple": (_rss_mb() - before) / size}


def load_duckdb(path: str) -> dict:
    import duckdb

    before = _rss_mb()
    t0 = time.perf_counter()
    reader = "read_parquet" if path.endswith(".parquet") else "read_csv_auto"
    df = duckdb.sql(f"select * from {reader}('{path}')").df()
    size = df.memory_usage(deep=True).sum() / 2**20
    return {"load_s": time.perf_counter() - t0, "data_mb": size, "mem_multiple": (_rss_mb() - before) / size}


def main(scale: float = 1.0) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        n = int(10_000_000 * scale)
        for fmt, n_rows in (("parquet", n), ("csv", max(n // 10, 1000))):
            df = make_transactions(n_rows, max(n_rows // 10, 10))
            path = str(Path(d) / f"tx.{fmt}")
            df.to_parquet(path, index=False) if fmt == "parquet" else df.to_csv(path, index=False)
            del df
            size = f"{n_rows:,} rows {fmt}"
            results = {}
            for impl, fn in (("marksell load_transactions", load_marksell), ("pandas (no validation)", load_pandas),
                             ("duckdb -> pandas", load_duckdb)):
                res = measure(fn, path)
                if not res["ok"]:
                    rows.append({"analysis": "load transactions", "size": size, "impl": f"{impl}: {res['error']}"})
                    continue
                results[impl] = res
                rows.append({"analysis": "load transactions", "size": size, "impl": impl,
                             "wall_s": res["extra"]["load_s"], "cpu_s": res["cpu_s"], "peak_mb": res["peak_mb"],
                             "mem_multiple": res["extra"]["mem_multiple"], "data_mb": res["extra"]["data_mb"]})
            ref = results.get("duckdb -> pandas")
            for r in rows:
                if r["size"] == size and ref and "wall_s" in r:
                    r["ratio_vs_ref"] = r["wall_s"] / ref["extra"]["load_s"]
    return rows


if __name__ == "__main__":
    cli(main, "loaders", __doc__)

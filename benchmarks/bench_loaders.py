"""Benchmark the loaders on large inputs: time, peak memory, and memory as a multiple of the data.

Scale 1.0 = 10 million rows in Parquet for each of transactions (1 million customers), a weekly price
panel and a weekly sales history, and the transactions in CSV at a tenth of the size (CSV writing alone
takes minutes at 10M). ``mem_multiple`` is the peak memory the load added (peak RSS minus RSS before the
load) divided by the loaded frame's in-memory size; the data are generated in a child process, so the
measuring processes do not start with a large heap whose free pages they could reuse. The reference
(ratio 1) is the plain read of the same file and columns without validation (``pandas.read_parquet`` /
``pandas.read_csv``), measured in the same run; DuckDB's reader to a pandas frame is shown beside it.
Targets (issue 20): validated Parquet loading at most 2x the plain read, added peak memory at most 1.5x the
loaded frame.

    python benchmarks/bench_loaders.py [--scale 0.1]

Generating 10M rows takes minutes: with ``BENCH_DATA_DIR=folder`` the files are written there once and
reused by later runs (never inside the repository: generated data is not committed).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from harness import cli, measure


def make_transactions(n_rows: int, n_customers: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n_rows)
    start = np.datetime64("2023-01-01")
    return pd.DataFrame(
        {
            "order_id": pd.array([f"O{i:09d}" for i in range(n_rows)], dtype="str"),
            "customer_id": pd.array(np.char.add("C", np.char.zfill(cust.astype(str), 7)), dtype="str"),
            "order_date": start + rng.integers(0, 1095, n_rows).astype("timedelta64[D]"),
            "revenue": np.round(rng.gamma(2.0, 40.0, n_rows), 2),
            "quantity": rng.integers(1, 5, n_rows),
            "channel": pd.Categorical(rng.choice(["search", "social", "email", "affiliate", "display"], n_rows)),
            "region": pd.Categorical(rng.choice(["North", "South", "East", "West"], n_rows)),
        }
    )


def make_price_panel(n_rows: int, seed: int = 1) -> pa.Table:
    """Weekly panel: 156 weeks x stores x products, plain string ids (as pandas writes them)."""
    rng = np.random.default_rng(seed)
    n_weeks, n_stores = 156, 40
    n_products = max(n_rows // (n_weeks * n_stores), 1)
    weeks = np.datetime64("2022-01-03") + 7 * np.arange(n_weeks).astype("timedelta64[D]")
    w, st, pr = (a.ravel() for a in np.meshgrid(np.arange(n_weeks), np.arange(n_stores), np.arange(n_products), indexing="ij"))
    n = len(w)
    return pa.table(
        {
            "date": pa.array(weeks[w].astype("datetime64[ms]")),
            "store_id": _ids("S", n_stores).take(pa.array(st)).cast(pa.large_string()),
            "product_id": _ids("P", n_products).take(pa.array(pr)).cast(pa.large_string()),
            "price": np.round(rng.uniform(0.5, 20.0, n), 2),
            "units": rng.poisson(8.0, n).astype(float),
            "promo": rng.integers(0, 2, n),
        }
    )


def make_sales_history(n_rows: int, seed: int = 2) -> pa.Table:
    """Weekly sales of region x category series over 10 years."""
    rng = np.random.default_rng(seed)
    n_weeks, n_regions = 520, 20
    n_cats = max(n_rows // (n_weeks * n_regions), 1)
    weeks = np.datetime64("2015-01-05") + 7 * np.arange(n_weeks).astype("timedelta64[D]")
    w, r, c = (a.ravel() for a in np.meshgrid(np.arange(n_weeks), np.arange(n_regions), np.arange(n_cats), indexing="ij"))
    return pa.table(
        {
            "date": pa.array(weeks[w].astype("datetime64[ms]")),
            "region": _ids("R", n_regions).take(pa.array(r)).cast(pa.large_string()),
            "category": _ids("K", n_cats).take(pa.array(c)).cast(pa.large_string()),
            "sales": np.round(rng.gamma(3.0, 100.0, len(w)), 2),
        }
    )


def _ids(prefix: str, n: int) -> pa.Array:
    return pa.array([f"{prefix}{i:06d}" for i in range(n)])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


LOADERS = {
    "transactions": ("load_transactions", {}),
    "price_panel": ("load_price_panel", {}),
    "sales_history": ("load_sales_history", {"keys": ["region", "category"]}),
}


def load_marksell(path: str, kind: str = "transactions") -> dict:
    import warnings

    from marksell.data import loaders

    name, kwargs = LOADERS[kind]
    before = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = getattr(loaders, name)(path, **kwargs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    size = df.memory_usage(deep=True).sum() / 2**20
    objects = int((df.dtypes == object).sum())
    return {
        "load_s": wall,
        "load_cpu_s": cpu,
        "data_mb": size,
        "mem_multiple": (_rss_mb() - before) / size,
        "object_cols": objects,
    }


def load_pandas(path: str, kind: str = "") -> dict:
    before = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    size = df.memory_usage(deep=True).sum() / 2**20
    return {"load_s": wall, "load_cpu_s": cpu, "data_mb": size, "mem_multiple": (_rss_mb() - before) / size}


def load_duckdb(path: str, kind: str = "") -> dict:
    import duckdb

    before = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    reader = "read_parquet" if path.endswith(".parquet") else "read_csv_auto"
    df = duckdb.sql(f"select * from {reader}('{path}')").df()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    size = df.memory_usage(deep=True).sum() / 2**20
    return {"load_s": wall, "load_cpu_s": cpu, "data_mb": size, "mem_multiple": (_rss_mb() - before) / size}


IMPLS = (("pandas read (no validation)", load_pandas), ("marksell loader", load_marksell), ("duckdb -> pandas", load_duckdb))


def _write(kind: str, fmt: str, n_rows: int, folder: str) -> str:
    path = str(Path(folder) / f"{kind}_{n_rows}.{fmt}")
    if Path(path).exists():  # a cached file of BENCH_DATA_DIR (written whole, then renamed)
        return path
    final, path = path, path + ".part"
    if kind == "transactions":
        df = make_transactions(n_rows, max(n_rows // 10, 10))
        df.to_parquet(path, index=False) if fmt == "parquet" else df.to_csv(path, index=False)
    else:
        table = make_price_panel(n_rows) if kind == "price_panel" else make_sales_history(n_rows)
        pq.write_table(table, path, row_group_size=1_000_000)
    os.replace(path, final)
    return final


def _measure_file(kind: str, fmt: str, path: str, n_rows: int) -> list[dict]:
    rows, ref = [], None
    size = f"{n_rows:,} rows {fmt}"
    for impl, fn in IMPLS:
        res = measure(fn, path, kind)
        if not res["ok"]:
            rows.append({"analysis": f"load {kind}", "size": size, "impl": f"{impl}: {res['error']}"})
            continue
        ex = res["extra"]
        ref = ref or ex
        rows.append(
            {
                "analysis": f"load {kind}",
                "size": size,
                "impl": impl,
                "wall_s": ex["load_s"],
                "cpu_s": ex["load_cpu_s"],
                "peak_mb": res["peak_mb"],
                "ratio_vs_ref": ex["load_s"] / ref["load_s"],
                "extra": {
                    "cpu_ratio_vs_ref": round(ex["load_cpu_s"] / ref["load_cpu_s"], 2),
                    "mem_multiple": round(ex["mem_multiple"], 2),
                    "data_mb": round(ex["data_mb"], 1),
                },
            }
        )
    return rows


def main(scale: float = 1.0) -> list[dict]:
    rows = []
    n = max(int(10_000_000 * scale), 10_000)
    cases = [
        ("transactions", "parquet", n),
        ("price_panel", "parquet", n),
        ("sales_history", "parquet", n),
        ("transactions", "csv", max(n // 10, 1000)),
    ]
    cache = os.environ.get("BENCH_DATA_DIR", "")
    with tempfile.TemporaryDirectory() as d:
        for kind, fmt, n_rows in cases:
            made = measure(_write, kind, fmt, n_rows, cache or d)  # in a child: the parent's heap stays small
            if not made["ok"]:
                raise RuntimeError(made["error"])
            path = made["extra"]
            n_real = pq.read_metadata(path).num_rows if fmt == "parquet" else n_rows
            rows += _measure_file(kind, fmt, path, n_real)
            if not cache:
                Path(path).unlink()
    return rows


if __name__ == "__main__":
    cli(main, "loaders", __doc__)

"""The Parquet fast path (contract checked on Arrow arrays) against the general path (pandas + pandera).

Every Parquet file of the bad-input corpus and a set of generated clean and nearly clean files is loaded
twice: as the loader does (fast path first) and with the fast path switched off. Frames, warnings and
error messages must be identical; the clean files must actually take the fast path.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from marksell.data import loaders
from marksell.data.arrow import fingerprint, repeated_rows
from marksell.errors import DataContractError, DataQualityWarning

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
EXPECTATIONS = yaml.safe_load((CORPUS / "expectations.yaml").read_text(encoding="utf-8"))
TODAY = datetime(2025, 6, 30)


def _outcome(kind, path, monkeypatch=None, **kwargs):
    """(frame or None, error message or None, warning messages) of one load."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            df = loaders.load(kind, path, kwargs.pop("columns", None), today=TODAY, **kwargs)
            error = None
        except DataContractError as exc:
            df, error = None, str(exc)
    return df, error, [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]


def _both(kind, path, monkeypatch, **kwargs):
    fast = _outcome(kind, path, **dict(kwargs))
    with monkeypatch.context() as m:
        m.setattr(loaders, "_load_clean", lambda *a, **k: (None, None))
        general = _outcome(kind, path, **dict(kwargs))
    return fast, general


def _assert_same(fast, general):
    (df_f, err_f, warn_f), (df_g, err_g, warn_g) = fast, general
    assert err_f == err_g
    assert warn_f == warn_g
    if df_g is None:
        assert df_f is None
        return
    pd.testing.assert_frame_equal(df_f, df_g, check_exact=True)
    assert df_f.attrs == df_g.attrs


PARQUET = sorted(rel for rel in EXPECTATIONS if rel.endswith(".parquet"))


@pytest.mark.parametrize("rel", PARQUET)
def test_corpus_parquet_same_on_both_paths(rel, monkeypatch):
    exp = EXPECTATIONS[rel]
    kwargs = dict(exp.get("kwargs") or {})
    _assert_same(*_both(exp["kind"], CORPUS / rel, monkeypatch, **kwargs))


def test_clean_corpus_files_take_the_fast_path():
    taken = []
    for rel in PARQUET:
        exp = EXPECTATIONS[rel]
        if not rel.endswith("typed.parquet") or exp["outcome"] == "fails":
            continue
        kw = dict(exp.get("kwargs") or {})
        contract = loaders.CONTRACTS[exp["kind"]]
        cols = loaders.check_mapping(kw.get("columns"), rel, contract)
        keys = loaders.check_keys(kw.get("keys"), rel, contract)
        df, sha = loaders._load_clean(CORPUS / rel, contract, cols, keys, TODAY)
        taken.append((rel, df is not None))
    assert len(taken) >= 6
    assert all(ok for _, ok in taken), taken


def _transactions(n=500, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "order_id": [f"O{i:06d}" for i in range(n)],
            "customer_id": [f"C{i:04d}" for i in rng.integers(0, 60, n)],
            "order_date": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
            "revenue": np.round(rng.gamma(2.0, 30.0, n), 2),
            "quantity": rng.integers(1, 5, n),
            "channel": pd.Categorical(rng.choice([" email ", "search", "social"], n)),
            "region": rng.choice(["North", "South"], n),
        }
    )


def _variants():
    base = _transactions()
    v = {"clean": base}
    d = base.copy()
    d["order_date"] = d["order_date"] + pd.to_timedelta(np.arange(len(d)) % 7, unit="h")  # times of day
    v["times_of_day"] = d
    d = base.copy()
    d["order_date"] = d["order_date"].astype("datetime64[ms]")
    v["ms_timestamps"] = d
    d = base.copy()
    d["customer_id"] = np.arange(len(d)) % 40  # integer ids
    v["int_ids"] = d
    d = base.copy()
    d.loc[3, "customer_id"] = "  C0003 "
    d.loc[5, "region"] = "NA"
    d.loc[7, "channel"] = np.nan
    d["quantity"] = d["quantity"].astype("Int64")
    d.loc[9, "quantity"] = pd.NA
    v["spaces_na_tokens_nullable"] = d
    d = base.copy()
    d.loc[4, "customer_id"] = "NULL"
    v["missing_id_token"] = d
    d = base.copy()
    d.loc[2, "revenue"] = np.inf
    v["infinite_revenue"] = d
    d = base.copy()
    d.loc[2, "revenue"] = -12.5
    d.loc[10] = d.loc[11]
    v["return_and_duplicate_row"] = d
    d = base.copy()
    d["quantity"] = d["quantity"].astype(float)
    d.loc[6, "quantity"] = 1.5
    v["fractional_quantity"] = d
    d = base.copy()
    d.loc[8, "order_date"] = pd.Timestamp("2031-01-01")
    v["future_date"] = d
    d = base.copy()
    d["order_date"] = d["order_date"].dt.date  # date32
    v["date32"] = d
    d = base.copy()
    d["order_date"] = d["order_date"].dt.tz_localize("Europe/Berlin")
    v["time_zone"] = d
    d = base.copy().drop(columns="order_id")
    d.loc[12] = d.loc[13]
    v["no_order_id_duplicate"] = d
    return v


@pytest.mark.parametrize("name", sorted(_variants()))
def test_generated_transactions_same_on_both_paths(name, tmp_path, monkeypatch):
    path = tmp_path / f"{name}.parquet"
    _variants()[name].to_parquet(path, index=False)
    _assert_same(*_both("transactions", path, monkeypatch))


def _panel(n_weeks=30, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2024-01-01", periods=n_weeks, freq="7D")
    rows = [(w, s, p) for w in weeks for s in ("S1", "S2") for p in ("P1", "P2", "P3")]
    df = pd.DataFrame(rows, columns=["date", "store_id", "product_id"])
    df["price"] = np.round(rng.uniform(1, 5, len(df)), 2)
    df["units"] = rng.integers(0, 50, len(df)).astype(float)
    df["promo"] = rng.integers(0, 2, len(df))
    df["temperature"] = rng.normal(15, 5, len(df))
    return df


@pytest.mark.parametrize("case", ["clean", "duplicate_key", "zero_price", "promo_2", "gap"])
def test_generated_price_panels_same_on_both_paths(case, tmp_path, monkeypatch):
    df = _panel()
    if case == "duplicate_key":
        df.loc[5, ["date", "store_id", "product_id"]] = df.loc[4, ["date", "store_id", "product_id"]].to_numpy()
    elif case == "zero_price":
        df.loc[3, "price"] = 0.0
    elif case == "promo_2":
        df.loc[3, "promo"] = 2
    elif case == "gap":
        df = df[df["date"] != df["date"].iloc[60]]
    path = tmp_path / f"{case}.parquet"
    df.to_parquet(path, index=False)
    _assert_same(*_both("price_panel", path, monkeypatch))


@pytest.mark.parametrize("case", ["clean", "duplicate_dates", "monthly_mid_month"])
def test_generated_sales_histories_same_on_both_paths(case, tmp_path, monkeypatch):
    dates = pd.date_range("2022-01-01", periods=24, freq="MS")
    df = pd.DataFrame([(d, r) for d in dates for r in ("North", "South")], columns=["date", "region"])
    df["sales"] = np.arange(len(df), dtype=float) * 3.5 + 100
    if case == "duplicate_dates":
        df.loc[3, "date"] = df.loc[1, "date"]
    elif case == "monthly_mid_month":
        df["date"] = df["date"] + pd.Timedelta(days=14)
    path = tmp_path / f"{case}.parquet"
    df.to_parquet(path, index=False)
    _assert_same(*_both("sales_history", path, monkeypatch, keys=["region"]))


def test_fingerprints_flag_every_duplicate_and_separate_short_strings():
    """Equal cells get equal fingerprints wherever they sit in the Arrow buffer; strings up to 16 bytes
    that differ get different ones; every exact duplicate row is among the repeated rows."""
    rng = np.random.default_rng(3)
    alphabet = [
        "",
        "a",
        " a",
        "ab",
        "abcdefgh",
        "abcdefghi",
        "xbcdefghij",
        "abcdefgh1234567890",
        "abcdefgh1234567891",
        "é",
        "ée",
        None,
    ]
    for _ in range(200):
        n = int(rng.integers(1, 40))
        vals = [alphabet[i] for i in rng.integers(0, len(alphabet), n)]
        s = pd.Series(pd.array(vals, dtype="string"))
        f = fingerprint(s)
        for i in range(n):
            for j in range(n):
                if vals[i] == vals[j] or (vals[i] is None and vals[j] is None):
                    assert f[i] == f[j]
                elif vals[i] is not None and vals[j] is not None and len(vals[i].encode()) <= 16 and len(vals[j].encode()) <= 16:
                    assert f[i] != f[j], (vals[i], vals[j])
        df = pd.DataFrame({"s": s, "x": rng.integers(0, 2, n).astype(float), "d": pd.Timestamp("2024-01-01")})
        exact = df.duplicated(keep=False).to_numpy()
        assert not (exact & ~repeated_rows(df)).any()
    f = fingerprint(pd.Series([0.0, -0.0, np.nan, float("nan")]))
    assert f[0] == f[1] and f[2] == f[3]


def test_duplicate_row_count_matches_pandas():
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "order_id": pd.array([f"O{i}" for i in rng.integers(0, 300, 2000)], dtype="string"),
            "revenue": rng.integers(0, 3, 2000).astype(float),
        }
    )
    assert loaders._n_duplicate_rows(df) == int(df.duplicated().sum()) > 0


def test_fingerprints_do_not_depend_on_chunks():
    """A column read from several row groups gets the fingerprints of the same column in one piece."""
    vals = ["a", "bb", None, "abcdefghijk", "", "zz", "a", "abcdefghijk", "é", "bb"]
    whole = pa.chunked_array([pa.array(vals, pa.large_string())])
    parts = pa.chunked_array([pa.array(vals[i : i + 3], pa.large_string()) for i in range(0, len(vals), 3)])
    f_whole = fingerprint(pd.Series(pd.arrays.ArrowStringArray(whole)))
    f_parts = fingerprint(pd.Series(pd.arrays.ArrowStringArray(parts)))
    assert (f_whole == f_parts).all()
    assert f_whole[0] == f_whole[6] and f_whole[1] == f_whole[9] and f_whole[3] == f_whole[7]


CSV = sorted(rel for rel in EXPECTATIONS if rel.endswith(".csv"))


@pytest.mark.parametrize("rel", CSV)
def test_corpus_csv_same_on_both_paths(rel, monkeypatch):
    """Every CSV file of the bad-input corpus: pyarrow's reader (fast path) and pandas' give the same frame,
    warnings and error message."""
    exp = EXPECTATIONS[rel]
    kwargs = dict(exp.get("kwargs") or {})
    _assert_same(*_both(exp["kind"], CORPUS / rel, monkeypatch, **kwargs))


_CELLS = {
    "text": [
        "C1",
        "C2",
        " C1 ",
        '"C2"',
        ' "C1"',
        '"C,1"',
        '"C""2"',
        '"C\n1"',
        "NA",
        " NA",
        "",
        "null",
        '""',
        "é",
        "C1 ",
        '"NA"',
        '"C1"x',
        '"C1',
        'C1"',
        "C\t1",
    ],
    "date": [
        "2024-01-05",
        "2024-02-29 10:30",
        "2024-03-01T23:59:59",
        "20240105",
        "2024-01",
        " 2024-01-06",
        "2024-01-07 ",
        "2024-01-05Z",
        "2024-01-05T10:00+02:00",
        "1899-12-31",
        "2031-01-01",
        "NA",
        "",
        '"2024-01-08"',
        "2024/01/05",
        "2024-01-05 10:00:00.5",
    ],
    "number": [
        "1",
        "2.5",
        " 3",
        "4 ",
        "1e2",
        ".5",
        "-2",
        "+7",
        "NA",
        "",
        "nan",
        "NAN",
        "inf",
        "1,5",
        '"6"',
        "0x1",
        "1.0",
        "0",
        "1_0",
        "3.25",
    ],
    "count": [
        "1",
        "2",
        " 3",
        "4 ",
        "1e2",
        "2.0",
        '"6"',
        "+7",
        "NA",
        "",
        "nan",
        "NAN",
        "inf",
        "1,5",
        "0x1",
        "1.5",
        "0",
        "-1",
        "1_0",
    ],
}


def _random_csv(rng, n_rows: int) -> str:
    """A small transactions CSV whose cells come from spellings the two readers might treat differently
    (each column gets odd spellings at its own rate, often none, so that many files are clean)."""
    header = ["order_id", "customer_id", "order_date", "revenue", "quantity", "channel", "note"]
    kinds = ["text", "text", "date", "number", "count", "text", "text"]  # 'note': a column the loader leaves out
    sep = str(rng.choice([",", ";"]))
    end = str(rng.choice(["\n", "\r\n"]))
    odd = {i: float(rng.choice([0.0, 0.0, 0.1, 0.3])) for i in range(1, len(kinds))}
    pool = {i: _CELLS[kinds[i]][: int(rng.integers(4, len(_CELLS[kinds[i]]) + 1))] for i in odd}
    lines = [sep.join(header)]
    for r in range(n_rows):
        row = [f"O{r}"] + [
            str(rng.choice(pool[i])) if rng.random() < odd[i] else _CELLS[kinds[i]][int(rng.integers(0, 3))]
            for i in range(1, len(kinds))
        ]
        lines.append(sep.join(row))
    return end.join(lines) + end


@pytest.mark.parametrize("seed", range(60))
def test_random_csv_spellings_same_on_both_paths(seed, tmp_path, monkeypatch):
    """Cells spelled in ways pandas and pyarrow may read differently (quotes after a space or left open, NA tokens,
    padded numbers and dates, time zones, embedded newlines), also in a column the loader leaves out: both paths
    give the same outcome."""
    rng = np.random.default_rng(seed)
    path = tmp_path / f"random_{seed}.csv"
    path.write_bytes(_random_csv(rng, int(rng.integers(3, 12))).encode("utf-8"))
    _assert_same(*_both("transactions", path, monkeypatch))


def _takes_fast_path(kind, path, kwargs) -> bool:
    contract = loaders.CONTRACTS[kind]
    cols = loaders.check_mapping(kwargs.get("columns"), str(path), contract)
    keys = loaders.check_keys(kwargs.get("keys"), str(path), contract)
    return loaders._load_clean(path, contract, cols, keys, TODAY)[0] is not None


def test_clean_csv_files_take_the_fast_path(tmp_path):
    """Clean corpus files (comma, semicolon, CRLF, BOM, Excel's sep= line, mapped headers) and a good share of
    the random files are read by pyarrow, so the comparisons above cover the fast path."""
    clean = ("valid.csv", "crlf.csv", "utf8_bom.csv", "semicolon.csv", "excel_sep_hint.csv", "mapped_columns.csv")
    slow = [
        rel
        for rel in CSV
        if rel.endswith(clean)
        and EXPECTATIONS[rel]["outcome"] == "loads"
        and not _takes_fast_path(EXPECTATIONS[rel]["kind"], CORPUS / rel, EXPECTATIONS[rel].get("kwargs") or {})
    ]
    assert not slow
    fast = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        path = tmp_path / f"random_{seed}.csv"
        path.write_bytes(_random_csv(rng, int(rng.integers(3, 12))).encode("utf-8"))
        fast += _takes_fast_path("transactions", path, {})
    assert fast >= 15, fast


@pytest.mark.parametrize("block", [1 << 20, 7])
def test_outsized_values_as_with_the_median_of_every_size(block, monkeypatch):
    """The median is skipped only when no value can be a million times it: counts, median and largest agree
    with the direct computation on spreads just under and over the ratio, with zeros, NaN and infinities
    (also when the smallest and largest sizes are found over several blocks of rows)."""
    monkeypatch.setattr(loaders, "_BLOCK", block)
    rng = np.random.default_rng(11)
    for spread in (1e5, 9.9e5, 1e6, 1.01e6, 1e7, 1e9):
        for _ in range(30):
            v = rng.uniform(1, 2, int(rng.integers(1, 40))) * rng.choice([-1.0, 1.0])
            v[rng.integers(0, len(v))] *= spread * rng.choice([0.5, 1.0, 2.0])
            v = np.r_[v, [0.0, np.nan, np.inf][: int(rng.integers(0, 4))]]
            size = np.abs(v[np.isfinite(v) & (v != 0)])
            expect = None
            if len(size) >= 3:
                median = float(np.median(size))
                n = int((size > loaders._MAGNITUDE_RATIO * median).sum())
                expect = (n, median, size.max()) if n else None
            assert loaders._outsized(v) == expect


def test_fingerprint_of_a_value_does_not_depend_on_its_column():
    """Columns of short codes only (one masked read) and columns mixing short and long strings (two reads) give a
    value the same fingerprint, so equal cells stay equal whatever else the file holds."""
    short = ["", "a", "ab", "R000001", "abcdefg", None]
    mixed = short + ["abcdefgh", "abcdefghijk", "xyz12345678901234567"]
    f_short = fingerprint(pd.Series(pd.array(short, dtype="string")))
    f_mixed = fingerprint(pd.Series(pd.array(mixed, dtype="string")))
    assert (f_short == f_mixed[: len(short)]).all()
    assert len(set(f_mixed[:-4].tolist() + f_mixed[-3:].tolist())) == len(mixed) - 1


def _write_row_groups(df: pd.DataFrame, path: Path, rows_per_group: int) -> None:
    """Parquet with several row groups: each gets its own dictionary of the text columns."""
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=rows_per_group)


@pytest.mark.parametrize(
    "case",
    ["clean", "duplicate_in_last_row_group", "padded_key_repeats", "na_spelled_store", "categorical_keys", "no_store"],
)
def test_price_panel_keys_over_row_groups_same_on_both_paths(case, tmp_path, monkeypatch):
    """The panel's key (date, store, product) checked with the codes of each text column read as a dictionary, over
    row groups whose dictionaries differ: a repeat in the last row group, a key equal to another only once stripped,
    an NA spelling, keys stored as categories, no store column."""
    df = _panel(n_weeks=20)
    if case == "duplicate_in_last_row_group":
        df.loc[len(df) - 1, ["date", "store_id", "product_id"]] = df.loc[0, ["date", "store_id", "product_id"]].to_numpy()
    elif case == "padded_key_repeats":
        df.loc[len(df) - 2, "product_id"] = " " + str(df.loc[len(df) - 1, "product_id"]) + " "
    elif case == "na_spelled_store":
        df.loc[len(df) - 3, "store_id"] = "NA"
    elif case == "categorical_keys":
        df["store_id"] = pd.Categorical(df["store_id"])
        df["product_id"] = pd.Categorical(df["product_id"].str.pad(4))  # ' P1': stripped on both paths
    elif case == "no_store":
        df = df[df["store_id"] == "S1"].drop(columns="store_id").reset_index(drop=True)
    path = tmp_path / f"{case}.parquet"
    _write_row_groups(df, path, rows_per_group=25)
    fast, general = _both("price_panel", path, monkeypatch)
    _assert_same(fast, general)
    assert (fast[1] is None) == (case in ("clean", "categorical_keys", "no_store"))
    if case in ("clean", "categorical_keys", "no_store"):
        assert _takes_fast_path("price_panel", path, {})


@pytest.mark.parametrize("case", ["clean", "duplicate_in_last_row_group", "padded_key_repeats", "na_spelled_key", "one_series"])
def test_sales_history_series_keys_over_row_groups_same_on_both_paths(case, tmp_path, monkeypatch):
    """The warning counting duplicated dates within a series uses the key codes of the fast path: the same count
    and message as the general path, also for a repeat in the last row group and keys equal once stripped."""
    dates = pd.date_range("2023-01-02", periods=30, freq="7D")
    rows = [(d, r, c) for d in dates for r in ("North", "South") for c in ("Food", "Toys", "Home")]
    df = pd.DataFrame(rows, columns=["date", "region", "category"])
    df["sales"] = np.arange(len(df), dtype=float) + 10.0
    keys = ["region", "category"]
    if case == "duplicate_in_last_row_group":
        df.loc[len(df) - 1, ["date", "region", "category"]] = df.loc[0, ["date", "region", "category"]].to_numpy()
        df.loc[len(df) - 2, ["date", "region", "category"]] = df.loc[7, ["date", "region", "category"]].to_numpy()
    elif case == "padded_key_repeats":
        df.loc[len(df) - 1, "category"] = str(df.loc[len(df) - 2, "category"]) + "  "
        df.loc[len(df) - 1, "region"] = df.loc[len(df) - 2, "region"]
    elif case == "na_spelled_key":
        df.loc[len(df) - 4, "region"] = "null"
    elif case == "one_series":
        df = df[(df["region"] == "North") & (df["category"] == "Food")].drop(columns=["region", "category"])
        df = pd.concat([df, df.iloc[[3]]], ignore_index=True)  # one date twice
        keys = []
    path = tmp_path / f"{case}.parquet"
    _write_row_groups(df, path, rows_per_group=40)
    fast, general = _both("sales_history", path, monkeypatch, keys=keys)
    _assert_same(fast, general)
    duplicated = [w for w in fast[2] if "duplicated date(s) within a series" in w]
    expected = {"duplicate_in_last_row_group": "2 duplicated", "padded_key_repeats": "1 duplicated", "one_series": "1 duplicated"}
    if case in expected:
        assert len(duplicated) == 1 and expected[case] in duplicated[0]
    else:
        assert not duplicated
    if case != "na_spelled_key":
        assert _takes_fast_path("sales_history", path, {"keys": keys})


def test_duplicate_count_matches_pandas():
    """Counts from codes (a table of seen numbers, or sorting when the combinations are many), from dates in steps of
    a week or a month, and from fingerprints (columns without codes) all equal pandas' duplicated().sum()."""
    from marksell.data.arrow import duplicate_count

    rng = np.random.default_rng(17)
    for trial in range(60):
        n = int(rng.integers(2, 400))
        n_codes = int(rng.choice([2, 5, 300, 70_000]))
        a = rng.integers(0, n_codes, n)
        step = str(rng.choice(["7D", "MS", "D"]))
        dates = pd.Series(pd.date_range("2020-01-06", periods=int(rng.integers(1, 30)), freq=step)).sample(
            n, replace=True, random_state=trial
        )
        df = pd.DataFrame(
            {
                "a": pd.array([f"k{i}" if i % 7 else None for i in a], dtype="string"),
                "b": pd.array([f"x{i}" for i in rng.integers(0, 3, n)], dtype="string"),
                "date": dates.to_numpy(),
            }
        )
        codes = {
            "a": (np.where(a % 7 == 0, n_codes, a).astype(np.uint32), n_codes + 1),
            "b": (pd.factorize(df["b"])[0].astype(np.uint8), 3),
        }
        for names in (["date"], ["a", "date"], ["date", "a", "b"], ["b"]):
            expect = int(df.duplicated(names).sum())
            assert duplicate_count(df, names, codes) == expect, (trial, names)
            assert duplicate_count(df, names) == expect, (trial, names)  # without codes: fingerprints for text


@pytest.mark.parametrize("cores", [1, 8])
def test_csv_fast_path_same_with_and_without_reader_threads(cores, tmp_path, monkeypatch):
    """pyarrow's CSV reader runs threaded only with cores to spare, and splits lines without the quoted-newline
    handling when the file has no quote: the outcome matches the general path either way (files with and without
    quotes, LF and CRLF line ends)."""
    from marksell.data import read

    monkeypatch.setattr(read.os, "cpu_count", lambda: cores)
    rng = np.random.default_rng(cores)
    for end, quote in (("\n", False), ("\r\n", False), ("\n", True), ("\r\n", True)):
        rows = ["order_id,customer_id,order_date,revenue,quantity,channel"]
        for i in range(3000):
            name = f'"C{i % 97}, Ltd"' if quote and i % 11 == 0 else f"C{i % 97}"
            rows.append(f"O{i},{name},2024-0{1 + i % 9}-1{i % 10},{rng.uniform(1, 99):.2f},{1 + i % 4},search")
        path = tmp_path / f"t_{len(end)}_{quote}.csv"
        path.write_bytes((end.join(rows) + end).encode("utf-8"))
        assert _takes_fast_path("transactions", path, {})
        _assert_same(*_both("transactions", path, monkeypatch))


def test_a_column_the_fast_path_cannot_read_goes_to_the_general_path(tmp_path, monkeypatch):
    """A reader error while a column is read on demand is not raised from the fast path: the general path reads
    the file again and gives its frame (or its worded error)."""
    from marksell.data import read

    path = tmp_path / "panel.parquet"
    _panel().to_parquet(path, index=False)
    general = _outcome("price_panel", path)

    def broken(self, name, dictionary=False):
        raise ValueError(f"cannot read {name}")

    monkeypatch.setattr(read.ParquetColumns, "column", broken)
    assert not _takes_fast_path("price_panel", path, {})
    _assert_same(_outcome("price_panel", path), general)

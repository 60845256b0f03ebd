"""Property tests (hypothesis) for the loaders and the artifact writers.

Loaders: for arbitrary frames written as CSV or Parquet (random column names including the
contract's, random cells: text, numbers, NaN, infinities, dates in many formats, blanks), every
loader either returns a frame that satisfies its contract or raises ``DataContractError`` —
never another exception. Artifacts: ``neutralise_formulas`` neutralises every formula-like text
cell, leaves numbers alone and is idempotent; ``to_jsonable`` output always passes
``json.dumps(allow_nan=False)``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import string
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marksell import data as loaders
from marksell.data.contracts import CONTRACTS
from marksell.errors import DataContractError
from marksell.jsonable import to_jsonable
from marksell.reporting.artifacts import _FORMULA_PREFIXES, neutralise_formulas

TODAY = dt.datetime(2025, 6, 30)
EXAMPLES: Counter = Counter()  # examples run per property (printed by the last test)
OUTCOMES: Counter = Counter()
_TMP = Path(tempfile.mkdtemp(prefix="marksell_props_"))
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], derandomize=True)

# ----------------------------------------------------------------------------- strategies

_SPECIAL = [
    "",
    " ",
    "NA",
    "null",
    "=SUM(A1)",
    "-1",
    "0",
    "1",
    "2",
    "12.5",
    "1e400",
    "-0",
    "1,5",
    "€3",
    "2024-01-01",
    "2024-02-30",
    "2024-01-01T10:00:00+05:00",
    "2024-01-01T10:00:00Z",
    "20240105",
    "01/02/2024",
    "2024-13-01",
    "0001-01-01",
    "9999-12-31",
    "2099-01-01",
    "True",
    "nan",
    "inf",
    '"',
    "a,b",
    "x;y",
    "\t",
    "Zürich",
    "１２",
]

text_cells = st.one_of(
    st.sampled_from(_SPECIAL),
    st.text(alphabet=string.ascii_letters + string.digits + " -.,;:/\"'é€\n", max_size=8),
    st.integers(-(10**4), 10**21).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(str),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)).map(str),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)).map(lambda d: d.strftime("%d/%m/%Y")),
)
# cells that usually make the row valid, so that successful loads are common too
good_cells = st.one_of(
    st.sampled_from(["1", "2", "0", "5.5", "A1", "north"]),
    st.integers(0, 1).map(str),
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2024, 12, 31)).map(lambda d: d.replace(day=1).isoformat()),
)

_GOOD = {  # cells that satisfy each column type, so that successful loads are common too
    "datetime": st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2024, 12, 31)).map(
        lambda d: d.replace(day=1).isoformat()
    ),
    "float": st.floats(0.01, 1e6).map(lambda v: f"{v:.2f}"),
    "int": st.integers(0, 500).map(str),
    "flag": st.sampled_from(["0", "1"]),
    "string": st.text(alphabet=string.ascii_letters + string.digits + " -é", min_size=1, max_size=6).filter(
        lambda v: v.strip() not in ("", "NA", "nan", "NaN", "None") and not v.strip().startswith("-")
    ),
}
KINDS = sorted(CONTRACTS)


def _misspell(name: str) -> str:
    return name[:-1] if len(name) > 3 else name + "x"


@st.composite
def frames(draw):
    """(kind, keys, header, rows as text) for an arbitrary file of that kind."""
    kind = draw(st.sampled_from(KINDS))
    contract = CONTRACTS[kind]
    keys = draw(st.sampled_from([[], ["region"]])) if kind == "sales_history" else []
    header = []
    for col in list(contract.columns) + [type("K", (), {"name": k, "required": True})() for k in keys]:
        r = draw(st.integers(0, 19))
        if (col.required and r < 18) or (not col.required and r < 10):
            header.append(col.name)
        elif r == 18:
            header.append(draw(st.sampled_from([_misspell(col.name), col.name.upper(), " " + col.name])))
    header += draw(st.lists(st.text(alphabet=string.ascii_lowercase + "_ ", min_size=1, max_size=6), max_size=2))
    n = draw(st.integers(0, 6).map(lambda v: max(v, 1) if v else draw(st.sampled_from([0, 1, 1, 1]))))
    rnd = draw(st.randoms(use_true_random=False))
    p_bad = rnd.choice([0.0, 0.02, 0.1, 0.5])  # share of arbitrary cells
    goods = []
    for name in header:
        col = contract.column(name)
        goods.append(_GOOD["string" if name in keys else (col.dtype if col else "float")])
    rows = [[draw(text_cells if rnd.random() < p_bad else good) for good in goods] for _ in range(n)]
    return kind, keys, header, rows


def _check_contract(df: pd.DataFrame, kind: str, keys: list[str]) -> None:
    """Assert that a loaded frame satisfies the contract of ``kind``."""
    contract = CONTRACTS[kind]
    assert len(df) > 0
    assert df.columns.is_unique
    for col in contract.columns:
        if col.required:
            assert col.name in df.columns
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if not col.nullable:
            assert s.notna().all(), col.name
        v = s.dropna()
        if col.dtype == "string":
            assert s.dtype == "string"
        elif col.dtype == "datetime":
            assert s.dtype == "datetime64[ns]"
            assert (v == v.dt.normalize()).all()
            assert (v >= pd.Timestamp("1900-01-01")).all()
            if col.not_in_future:
                assert (v <= pd.Timestamp(TODAY) + pd.Timedelta(days=1)).all()
            if contract.date_freq == "MS" and col.name == contract.date_column:
                assert (v.dt.day == 1).all()
        else:
            assert pd.api.types.is_numeric_dtype(s.dtype), (col.name, s.dtype)
            assert np.isfinite(v.astype(float)).all()
            if col.dtype in ("int", "flag"):
                assert pd.api.types.is_integer_dtype(s.dtype)
            if col.dtype == "flag":
                assert v.isin([0, 1]).all()
            if col.greater_than is not None:
                assert (v > col.greater_than).all()
            if col.min_value is not None:
                assert (v >= col.min_value).all()
    for k in keys:
        assert df[k].dtype == "string" and df[k].notna().all()
    unique = [c for c in (*contract.unique, *keys) if c in df.columns] if contract.unique else []
    if unique:
        assert not df.duplicated(unique).any()
    known = {c.name for c in contract.columns} | set(keys)
    for name in df.columns:
        if name not in known:
            assert contract.extra_numeric
            assert df[name].dtype in ("float64", "string"), (name, df[name].dtype)
    prov = df.attrs["provenance"]
    assert prov["rows"] == len(df) and prov["kind"] == kind


def _load_or_error(kind, path, keys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", loaders.DataQualityWarning)
        try:
            df = loaders.load(kind, path, keys=keys, today=TODAY)
        except DataContractError as err:  # the only acceptable failure
            assert isinstance(err, ValueError)
            msg = str(err)
            assert path.name in msg and "Fix:" in msg and err.problems
            OUTCOMES["error"] += 1
            return None
    OUTCOMES["loaded"] += 1
    _check_contract(df, kind, keys)
    return df


# ----------------------------------------------------------------------------- loader properties


@settings(max_examples=100, **SETTINGS)
@given(frames(), st.sampled_from([",", ";", "\t"]), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_csv_loads_or_raises_contract_error(frame, sep, encoding):
    EXAMPLES["csv"] += 1
    kind, keys, header, rows = frame
    path = _TMP / f"prop_{kind}.csv"
    df = pd.DataFrame(rows, columns=header) if rows else pd.DataFrame(columns=header)
    df.to_csv(path, sep=sep, index=False, encoding=encoding, errors="replace")
    _load_or_error(kind, path, keys)


_PARQUET_TYPES = ["text", "float", "int", "datetime", "date", "bool"]


@st.composite
def parquet_frames(draw):
    kind, keys, header, rows = draw(frames())
    header = list(dict.fromkeys(h.strip() or "x" for h in header))  # Parquet needs distinct names
    n = len(rows)
    data = {}
    contract = CONTRACTS[kind]
    for _j, name in enumerate(header):
        col = contract.column(name)
        natural = "string" if name in keys else (col.dtype if col else "float")
        if draw(st.integers(0, 2)) > 0:  # a column of the right type, mostly valid values
            rnd = draw(st.randoms(use_true_random=False))
            values = pd.Series([draw(text_cells if rnd.random() < 0.05 else _GOOD[natural]) for _ in range(n)], dtype="string")
            if natural == "datetime":
                values = pd.to_datetime(values, errors="coerce", format="ISO8601")
            elif natural != "string":
                values = pd.Series(pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan))
                if (
                    natural in ("int", "flag")
                    and n
                    and values.notna().all()
                    and (values == values.round()).all()
                    and values.abs().max() < 2**62
                ):
                    values = values.astype("int64")
            data[name] = values
            continue
        typ = draw(st.sampled_from(_PARQUET_TYPES))
        if typ == "text":
            data[name] = pd.Series([draw(st.one_of(st.none(), good_cells, text_cells)) for _ in range(n)], dtype="string")
        elif typ == "float":
            data[name] = pd.Series(
                draw(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=n, max_size=n)), dtype="float64"
            )
        elif typ == "int":
            data[name] = pd.Series(draw(st.lists(st.integers(-5, 2**62), min_size=n, max_size=n)), dtype="int64")
        elif typ == "datetime":
            data[name] = pd.Series(
                draw(
                    st.lists(
                        st.datetimes(min_value=dt.datetime(1800, 1, 1), max_value=dt.datetime(2200, 1, 1)), min_size=n, max_size=n
                    )
                ),
                dtype="datetime64[us]",
            )
        elif typ == "date":
            data[name] = pd.Series(draw(st.lists(st.one_of(st.none(), st.dates()), min_size=n, max_size=n)), dtype=object)
        else:
            data[name] = pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype="bool")
    return kind, keys, pd.DataFrame(data, index=range(n))


@settings(max_examples=60, **SETTINGS)
@given(parquet_frames())
def test_parquet_loads_or_raises_contract_error(frame):
    EXAMPLES["parquet"] += 1
    kind, keys, df = frame
    path = _TMP / f"prop_{kind}.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path)
    _load_or_error(kind, path, keys)


@settings(max_examples=40, **SETTINGS)
@given(st.sampled_from(KINDS), st.binary(max_size=300), st.sampled_from([".csv", ".parquet", ".xlsx", ".txt"]))
def test_arbitrary_bytes_never_crash(kind, content, suffix):
    EXAMPLES["bytes"] += 1
    path = _TMP / f"bytes_{kind}{suffix}"
    path.write_bytes(content)
    _load_or_error(kind, path, [])


# ----------------------------------------------------------------------------- artifact properties

cells_any = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["=1+1", "+A1", "-2", "@SUM(A1)", "\tx", "\rx", "'=safe", "ok"]),
)


@st.composite
def mixed_frames(draw):
    ncol = draw(st.integers(1, 4))
    n = draw(st.integers(0, 6))
    data = {}
    for j in range(ncol):
        typ = draw(st.sampled_from(["object", "string", "float", "int"]))
        name = draw(st.sampled_from([f"c{j}", f"=c{j}", f"-c{j}", f"c{j} "]))
        if typ == "object":
            data[name] = pd.Series([draw(cells_any) for _ in range(n)], dtype=object)
        elif typ == "string":
            data[name] = pd.Series(
                [draw(st.one_of(st.none(), st.text(max_size=5), st.sampled_from(["=x", "-1", "@"]))) for _ in range(n)],
                dtype="string",
            )
        elif typ == "float":
            data[name] = pd.Series(draw(st.lists(st.floats(), min_size=n, max_size=n)), dtype="float64")
        else:
            data[name] = pd.Series(draw(st.lists(st.integers(-100, 100), min_size=n, max_size=n)), dtype="int64")
    return pd.DataFrame(data, index=range(n))


@settings(max_examples=150, **SETTINGS)
@given(mixed_frames())
def test_neutralise_formulas(df):
    EXAMPLES["neutralise"] += 1
    out = neutralise_formulas(df)
    assert out.shape == df.shape
    assert all(not (isinstance(c, str) and c.startswith(_FORMULA_PREFIXES)) for c in out.columns)
    for j in range(df.shape[1]):
        before, after = df.iloc[:, j], out.iloc[:, j]
        for b, a in zip(before.tolist(), after.tolist()):
            if isinstance(b, str):
                assert not a.startswith(_FORMULA_PREFIXES)
                assert a == (("'" + b) if b.startswith(_FORMULA_PREFIXES) else b)
            elif b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA:
                assert a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a))
            else:
                assert a == b and type(a) is type(b)  # numbers untouched, even negative ones
        if not (before.dtype == object or pd.api.types.is_string_dtype(before.dtype)):
            assert after.dtype == before.dtype
    # idempotent on already-safe data
    again = neutralise_formulas(out)
    pd.testing.assert_frame_equal(again, out)


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.sampled_from(
        [
            pd.NA,
            pd.NaT,
            np.nan,
            np.float32("inf"),
            np.int64(3),
            np.bool_(True),
            np.datetime64("NaT"),
            np.datetime64("2024-01-02"),
            np.timedelta64(3, "D"),
            pd.Timestamp("2024-01-01", tz="UTC"),
            pd.Timedelta(days=1),
            dt.date(2024, 1, 1),
            complex(1, 2),
            b"bytes",
            Path("a/b"),
        ]
    ),
    st.lists(st.floats(allow_nan=True), max_size=3).map(np.array),
    st.lists(st.floats(allow_nan=True), max_size=3).map(lambda v: pd.Series(v, dtype="float64")),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(), st.floats(allow_nan=True)), children, max_size=3),
        st.frozensets(st.one_of(st.integers(), st.text(max_size=3)), max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=200, **SETTINGS)
@given(json_values)
def test_to_jsonable_is_json(obj):
    EXAMPLES["to_jsonable"] += 1
    out = to_jsonable(obj)
    text = json.dumps(out, allow_nan=False, sort_keys=True)
    assert json.loads(text) == out
    assert to_jsonable(out) == out  # plain JSON values pass through unchanged


def test_frame_to_jsonable():
    df = pd.DataFrame({"a": [1.5, np.nan], "d": pd.to_datetime(["2024-01-01", None]), "s": ["x", None]})
    assert to_jsonable(df) == [{"a": 1.5, "d": "2024-01-01T00:00:00", "s": "x"}, {"a": None, "d": None, "s": None}]


def test_zz_report_examples():
    """Prints how many hypothesis examples each property ran (this test runs last in the file)."""
    print(f"\nhypothesis examples run: {dict(EXAMPLES)} total {sum(EXAMPLES.values())}; loader outcomes {dict(OUTCOMES)}")
    if EXAMPLES:
        assert OUTCOMES["loaded"] > 0 and OUTCOMES["error"] > 0

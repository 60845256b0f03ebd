"""Unit tests of marksell.data.loaders and marksell.data.contracts: messages, mapping, formats, provenance, warnings."""

from __future__ import annotations

import hashlib
import warnings
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from marksell import data as loaders
from marksell.data.contracts import CONTRACTS, contract_table_markdown
from marksell.errors import DataContractError
from marksell.paths import PROJ_ROOT

TODAY = datetime(2025, 6, 30)
TX = "customer_id,order_date,revenue\nC1,2024-01-03,10.5\nC2,2024-01-04,20\nC1,2024-02-01,5\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _error(kind, path, **kw) -> DataContractError:
    with pytest.raises(DataContractError) as info:
        loaders.load(kind, path, today=TODAY, **kw)
    return info.value


def test_contract_error_is_value_error_with_problem_list(tmp_path):
    err = _error("transactions", _write(tmp_path / "t.csv", TX.replace("revenue", "amount")))
    assert isinstance(err, ValueError)
    assert err.kind == "transactions" and err.source.endswith("t.csv")
    assert [p["column"] for p in err.problems] == ["revenue"]
    msg = str(err)
    assert msg.startswith(f"{err.source}: 1 problem(s) with this transactions file:")
    assert (
        "column 'revenue': expected a required column; found no such column; the file has customer_id, order_date, amount" in msg
    )
    assert "Fix: add the column, or map yours with columns={'your name': 'revenue'}" in msg


SAMPLE_KINDS = [
    "transactions",
    "customers",
    "price_panel",
    "sales_history",
    "sales_plan",
    "opportunities",
    "marketing_funnel",
    "market_size",
]


def test_every_sample_kind_has_its_loader_and_meets_its_contract():
    for kind in SAMPLE_KINDS:
        contract = CONTRACTS[kind]
        kw = {"keys": ["region", "category"]} if kind == "sales_history" else {}
        df = getattr(loaders, f"load_{kind}")(**kw)
        assert df.attrs["provenance"]["kind"] == kind and len(df) > 0
        assert {c.name for c in contract.columns if c.required} <= set(df.columns)


@pytest.mark.parametrize(
    "make, fragments",
    [
        (lambda d: d / "nope.csv", ["nope.csv", "expected an existing file; found no such file", "leave it empty"]),
        (lambda d: d, ["expected a file; found a folder", "point the parameter"]),
        (lambda d: _write(d / "t.json", "{}"), ["t.json", "a '.json' file", "export the data as CSV"]),
    ],
)
def test_path_errors(tmp_path, make, fragments):
    msg = str(_error("transactions", make(tmp_path)))
    for f in fragments:
        assert f in msg


def test_every_problem_reported_at_once(tmp_path):
    text = "customer_id,order_date,revenue\n,2024-01-03,abc\nC2,03/01/2024,20\nC3,2099-01-01,1\n"
    err = _error("transactions", _write(tmp_path / "t.csv", text))
    by_col = {(p["column"], p["expected"]): p for p in err.problems}
    assert by_col[("revenue", "numbers")]["examples"] == "row 2: 'abc'"
    assert by_col[("order_date", "dates as YYYY-MM-DD")]["examples"] == "row 3: '03/01/2024'"
    assert by_col[("customer_id", "a value in every row")]["examples"] == "row 2"
    assert by_col[("order_date", "dates not in the future")]["examples"] == "row 4: '2099-01-01'"
    assert len(err.problems) == 4


def test_unparseable_cells_are_not_also_reported_missing(tmp_path):
    err = _error("market_size", _write(tmp_path / "m.csv", "month,market_size\n2024-01-01,x\n2024-02-01,\n"))
    found = {(p["expected"], p["found"]) for p in err.problems}
    assert found == {("numbers", "1 non-numeric value(s)"), ("a value in every row", "1 missing value(s)")}


def test_misspelt_column_suggests_name(tmp_path):
    err = _error(
        "marketing_funnel", _write(tmp_path / "f.csv", "month,channel,spend,leads,conversion\n2024-01-01,search,1,2,1\n")
    )
    assert "rename 'conversion' to 'conversions' or pass columns={'conversion': 'conversions'}" in str(err)


def test_column_mapping(tmp_path):
    path = _write(tmp_path / "t.csv", "Kunde;Datum;Umsatz;Extra\nC1;2024-01-03;10.5;x\nC2;2024-01-04;20;y\n")
    df = loaders.load_transactions(
        path, columns={"Kunde": "customer_id", "Datum": "order_date", "Umsatz": "revenue"}, today=TODAY
    )
    assert list(df.columns) == ["customer_id", "order_date", "revenue"]
    assert df["revenue"].tolist() == [10.5, 20.0]
    assert df["customer_id"].dtype == "string" and df["order_date"].dtype == "datetime64[ns]"


def test_column_mapping_errors(tmp_path):
    path = _write(tmp_path / "t.csv", TX)
    msg = str(_error("transactions", path, columns={"revenu": "revenue"}))
    assert "column 'revenu': expected column 'revenu' (named in `columns`); found no such column in the file" in msg
    assert "did you mean 'revenue'?" in msg
    msg = str(_error("transactions", path, columns=["revenue"]))
    assert "expected `columns` as a mapping" in msg and "found list" in msg
    msg = str(
        _error(
            "transactions",
            _write(tmp_path / "t2.csv", "customer_id,order_date,revenue,amount\nC1,2024-01-01,1,2\n"),
            columns={"amount": "revenue"},
        )
    )
    assert "column 'revenue': expected one column of this name" in msg


def test_names_differing_in_case_and_spaces_are_mapped(tmp_path):
    df = loaders.load_transactions(_write(tmp_path / "t.csv", "Customer ID,Order-Date,REVENUE\nC1,2024-01-03,1\n"), today=TODAY)
    assert list(df.columns) == ["customer_id", "order_date", "revenue"]


def test_sales_history_value_col_and_keys(tmp_path):
    path = _write(tmp_path / "s.csv", "date,Region,amount\n2024-01-01,N,1\n2024-02-01,N,2\n2024-01-01,S,3\n")
    df = loaders.load_sales_history(path, keys=["Region"], value_col="amount", today=TODAY)
    assert list(df.columns) == ["date", "Region", "sales"] and df["Region"].dtype == "string"
    msg = str(_error("sales_history", path, keys=["date"]))
    assert "expected key columns other than the contract's own columns" in msg


def test_integer_and_flag_columns(tmp_path):
    path = _write(
        tmp_path / "p.csv", "date,product_id,price,units,promo,store_id\n2024-01-01,P1,2.5,3,1,7.0\n2024-01-08,P1,2.5,0,0.0,7\n"
    )
    df = loaders.load_price_panel(path, today=TODAY)
    assert df["promo"].dtype == "int8" and df["promo"].tolist() == [1, 0]
    assert df["store_id"].tolist() == ["7.0", "7"]  # text is kept as written
    assert df["units"].dtype == "float64"


def test_parquet_reads_only_needed_columns(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    df = pd.DataFrame(
        {
            "customer_id": ["C1"],
            "order_date": pd.to_datetime(["2024-01-02"]),
            "revenue": [1.0],
            "huge_blob": ["x" * 100],
            "Channel": ["email"],
        }
    )
    path = tmp_path / "t.parquet"
    df.to_parquet(path)
    asked = []
    real = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda p, columns=None, **kw: asked.append(columns) or real(p, columns=columns, **kw))
    out = loaders.load_transactions(path, today=TODAY)
    assert sorted(c for cols in asked for c in cols) == ["Channel", "customer_id", "order_date", "revenue"]
    assert all(len(cols) == 1 for cols in asked)  # one column at a time: the fast path frees each once converted
    assert list(out.columns) == ["customer_id", "order_date", "revenue", "channel"]


def test_parquet_wrong_types(tmp_path):
    df = pd.DataFrame(
        {
            "month": ["2024-01-01", "2024-02-01"],
            "channel": ["a", "a"],
            "spend": ["10", "12 EUR"],
            "leads": [True, False],
            "conversions": [1.0, 0.0],
        }
    )
    path = tmp_path / "f.parquet"
    df.to_parquet(path)
    err = _error("marketing_funnel", path)
    assert [(p["column"], p["examples"]) for p in err.problems] == [("spend", "row 2: '12 EUR'")]
    df["spend"] = ["10", "12"]
    df.to_parquet(path)
    out = loaders.load_marketing_funnel(path, today=TODAY)
    assert out["leads"].tolist() == [1, 0] and out["month"].dtype == "datetime64[ns]"


def test_excel_sheet_selection(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"note": ["hello"]}).to_excel(xw, sheet_name="Readme", index=False)
        pd.DataFrame({"month": pd.to_datetime(["2024-01-01"]), "market_size": [5.0]}).to_excel(xw, sheet_name="Q1", index=False)
        pd.DataFrame({"month": pd.to_datetime(["2024-04-01", "2024-05-01"]), "market_size": [6.0, 7.0]}).to_excel(
            xw, sheet_name="Q2", index=False
        )
    assert loaders.load_market_size(path, today=TODAY).attrs["provenance"]["sheet"] == "Q1"  # first that fits
    df = loaders.load_market_size(path, sheet="Q2", today=TODAY)
    assert len(df) == 2 and df.attrs["provenance"]["sheet"] == "Q2"
    assert len(loaders.load_market_size(path, sheet=2, today=TODAY)) == 2
    msg = str(_error("market_size", path, sheet="Q3"))
    assert "expected a sheet named Q3; found the sheets ['Readme', 'Q1', 'Q2']" in msg
    msg = str(_error("market_size", path, sheet=5))
    assert "a sheet named 5" in msg
    msg = str(_error("market_size", path, sheet="Readme"))
    assert "column 'month': expected a required column; found no such column; the file has note" in msg


def test_provenance_inside_project(tmp_path):
    path = PROJ_ROOT / "tests" / "data" / "bad_inputs" / "transactions" / "valid.csv"
    df = loaders.load_transactions(path, today=TODAY)
    prov = df.attrs["provenance"]
    assert prov == {
        "kind": "transactions",
        "path": "tests/data/bad_inputs/transactions/valid.csv",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": 5,
    }


def test_provenance_home_path(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    (tmp_path / "data").mkdir()
    path = _write(tmp_path / "data" / "t.csv", TX)
    df = loaders.load_transactions(path, today=TODAY)
    assert df.attrs["provenance"]["path"] == "~/data/t.csv"
    assert df.attrs["provenance"]["rows"] == 3
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: Path(str(tmp_path)[:-1])))  # a prefix, not a parent
    assert not loaders.display_path(path).startswith("~")


def test_warning_negative_revenue(tmp_path):
    path = _write(tmp_path / "t.csv", TX + "C2,2024-02-03,-20\n")
    with pytest.warns(loaders.DataQualityWarning, match=r"t\.csv: 1 row\(s\) with negative 'revenue'"):
        df = loaders.load_transactions(path, today=TODAY)
    assert df["revenue"].min() == -20


def test_warning_date_gaps(tmp_path):
    text = "month,channel,spend,leads,conversions\n" + "".join(f"2024-{m:02d}-01,search,10,5,1\n" for m in (1, 2, 4, 5))
    with pytest.warns(loaders.DataQualityWarning, match=r"1 gap\(s\) in 'month' \(first: 2024-03-01\)"):
        loaders.load_marketing_funnel(_write(tmp_path / "f.csv", text), today=TODAY)
    # weekly panel whose first weeks are already irregular: the gap is still found
    text = "date,product_id,price,units\n" + "".join(
        f"{d},P1,1,1\n" for d in ("2024-01-01", "2024-01-15", "2024-01-22", "2024-02-05")
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaders.load_price_panel(_write(tmp_path / "p.csv", text), today=TODAY)
    assert [str(w.message).split(": ", 1)[1] for w in caught] == ["2 gap(s) in 'date' (first: 2024-01-08)"]


def test_no_warning_for_clean_file(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaders.load_transactions(_write(tmp_path / "t.csv", TX), today=TODAY)


def test_month_end_dates_moved_to_month_start(tmp_path):
    text = "month,market_size\n2024-01-31,5\n2024-02-29,6\n2024-03-01,7\n"
    with pytest.warns(loaders.DataQualityWarning, match="2 date\\(s\\) in 'month' were not the first of the month"):
        df = loaders.load_market_size(_write(tmp_path / "m.csv", text), today=TODAY)
    assert df["month"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01", "2024-03-01"]


def test_duplicate_key_message(tmp_path):
    text = "opportunity_id,name,size\nA,x,1\nB,y,2\nA,z,3\n"
    err = _error("opportunities", _write(tmp_path / "o.csv", text))
    assert str(err).endswith(
        "column 'opportunity_id': expected one row per opportunity_id; found 2 rows sharing a "
        "value with another row (e.g. row 2: 'A'; row 4: 'A'). Fix: remove or aggregate the duplicates"
    )


def test_sample_path_default(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKSELL_SAMPLE_DIR", str(tmp_path))
    _write(tmp_path / "transactions.csv", TX)
    assert len(loaders.load_transactions("", today=TODAY)) == 3


def test_contract_table_markdown():
    table = contract_table_markdown("price_panel")
    assert "| `price` | float | yes | > 0, no missing values | Average selling price in the period, > 0 |" in table
    assert set(CONTRACTS) == {
        "transactions",
        "customers",
        "price_panel",
        "sales_history",
        "sales_plan",
        "opportunities",
        "marketing_funnel",
        "market_size",
        "experiment",
        "experiment_summary",
        "mmm",
        "lift_tests",
    }

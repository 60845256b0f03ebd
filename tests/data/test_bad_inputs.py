"""Every loader against the bad-input corpus in ``tests/data/bad_inputs`` (see ``make_corpus.py``).

Each corpus file has an expected outcome in ``expectations.yaml``: it loads (with a row count),
loads with a :class:`DataQualityWarning`, or fails with a :class:`DataContractError` whose message
names the file, the column and the fix. Any other exception type is a bug.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from marksell import data as loaders
from marksell.errors import DataContractError

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
EXPECTATIONS = yaml.safe_load((CORPUS / "expectations.yaml").read_text(encoding="utf-8"))
TODAY = datetime(2025, 6, 30)  # fixed, so "future" does not move with the calendar
_TRIED: list[str] = []
_LOADED: dict[str, pd.DataFrame] = {}


def _load(rel: str, exp: dict):
    if rel in _LOADED:
        return _LOADED[rel]
    kwargs = dict(exp.get("kwargs") or {})
    return loaders.load(exp["kind"], CORPUS / rel, kwargs.pop("columns", None), today=TODAY, **kwargs)


def test_every_corpus_file_has_an_expectation():
    files = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file() and p.parent != CORPUS}
    assert files == set(EXPECTATIONS), (sorted(files - set(EXPECTATIONS)), sorted(set(EXPECTATIONS) - files))
    kinds = {exp["kind"] for exp in EXPECTATIONS.values()}
    assert kinds == set(loaders.CONTRACTS)
    assert len(files) > 300


@pytest.mark.parametrize("rel", sorted(EXPECTATIONS))
def test_corpus_file(rel):
    exp = EXPECTATIONS[rel]
    _TRIED.append(rel)
    if exp["outcome"] == "fails":
        with warnings.catch_warnings():
            warnings.simplefilter("error", loaders.DataQualityWarning)  # no warning before an error
            with pytest.raises(DataContractError) as info:
                _load(rel, exp)
        err = info.value
        assert isinstance(err, ValueError)
        message = str(err)
        assert Path(rel).name in message
        assert message.startswith("tests/data/bad_inputs/" + rel)  # shown relative to the project
        if exp.get("column"):
            assert exp["column"] in message
        for fragment in exp["fragments"]:
            assert fragment in message, f"{fragment!r} not in:\n{message}"
        assert "Fix:" in message
        return

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = _load(rel, exp)
    _LOADED[rel] = df
    quality = [str(w.message) for w in caught if issubclass(w.category, loaders.DataQualityWarning)]
    others = [str(w.message) for w in caught if not issubclass(w.category, loaders.DataQualityWarning)]
    assert others == []
    assert len(df) == exp["rows"]
    if exp["outcome"] == "warns":
        assert any(exp["warning"] in m for m in quality), quality
        assert all(Path(rel).name in m for m in quality)
    else:
        assert quality == []
    contract = loaders.CONTRACTS[exp["kind"]]
    for name in contract.required + list((exp.get("kwargs") or {}).get("keys", [])):
        assert name in df.columns
        assert not df[name].isna().any()
    if contract.date_column:
        assert df[contract.date_column].dtype == "datetime64[ns]"
        assert (df[contract.date_column] == df[contract.date_column].dt.normalize()).all()
    if exp.get("contains"):
        text = df.select_dtypes(include=["string", "object"]).astype("string")
        assert text.apply(lambda s: s.str.contains(exp["contains"], regex=False)).any().any()
    if exp.get("sheet"):
        assert df.attrs["provenance"]["sheet"] == exp["sheet"]
    prov = df.attrs["provenance"]
    assert prov["path"] == "tests/data/bad_inputs/" + rel and prov["rows"] == exp["rows"] and len(prov["sha256"]) == 64


def test_corpus_same_rows_whatever_the_format():
    """Every readable variant of the valid table gives the same frame as the plain CSV."""
    for kind in loaders.CONTRACTS:
        ref = _load(f"{kind}/valid.csv", EXPECTATIONS[f"{kind}/valid.csv"])
        for variant in (
            "semicolon.csv",
            "tab.tsv",
            "pipe.txt",
            "excel_sep_hint.csv",
            "utf8_bom.csv",
            "utf16_tab.txt",
            "crlf.csv",
            "trailing_delimiter.csv",
            "padded_cells.csv",
            "typed.parquet",
            "all_text.parquet",
            "several_sheets.xlsx",
        ):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", loaders.DataQualityWarning)
                got = _load(f"{kind}/{variant}", EXPECTATIONS[f"{kind}/{variant}"])
            got = got[ref.columns]
            for col in ref.columns:
                left, right = ref[col], got[col]
                if pd.api.types.is_numeric_dtype(left.dtype):
                    assert (left.astype(float) - right.astype(float)).abs().max() < 1e-9, (kind, variant, col)
                else:
                    assert left.astype("string").tolist() == right.astype("string").tolist(), (kind, variant, col)


def test_zz_report_count():
    """Prints how many corpus files were tried (run last by name)."""
    outcomes = pd.Series([EXPECTATIONS[r]["outcome"] for r in _TRIED]).value_counts().to_dict()
    print(f"\nbad-input corpus: {len(_TRIED)} files tried of {len(EXPECTATIONS)}; outcomes {outcomes}")
    assert len(_TRIED) in (0, len(EXPECTATIONS))

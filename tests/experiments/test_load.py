"""The experiment loader: unit rows with the user's names (CSV, Parquet, Excel) or a summary table."""

from __future__ import annotations

import pandas as pd
import pytest

from marksell.data import load_experiment
from marksell.errors import DataContractError


def _units() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Visitor": ["a", "b", "c", "d"],
            "Arm": ["ctl", "new", "ctl", "new"],
            "Bought": [0, 1, 1, 0],
            "Spend": [0.0, 12.5, 3.0, 0.0],
            "Device": ["ios", "web", "web", "ios"],
            "Seen": ["2025-01-02", "2025-01-02", "2025-01-03", "2025-01-04"],
        }
    )


@pytest.mark.parametrize("suffix", ["csv", "parquet", "xlsx"])
def test_unit_rows_with_the_users_names(tmp_path, suffix):
    path = tmp_path / f"test.{suffix}"
    frame = _units()
    {
        "csv": lambda p: frame.to_csv(p, index=False),
        "parquet": lambda p: frame.to_parquet(p, index=False),
        "xlsx": lambda p: frame.to_excel(p, index=False),
    }[suffix](path)
    got = load_experiment(path, columns={"Visitor": "unit_id", "Arm": "variant", "Seen": "timestamp"})
    assert {"unit_id", "variant", "timestamp", "Bought", "Spend", "Device"} <= set(got.columns)
    assert pd.api.types.is_numeric_dtype(got["Spend"]) and pd.api.types.is_datetime64_any_dtype(got["timestamp"])
    assert got["Device"].tolist() == ["ios", "web", "web", "ios"]


def test_summary_table(tmp_path):
    path = tmp_path / "agg.csv"
    pd.DataFrame(
        {"variant": ["a", "b"], "metric": ["converted"] * 2, "n": [1000, 1010], "sum": [100, 121], "sum_sq": [100, 121]}
    ).to_csv(path, index=False)
    got = load_experiment(path)
    assert list(got["n"]) == [1000, 1010] and got.attrs["provenance"]["kind"] == "experiment_summary"


def test_missing_variant_names_the_column_and_the_fix(tmp_path):
    path = tmp_path / "bad.csv"
    _units().drop(columns="Arm").to_csv(path, index=False)
    with pytest.raises(DataContractError) as err:
        load_experiment(path, columns={"Visitor": "unit_id"})
    assert "bad.csv" in str(err.value) and "'variant'" in str(err.value) and "Fix:" in str(err.value)


def test_sample_file_loads_with_every_experiment():
    got = load_experiment("")
    assert got["experiment"].nunique() == 4 and got.attrs["provenance"]["rows"] == len(got)

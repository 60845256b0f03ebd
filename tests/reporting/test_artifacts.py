"""Artifact writer: no-op without a folder, CSV neutralised, Parquet round-trips with types."""

import pandas as pd
import pytest

from marksell.reporting.artifacts import Artifacts


def test_no_folder_means_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    art = Artifacts("")
    assert not art.enabled and art.save_csv(pd.DataFrame({"a": [1]}), "x.csv") is None
    assert art.save_table(pd.DataFrame({"a": [1]}), "x", ("csv", "parquet")) == []
    assert list(tmp_path.iterdir()) == []


def test_tables_in_csv_and_parquet(tmp_path):
    df = pd.DataFrame({"id": ["=cmd", "b"], "value": [-1.5, 2.0], "day": pd.to_datetime(["2025-01-01", "2025-01-02"])})
    art = Artifacts(tmp_path)
    paths = art.save_table(df, "table", ("csv", "parquet"))
    assert [p.name for p in paths] == ["table.csv", "table.parquet"]
    assert (tmp_path / "table.csv").read_text().splitlines()[1].startswith("'=cmd,-1.5")
    back = pd.read_parquet(tmp_path / "table.parquet")
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert str(back["day"].dtype).startswith("datetime64")
    with pytest.raises(ValueError, match="unknown artifact format"):
        art.save_table(df, "t", ("xlsx",))

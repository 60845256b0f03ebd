"""``marksell init DIR``: the starter folder for wheel users (notebook copies, batch file, README)."""

import pytest
import yaml

from marksell.errors import ParameterError
from marksell.paths import NOTEBOOKS_DIR
from marksell.reporting import batch, cli


def test_init_writes_notebooks_a_batch_file_and_a_readme(tmp_path, monkeypatch, capsys):
    assert cli.main(["init", str(tmp_path / "starter")]) == 0
    starter = tmp_path / "starter"
    copies = sorted(p.name for p in (starter / "notebooks").glob("*.ipynb"))
    assert copies == sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9]*.ipynb")) and len(copies) >= 8
    assert (starter / "data").is_dir() and "marksell report --config batch.yaml" in (starter / "README.md").read_text()
    config = yaml.safe_load((starter / "batch.yaml").read_text())
    assert [r["notebook"] for r in config["runs"]] == [f"notebooks/{c}" for c in copies]
    seg = next(r for r in config["runs"] if "segmentation" in r["notebook"])
    assert "transactions_path" in seg["parameters"] and set(seg["parameters"].values()) == {""}
    # the batch file is valid as written: every run resolves to the copied notebook, from the starter folder
    monkeypatch.chdir(starter)
    specs = batch.specs_from_config("batch.yaml", None)
    assert len(specs) == len(copies) and all(s.notebook.startswith("notebooks/") for s in specs)


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert cli.main(["init", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    with pytest.raises(ParameterError, match="nothing is overwritten"):
        from marksell.reporting.starter import write_starter

        write_starter(tmp_path)

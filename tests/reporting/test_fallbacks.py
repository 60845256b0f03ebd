"""run.json reports the model fits that fell back (summary.json's ``fallbacks``); more than a small share
marks the run ``warning`` (exit code still 0: the report exists, with the warning in its header)."""

import json

import nbformat
import pytest

from marksell.reporting import runner

BODY = """from marksell.reporting.artifacts import Artifacts
art = Artifacts(artifacts_dir)
art.save_json({"fallbacks": {"count": failed, "fits": 20, "items": [f"s{i}: ets (ValueError: x)"
                                                                  for i in range(failed)]}}, "summary.json")"""


def _toy(folder):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    params = nbformat.v4.new_code_cell('failed: int = 0  # fits that fell back\nartifacts_dir: str = ""  # set by the runner')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Toy"), params, nbformat.v4.new_code_cell(BODY)]
    path = folder / "toy.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_fallbacks_are_read_from_the_summary(tmp_path):
    assert runner.read_fallbacks(tmp_path) == {"count": 0, "fits": 0, "share": 0.0, "items": []}
    (tmp_path / "summary.json").write_text(json.dumps({"fallbacks": {"count": 3, "fits": 12, "items": ["a"]}}))
    assert runner.read_fallbacks(tmp_path) == {"count": 3, "fits": 12, "share": 0.25, "items": ["a"]}
    (tmp_path / "summary.json").write_text("[1, 2]")
    assert runner.read_fallbacks(tmp_path)["count"] == 0


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.parametrize("failed, status", [(0, "ok"), (2, "ok"), (3, "warning")])
def test_run_status_warns_above_a_small_share_of_fallbacks(tmp_path, failed, status):
    res = runner.run(
        runner.RunSpec(notebook=str(_toy(tmp_path)), parameters={"failed": failed}, reports_dir=str(tmp_path / "reports"))
    )
    record = json.loads((res.folder / "run.json").read_text())
    assert res.status == record["status"] == status
    assert record["fallbacks"]["count"] == failed and record["fallbacks"]["fits"] == 20
    assert len(record["fallbacks"]["items"]) == failed
    if status == "warning":
        assert record["warning"].startswith("3 of 20 model fits fell back") and record["error"] is None
        assert "3 of 20 model fits fell back" in (res.folder / "report.html").read_text()

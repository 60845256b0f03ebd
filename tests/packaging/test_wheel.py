"""The wheel is a real package: built from the sdist, installed in a clean venv outside the clone, it lists
its notebooks, writes a starter folder and runs a notebook on its own sample data into ./reports."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _uv() -> str:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not uv:
        pytest.skip("uv is not installed (make env installs it)")
    return uv


def _run(cmd, cwd, env=None, timeout=900):
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{cmd}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    uv = _uv()
    tmp = tmp_path_factory.mktemp("wheel")
    # sdist first, then the wheel from the sdist: both must carry the notebooks and the sample company
    _run([uv, "build", "--quiet", "--out-dir", tmp / "dist", ROOT], cwd=tmp)
    wheel = next((tmp / "dist").glob("marksell-*.whl"))
    venv = tmp / "venv"
    _run([uv, "venv", "--quiet", "--python", sys.executable, venv], cwd=tmp)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # the locked versions as constraints: the same packages as the clone's environment, from uv's cache
    _run([uv, "pip", "install", "--quiet", "--python", python, wheel, "-c", ROOT / "requirements.lock"], cwd=tmp)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "MARKSELL_SAMPLE_DIR", "MARKSELL_REPORTS_DIR"}
    }
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    return {"wheel": wheel, "python": python, "marksell": python.parent / "marksell", "env": env, "tmp": tmp}


def test_wheel_ships_notebooks_sample_data_licence_and_types(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    notebooks = sorted(n for n in names if n.startswith("marksell/notebooks/"))
    assert [Path(n).name for n in notebooks] == sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    sample = sorted(Path(n).name for n in names if n.startswith("marksell/sample_data/"))
    assert sample == sorted(p.name for p in (ROOT / "data" / "sample").iterdir())
    assert "marksell/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_installed_package_resolves_its_own_files(installed):
    out = _run(
        [
            installed["python"],
            "-c",
            "import json; from marksell import paths; print(json.dumps("
            "[str(paths.NOTEBOOKS_DIR), str(paths.sample_path('transactions')), str(paths.reports_dir())]))",
        ],
        cwd=installed["tmp"],
        env=installed["env"],
    )
    notebooks, sample, reports = map(Path, json.loads(out))
    site = Path(installed["python"]).parent.parent
    assert site in notebooks.parents and site in sample.parents and ROOT not in notebooks.parents
    assert sample.is_file() and len(list(notebooks.glob("*.ipynb"))) == len(list((ROOT / "notebooks").glob("[0-9]*.ipynb")))
    assert reports == Path(installed["tmp"]) / "reports"


def test_init_then_run_a_notebook_from_the_wheel(installed):
    work = installed["tmp"] / "work"
    work.mkdir()
    env = installed["env"]
    _run([installed["marksell"], "init", "starter"], cwd=work, env=env)
    starter = work / "starter"
    assert {p.name for p in starter.iterdir()} == {"notebooks", "data", "batch.yaml", "README.md"}
    assert len(list((starter / "notebooks").glob("*.ipynb"))) == len(list((ROOT / "notebooks").glob("[0-9]*.ipynb")))
    _run([installed["marksell"], "run", "notebooks/05_kpi_scorecard.ipynb", "--label", "wheel"], cwd=starter, env=env)
    runs = list((starter / "reports").glob("*/kpi_scorecard-wheel/run.json"))
    assert len(runs) == 1, list((starter / "reports").rglob("*"))
    record = json.loads(runs[0].read_text())
    assert record["status"] == "ok", record.get("error")
    assert (runs[0].parent / "report.html").exists() and (runs[0].parent / "kpis.csv").exists()
    assert not (ROOT / "reports" / runs[0].parent.parent.name / "kpi_scorecard-wheel").exists()

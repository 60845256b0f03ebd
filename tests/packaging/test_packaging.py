"""One source of truth for dependencies: pyproject.toml; environment.yml and requirements.lock follow it,
every third-party import of the package is declared and every runtime dependency is used.

Also the checks a user on another system relies on without us seeing them: no POSIX-only module on an import
path, TCP kernels where IPC is missing, safe unpacking on Python before 3.11.4, a lock that works across
processes.
"""

import ast
import io
import re
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

#: PyPI name -> conda-forge name where they differ (matplotlib-base: matplotlib without a GUI toolkit).
CONDA_NAMES = {"matplotlib": "matplotlib-base", "duckdb": "python-duckdb"}
#: Installed from PyPI inside the conda environment: conda-forge lacks or lags them (pymcdm: 1.1 there).
PIP_IN_CONDA = {"pymcdm"}
#: Import name -> distribution name, where they differ.
IMPORT_NAMES = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "dateutil": "python-dateutil",
    "IPython": "ipython",
    "matplotlib_inline": "matplotlib-inline",
}


def _requirements(extras=True) -> list[Requirement]:
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    if extras:
        reqs += [Requirement(r) for extra in PROJECT["optional-dependencies"].values() for r in extra]
    return [r for r in reqs if r.name != "marksell"]


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(line: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", line.strip())
    return _canon(m.group(1)), m.group(2).replace(" ", "")


def test_environment_yml_maps_every_dependency_with_its_bounds():
    want = {_canon(r.name): str(r.specifier) for r in _requirements()}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str))
    assert conda.pop("python") == PROJECT["requires-python"]
    assert conda.pop("pip") == ""
    pip_part = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_part
    pip = dict(_split(d) for d in pip_part if d != "-e .")
    expected_conda = {CONDA_NAMES.get(n, n): s for n, s in want.items() if n not in PIP_IN_CONDA}
    expected_pip = {n: s for n, s in want.items() if n in PIP_IN_CONDA}
    assert {n: str(Requirement(n + s).specifier) for n, s in conda.items()} == expected_conda
    assert {n: str(Requirement(n + s).specifier) for n, s in pip.items()} == expected_pip


def test_lock_pins_every_dependency_within_its_bounds():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            pins.setdefault(_canon(m.group(1)), []).append(Version(m.group(2)))
    for req in _requirements():
        versions = pins.get(_canon(req.name))
        assert versions, f"{req.name} is not in requirements.lock: run make update-lock"
        for v in versions:
            assert req.specifier.contains(v, prereleases=True), f"{req.name}=={v} breaks {req}: make update-lock"


def _imported_modules(folder: Path) -> set[str]:
    out = set()
    for f in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.add(node.module.split(".")[0])
    return out


def test_every_third_party_import_of_the_package_is_declared():
    declared = {_canon(r.name) for r in _requirements()}
    third_party = {
        m
        for m in _imported_modules(ROOT / "src" / "marksell")
        if m not in sys.stdlib_module_names and m not in {"marksell", "__future__"}
    }
    undeclared = {m for m in third_party if _canon(IMPORT_NAMES.get(m, m)) not in declared}
    assert not undeclared, f"imported but not in pyproject.toml: {sorted(undeclared)}"
    runtime = {_canon(Requirement(r).name) for r in PROJECT["dependencies"]}
    unused = runtime - {_canon(IMPORT_NAMES.get(m, m)) for m in third_party}
    # used without an import: ipykernel is the notebooks' kernel, matplotlib-inline their figure backend
    # (MPLBACKEND)
    assert unused == {"ipykernel", "matplotlib-inline"}, f"declared, never used: {sorted(unused)}"


def test_no_posix_only_module_on_an_import_path():
    assert not _imported_modules(ROOT / "src" / "marksell") & {"fcntl", "pwd", "grp", "termios", "resource"}


def test_kernels_use_tcp_on_loopback_where_ipc_is_missing(monkeypatch):
    from marksell.reporting import kernel

    with kernel.kernel_config() as (cfg, _):
        assert cfg.KernelManager.transport == "ipc"
    monkeypatch.setattr(kernel, "ipc_available", lambda: False)  # what os.name == "nt" gives
    with kernel.kernel_config() as (cfg, _):
        assert cfg.KernelManager.transport == "tcp" and cfg.KernelManager.ip == "127.0.0.1"


def test_ipc_is_only_claimed_on_posix(monkeypatch):
    from marksell.reporting import kernel

    monkeypatch.setattr(kernel.os, "name", "nt")
    assert kernel.ipc_available() is False


def _tar(members: dict) -> tarfile.TarFile:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, kind in members.items():
            info = tarfile.TarInfo(name)
            if kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = 2
                tar.addfile(info, io.BytesIO(b"ok"))
    buf.seek(0)
    return tarfile.open(fileobj=buf, mode="r:gz")


@pytest.mark.parametrize("has_filter", [True, False], ids=["python-3.11.4+", "before-3.11.4"])
def test_worker_reports_unpack_only_inside_the_folder(tmp_path, monkeypatch, has_filter):
    from marksell.reporting.batch import extract_report

    if not has_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tar extraction filters (before 3.11.4)")
    extract_report(_tar({"run/report.html": "file"}), tmp_path / "ok")
    assert (tmp_path / "ok" / "run" / "report.html").read_bytes() == b"ok"
    for bad in ({"../escape.txt": "file"}, {"run/link": "link"}):
        with pytest.raises((ValueError, tarfile.TarError)):
            extract_report(_tar(bad), tmp_path / "bad")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "bad" / "run" / "link").exists()


def test_reports_lock_is_exclusive_across_processes(tmp_path):
    import multiprocessing as mp

    from marksell.reporting.index import reports_lock

    with reports_lock(tmp_path):
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        p = ctx.Process(target=_try_lock, args=(str(tmp_path), q))
        p.start()
        p.join(60)
    assert q.get(timeout=5) == "busy"
    with reports_lock(tmp_path):  # released: taken again at once
        pass


def _try_lock(folder, q):
    from filelock import FileLock, Timeout

    try:
        with FileLock(Path(folder) / ".lock", timeout=0.2):
            q.put("free")
    except Timeout:
        q.put("busy")


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_lock_file_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path, kind):
    from marksell.reporting.index import reports_lock

    lock = tmp_path / ".lock"
    if kind == "symlink":
        (tmp_path / "elsewhere").write_text("keep")
        lock.symlink_to(tmp_path / "elsewhere")
    else:
        import os

        os.mkfifo(lock)
    with pytest.raises(OSError, match="remove it"), reports_lock(tmp_path):
        pass
    assert kind == "fifo" or (tmp_path / "elsewhere").read_text() == "keep"


def test_makefile_has_the_documented_targets():
    text = (ROOT / "Makefile").read_text()
    for target in (
        "help",
        "env",
        "update-lock",
        "report",
        "test",
        "test-lowest",
        "test-newest-python",
        "lab",
        "refresh-notebooks",
        "bench",
    ):
        assert re.search(rf"^{target}:.*## ", text, re.M), target
    assert "ipykernel install" not in text, "notebooks declare python3: the environment's own kernel"


def test_notebooks_declare_the_kernel_jupyter_starts_from_the_environment():
    import json

    for nb in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        spec = json.loads(nb.read_text(encoding="utf-8"))["metadata"]["kernelspec"]
        assert spec["name"] == "python3", nb.name


def test_wheel_metadata():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (ROOT / "src" / "marksell" / "py.typed").exists()
    classifiers = PROJECT["classifiers"]
    python_versions = {c.rsplit(" ", 1)[1] for c in classifiers if re.match(r".*Python :: 3\.\d+$", c)}
    assert python_versions == {"3.11", "3.12", "3.13"}
    assert PROJECT["requires-python"] == ">=3.11"


def test_readme_documents_the_current_contracts():
    from marksell.data.contracts import contracts_markdown

    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- contracts:start -->\n", 1)[1].split("<!-- contracts:end -->", 1)[0]
    assert block == contracts_markdown(), "run: python -c 'from marksell.data.contracts import ...' to refresh README"
    assert text.index("make report") < 400 and text.index("make test") < 400


def test_theta_internals_exist_on_every_statsmodels_the_bounds_allow():
    """The Theta model drives statsmodels' ThetaModel through private members (a faster, global SES
    fit); pyproject's upper bound on statsmodels keeps users on versions where these exist, and this
    test (run on the newest and the lowest versions) fails the day one of them moves."""
    import inspect

    import statsmodels
    from statsmodels.tsa.forecasting.theta import ThetaModel, ThetaModelResults

    bound = next(r for r in _requirements() if r.name == "statsmodels").specifier
    assert not bound.contains("0.16.0"), "raise the bound only after checking the members below"
    assert bound.contains(statsmodels.__version__)
    model = ThetaModel([float(x % 4 + 10 + x) for x in range(24)], period=4)
    for member in ("_deseasonalize", "_use_test", "_test_seasonality", "_deseasonalize_data", "_has_seasonality"):
        assert hasattr(model, member), member
    assert list(inspect.signature(ThetaModelResults.__init__).parameters)[1:] == [
        "b0",
        "alpha",
        "sigma2",
        "one_step",
        "seasonal",
        "use_mle",
        "model",
    ]

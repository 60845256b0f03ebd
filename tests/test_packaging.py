"""environment.yml (conda) and pyproject.toml must list the same dependencies and bounds."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)$", req.strip())
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    want = dict(_split(r) for r in reqs)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    got = dict(_split(d) for d in conda if not d.startswith(("python", "pip")))
    assert got == want
    pip_part = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_part


def test_makefile_has_the_documented_targets():
    text = (ROOT / "Makefile").read_text()
    for target in ("help", "report", "test", "lab", "refresh-notebooks", "bench"):
        assert re.search(rf"^{target}:.*## ", text, re.M), target


def test_readme_documents_the_current_contracts():
    from marksell.data.contracts import contracts_markdown

    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- contracts:start -->\n", 1)[1].split("<!-- contracts:end -->", 1)[0]
    assert block == contracts_markdown(), "run: python -c 'from marksell.data.contracts import ...' to refresh README"
    assert text.index("make report") < 400 and text.index("make test") < 400

"""Static checks of the committed notebooks: parameters, story, stored outputs (nbval runs them)."""

from __future__ import annotations

import re

import nbformat
import papermill as pm
import pytest

from marksell.paths import NOTEBOOKS_DIR
from marksell.reporting import parameters as notebook_params
from marksell.reporting import runner

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))


def test_every_analysis_has_its_notebook():
    names = set(runner.catalogue())
    assert {
        "data_audit",
        "customer_segmentation",
        "opportunity_prioritisation",
        "pricing_elasticity",
        "sales_forecasting",
        "kpi_scorecard",
        "campaign_experiments",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_are_declared_with_types_and_help(path):
    params = notebook_params.read_parameters(path)
    names = [p.name for p in params]
    assert names[-1] == "artifacts_dir"
    assert all(p.help for p in params), [p.name for p in params if not p.help]
    # papermill reads the same declarations (its parser drops lines it cannot read)
    assert sorted(pm.inspect_notebook(str(path))) == sorted(names)
    if any(n.endswith("_path") for n in names):
        assert "columns" in names  # users can map their column names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_tells_its_story_and_stores_its_default_run(path):
    nb = nbformat.read(str(path), as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "what this answers" in first.source.lower()
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert len(markdown) >= len(code) / 2, "interpret results in words"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert outputs, "commit the notebook with the outputs of its default run (make refresh-notebooks)"
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = nbformat.writes(nb)
    assert not re.search(r"/(root|home/\w+|work|tmp)/[\w/.-]+", text.replace("\\n", "\n")), "no absolute paths in stored outputs"


#: What a notebook may import: marksell for every computation, and display/plumbing libraries.
NOTEBOOK_IMPORTS = {"json", "warnings", "matplotlib.pyplot", "pandas", "IPython.display"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_import_only_marksell_for_computation(path):
    """One direction of imports: notebooks -> marksell -> libraries (no scikit-learn, statsmodels,
    scipy or numpy in a notebook: a computation there would be untested)."""
    nb = nbformat.read(str(path), as_version=4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            found |= {
                m.group(1) or m.group(2)
                for m in re.finditer(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", cell.source, re.M)
            }
    bad = sorted(m for m in found if m not in NOTEBOOK_IMPORTS and m.split(".")[0] != "marksell")
    assert not bad, f"move the computation behind {bad} into a marksell helper"

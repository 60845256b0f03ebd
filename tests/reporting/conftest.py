"""Shared fixtures of the report-engine tests."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest


@pytest.fixture
def toy_notebook(tmp_path):
    """A writer of small parameterised notebooks: a title, a ``parameters`` cell, one code cell, optional tail."""

    def write(
        params: str, body: str, *, title: str = "# Toy", tail: str = "", stem: str = "toy", folder: Path | None = None
    ) -> Path:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [nbformat.v4.new_markdown_cell(title), cell, nbformat.v4.new_code_cell(body)]
        if tail:
            nb.cells.append(nbformat.v4.new_markdown_cell(tail))
        path = (folder or tmp_path) / f"{stem}.ipynb"
        nbformat.write(nb, str(path))
        return path

    return write

"""Safety end to end: text from data is escaped in the HTML report and neutralised in CSV artifacts."""

from __future__ import annotations

import pandas as pd
import pytest

from marksell.paths import sample_path
from marksell.reporting import runner
from marksell.reporting.display import escape_text

EVIL_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'


def test_escape_text_keeps_markdown_and_escapes_html():
    assert escape_text("**Top:** <b>A & B</b>") == "**Top:** &lt;b&gt;A &amp; B&lt;/b&gt;"


@pytest.mark.slow
def test_names_from_data_cannot_inject_html_or_formulas(tmp_path):
    opp = pd.read_csv(sample_path("opportunities"))
    opp.loc[:, "name"] = opp["name"].astype(object)
    opp.loc[0, "name"] = EVIL_NAME
    opp.loc[1, "name"] = FORMULA_NAME
    src = tmp_path / "opps.csv"
    opp.to_csv(src, index=False)
    res = runner.run(
        runner.RunSpec(
            notebook="opportunity_prioritisation",
            reports_dir=str(tmp_path / "reports"),
            parameters={"opportunities_path": str(src), "n_draws": 300},
        )
    )
    assert res.status == "ok", res.error
    html = (res.folder / "report.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html
    ranking = pd.read_csv(res.folder / "ranking.csv", dtype=str, keep_default_na=False)
    names = set(ranking["name"])
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    assert EVIL_NAME in names  # the CSV keeps the text as it was: escaping is for the HTML only

"""results.xlsx holds every table artifact safely; report.pdf prints the report where Chromium exists."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from marksell.reporting.artifacts import neutralise_formulas
from marksell.reporting.pdf import PdfError, find_browser, render_pdf
from marksell.reporting.workbook import sheet_name, write_workbook


def test_workbook_has_one_sheet_per_csv_with_numbers_as_numbers(tmp_path):
    neutralise_formulas(
        pd.DataFrame({"name": ['=HYPERLINK("http://x","y")', "plain"], "revenue": [1234.5, -2.0], "n": [3, 4]})
    ).to_csv(tmp_path / "ranking.csv", index=False)
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "weights.csv", index=False)
    path = write_workbook(tmp_path)
    book = load_workbook(path)
    assert book.sheetnames == ["ranking", "weights"]
    sheet = book["ranking"]
    assert [c.value for c in sheet[1]] == ["name", "revenue", "n"]
    assert sheet[1][0].font.bold and sheet.freeze_panes == "A2"
    assert sheet["A2"].value == '\'=HYPERLINK("http://x","y")' and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 1234.5 and sheet["B3"].value == -2.0 and sheet["C3"].value == 4
    assert not list(tmp_path.glob(".*.tmp"))


def test_no_csv_no_workbook(tmp_path):
    (tmp_path / "summary.json").write_text("{}")
    assert write_workbook(tmp_path) is None and not (tmp_path / "results.xlsx").exists()


def test_sheet_names_valid_and_unique():
    taken: set[str] = set()
    long = "a" * 40
    first, second = sheet_name(long, taken), sheet_name(long, taken)
    assert len(first) == 31 and len(second) == 31 and first != second
    assert sheet_name("x[1]:y", taken) == "x_1__y"


def test_pdf_without_a_report_is_a_clear_error(tmp_path):
    with pytest.raises(PdfError, match="no report.html here"):
        render_pdf(tmp_path)


def test_pdf_without_a_browser_says_how_to_install(tmp_path, monkeypatch):
    (tmp_path / "report.html").write_text("<html><body>x</body></html>")
    monkeypatch.setenv("MARKSELL_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(PdfError, match="apt-get install chromium"):
        render_pdf(tmp_path)


@pytest.mark.slow
def test_pdf_printed_by_chromium(tmp_path):
    if find_browser() is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium); PDF output not tested here")
    (tmp_path / "report.html").write_text(
        "<html><head><title>t</title></head><body><h1>Answer first</h1><p>The summary.</p></body></html>"
    )
    out = render_pdf(tmp_path)
    assert out.read_bytes()[:5] == b"%PDF-" and out.stat().st_size > 1000


def test_cli_pdf_of_a_folder_without_report_exits_2(tmp_path, capsys):
    from marksell.reporting.cli import main

    assert main(["pdf", str(tmp_path)]) == 2
    assert "no report.html here" in capsys.readouterr().err

"""``results.xlsx``: every table artifact of a run in one workbook, for business users who live in Excel.

One sheet per CSV artifact (in name order), bold frozen headers, column widths that fit the content, numbers
kept as numbers. Text cells are written as text: a cell that would start a formula was already neutralised in
the CSV (a leading ``'``) and is stored as a string, never as a formula.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

WORKBOOK = "results.xlsx"
_MAX_SHEET = 31  # Excel's limit on sheet names
_MAX_ROWS = 1_048_575  # Excel's row limit, less the header


def sheet_name(stem: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name for an artifact called ``stem``."""
    base = re.sub(r"[\[\]:*?/\\]", "_", stem)[:_MAX_SHEET] or "sheet"
    name, i = base, 2
    while name.lower() in taken:
        suffix = f"~{i}"
        name, i = base[: _MAX_SHEET - len(suffix)] + suffix, i + 1
    taken.add(name.lower())
    return name


def write_workbook(folder: str | Path, out_name: str = WORKBOOK) -> Path | None:
    """Write ``folder/results.xlsx`` from the folder's CSV artifacts; None when there are none.

    The workbook is written to a temporary name and renamed, so a crash never leaves half a file.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    folder = Path(folder)
    csvs = sorted(p for p in folder.glob("*.csv") if p.is_file())
    if not csvs:
        return None
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for csv in csvs:
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        sheet = book.create_sheet(sheet_name(csv.stem, taken))
        sheet.append([str(c) for c in frame.columns])
        for row in frame.head(_MAX_ROWS).itertuples(index=False, name=None):
            sheet.append([_cell(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for i, col in enumerate(frame.columns, start=1):
            longest = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
            sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, longest + 2))
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
    tmp = folder / f".{out_name}.tmp"
    book.save(tmp)
    final = folder / out_name
    tmp.replace(final)
    return final


def _cell(text: str):
    """A CSV cell as an Excel value: a number where the text is one, else the text itself."""
    if text == "":
        return None
    if re.fullmatch(r"-?\d+", text) and len(text.lstrip("-")) <= 15:
        return int(text)
    if re.fullmatch(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?", text):
        value = float(text)
        return value if value == value and abs(value) != float("inf") else text
    return text

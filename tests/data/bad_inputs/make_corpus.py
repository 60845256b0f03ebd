"""Write the bad-input corpus (and its ``expectations.yaml``) for every loader, deterministically.

Run from the repository root: ``python tests/data/bad_inputs/make_corpus.py``. Every file is tiny; the
expected outcome of each file is declared next to the code that writes it, and
``tests/data/test_bad_inputs.py`` checks the loaders against it. Re-running gives byte-identical files
(Excel zip entries carry a fixed timestamp; Parquet files carry no pandas metadata).
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

HERE = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------- the valid base tables
# Each kind: header, rows (all text), and the roles of its columns used to derive the bad variants.

WEEKS = ["2024-01-01", "2024-01-08", "2024-01-15"]
MONTHS = ["2024-01-01", "2024-02-01", "2024-03-01"]

KINDS = {
    "transactions": dict(
        header=["customer_id", "order_date", "revenue", "order_id", "quantity", "channel", "region"],
        rows=[
            ["C001", "2024-01-03", "120.50", "O1", "2", "search", "North"],
            ["C002", "2024-01-04", "35.00", "O2", "1", "email", "Zürich"],
            ["C001", "2024-02-11", "80.25", "O3", "1", "search", "North"],
            ["C003", "2024-02-12", "15.99", "O4", "3", "social", "South"],
            ["C004", "2024-03-01", "250.00", "O5", "5", "display", "East"],
        ],
        date="order_date",
        num="revenue",
        text="customer_id",
        nonneg=None,
        warn_negative="revenue",
        unique=None,
        kwargs={},
    ),
    "customers": dict(
        header=["customer_id", "acquisition_date", "channel", "region"],
        rows=[
            ["C001", "2023-05-01", "search", "North"],
            ["C002", "2023-06-11", "email", "Zürich"],
            ["C003", "2023-07-21", "social", "South"],
            ["C004", "2023-08-30", "display", "East"],
        ],
        date="acquisition_date",
        num=None,
        text="customer_id",
        nonneg=None,
        warn_negative=None,
        unique="customer_id",
        kwargs={},
    ),
    "price_panel": dict(
        header=["date", "product_id", "price", "units", "store_id", "promo"],
        rows=[
            [w, p, price, units, "S1", promo]
            for w, (price, units, promo) in zip(WEEKS, [("9.99", "120", "0"), ("8.49", "180", "1"), ("9.99", "115", "0")])
            for p in ("P1", "P2")
        ],
        date="date",
        num="price",
        text="product_id",
        nonneg="price",
        warn_negative=None,
        unique="date, store_id, product_id",
        kwargs={},
    ),
    "sales_history": dict(
        header=["date", "region", "sales"],
        rows=[[m, r, v] for m in MONTHS for r, v in (("North", "1000.5"), ("Zürich", "870.25"))],
        date="date",
        num="sales",
        text="region",
        nonneg=None,
        warn_negative="sales",
        unique=None,
        kwargs={"keys": ["region"]},
    ),
    "sales_plan": dict(
        header=["date", "region", "promo"],
        rows=[[m.replace("2024", "2027"), r, v] for m in MONTHS for r, v in (("North", "0.5"), ("Zürich", "0"))],
        date="date",
        num=None,
        text="region",
        nonneg=None,
        warn_negative=None,
        unique=None,
        kwargs={"keys": ["region"]},
    ),
    "opportunities": dict(
        header=["opportunity_id", "name", "group", "market_size", "growth"],
        rows=[
            ["OP1", "Café chains", "food", "1200000", "0.05"],
            ["OP2", "Gyms", "leisure", "800000", "0.12"],
            ["OP3", "Schools", "public", "2500000", "0.02"],
        ],
        date=None,
        num="market_size",
        text="opportunity_id",
        nonneg=None,
        warn_negative=None,
        unique="opportunity_id",
        kwargs={},
    ),
    "marketing_funnel": dict(
        header=["month", "channel", "spend", "leads", "conversions"],
        rows=[
            [m, c, s, leads, v]
            for m in MONTHS
            for c, s, leads, v in (("search", "5000", "400", "40"), ("social", "3000", "250", "20"))
        ],
        date="month",
        num="spend",
        text="channel",
        nonneg="spend",
        warn_negative=None,
        unique="month, channel",
        kwargs={},
    ),
    "market_size": dict(
        header=["month", "region", "market_size"],
        rows=[[m, r, v] for m in MONTHS for r, v in (("North", "5000000"), ("Zürich", "4200000"))],
        date="month",
        num="market_size",
        text="region",
        nonneg="market_size",
        warn_negative=None,
        unique="month, region",
        kwargs={},
    ),
    "experiment": dict(
        header=["unit_id", "variant", "timestamp", "converted", "revenue"],
        rows=[
            ["U1", "control", "2024-01-03", "0", "0"],
            ["U2", "treatment", "2024-01-03", "1", "35.50"],
            ["U3", "control", "2024-01-04", "1", "80.25"],
            ["U4", "tréatment", "2024-01-05", "1", "12.00"],
        ],
        date="timestamp",
        num="revenue",
        text="unit_id",
        nonneg=None,
        warn_negative=None,
        unique=None,
        kwargs={},
    ),
    "experiment_summary": dict(
        header=["variant", "metric", "n", "sum", "sum_sq"],
        rows=[
            ["control", "converted", "1000", "100", "100"],
            ["treatment", "converted", "1010", "121", "121"],
            ["control", "revenue", "1000", "5000.5", "90000.25"],
            ["treatment", "revenue", "1010", "5200", "95000"],
        ],
        date=None,
        num="sum",
        text="variant",
        nonneg="sum_sq",
        warn_negative=None,
        unique="variant, metric",
        kwargs={},
    ),
    "mmm": dict(  # no text column: the outcome, spends and controls are all numbers
        header=["date", "sales", "spend_search", "spend_social", "promo"],
        rows=[
            [w, s, a, b, p]
            for w, (s, a, b, p) in zip(
                WEEKS, [("250000.5", "12000", "8000", "0"), ("262000", "13500.5", "0", "1"), ("255000", "11000", "7000", "0")]
            )
        ],
        date="date",
        num="sales",
        text=None,
        nonneg=None,
        warn_negative=None,
        unique="date",
        kwargs={},
    ),
    "lift_tests": dict(
        header=["channel", "start", "end", "lift", "lift_se"],
        rows=[
            ["search", "2024-01-01", "2024-01-28", "52000", "9000"],
            ["social", "2024-02-05", "2024-03-03", "18000.5", "6500"],
            ["display", "2024-03-04", "2024-03-31", "3000", "2500"],
        ],
        date="start",
        num="lift",
        text="channel",
        nonneg=None,
        warn_negative="lift",
        unique=None,
        kwargs={},
    ),
}


def _csv(header, rows, sep=",") -> str:
    return "\n".join(sep.join(r) for r in [header, *rows]) + "\n"


def _replace(rows, col, row_idx, value):
    rows = [list(r) for r in rows]
    rows[row_idx][col] = value
    return rows


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    """An .xlsx workbook with fixed timestamps (byte-identical on every run)."""
    import datetime as dt

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, table in sheets.items():
        ws = wb.create_sheet(name)
        for row in table:
            ws.append(row)
    fixed = dt.datetime(2024, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the current time
                import re

                data = re.sub(
                    rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>",
                    b'<dcterms:modified xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:modified>',
                    data,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, data)
    return out.getvalue()


def _typed(spec, header, rows):
    """Excel cell values: numbers as numbers, dates as datetimes, the rest as text."""
    import datetime as dt

    out = []
    for r in rows:
        cells = []
        for name, v in zip(header, r):
            if name == spec["date"] or name in ("date", "month", "order_date", "acquisition_date"):
                cells.append(dt.datetime.fromisoformat(v))
            else:
                try:
                    cells.append(float(v) if "." in v else int(v))
                except ValueError:
                    cells.append(v)
        out.append(cells)
    return out


def _parquet(columns: dict[str, pa.Array]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf, compression="NONE", store_schema=False)
    return buf.getvalue()


def build() -> dict:
    """Write every corpus file; returns the expectations keyed by relative path."""
    expectations: dict[str, dict] = {}

    for kind, spec in KINDS.items():
        folder = HERE / kind
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        header, rows = spec["header"], spec["rows"]
        n = len(rows)
        kw = spec["kwargs"]

        def put(name, content, outcome, **extra):
            path = folder / name
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
            exp = {"kind": kind, "outcome": outcome, **({"kwargs": kw} if kw else {}), **extra}
            expectations[f"{kind}/{name}"] = exp

        base = _csv(header, rows)
        put("valid.csv", base, "loads", rows=n)
        put("empty.csv", "", "fails", fragments=["an empty file", "export the data again"])
        put("blank_lines.csv", "\n\n  \n", "fails", fragments=["an empty file", "export"])
        put("header_only.csv", _csv(header, []), "fails", fragments=["header without data rows", "export"])
        put("semicolon.csv", _csv(header, rows, ";"), "loads", rows=n)
        put("tab.tsv", _csv(header, rows, "\t"), "loads", rows=n)
        put("pipe.txt", _csv(header, rows, "|"), "loads", rows=n)
        put(
            "colon_delimited.csv",
            _csv(header, rows, ":"),
            "fails",
            fragments=["delimiter was not recognised", "comma, semicolon, tab or pipe"],
        )
        put("excel_sep_hint.csv", "sep=;\n" + _csv(header, rows, ";"), "loads", rows=n)
        if spec["text"]:
            put(
                "latin1.csv",
                _csv(header, _replace(rows, header.index(spec["text"]), 0, "Zürich-Süd")).encode("latin-1"),
                "loads",
                rows=n,
                contains="Zürich-Süd",
            )
            put(
                "cp1252_euro.csv",
                _csv(header, _replace(rows, header.index(spec["text"]), 0, "€uro")).encode("cp1252"),
                "loads",
                rows=n,
                contains="€uro",
            )
        put("utf8_bom.csv", b"\xef\xbb\xbf" + base.encode("utf-8"), "loads", rows=n)
        put("utf16_tab.txt", _csv(header, rows, "\t").encode("utf-16"), "loads", rows=n)
        put("crlf.csv", base.replace("\n", "\r\n"), "loads", rows=n)
        put("trailing_delimiter.csv", "\n".join(",".join(r) + "," for r in [header, *rows]) + "\n", "loads", rows=n)
        put("header_case_spaces.csv", _csv([" " + h.replace("_", " ").title() + " " for h in header], rows), "loads", rows=n)
        put("padded_cells.csv", _csv(header, [[f" {c} " for c in r] for r in rows]), "loads", rows=n)
        put(
            "ragged_row.csv",
            _csv(header, rows) + ",".join(rows[0] + ["extra", "cells"]) + "\n",
            "fails",
            fragments=["unreadable text", "quoting"],
        )

        # missing / misspelt required column: the last required column in the header
        req = spec["num"] or spec["date"] or "name"
        if kind in ("customers", "lift_tests"):  # lift_tests: a missing `lift` would be matched to `lift_se`
            req = "channel"
        if kind == "opportunities":
            req = "name"
        if kind == "experiment":  # its numeric columns (metrics) are not contract columns
            req = "variant"
        if kind == "experiment_summary":
            req = "metric"
        if kind == "mmm":  # its only contract column; the numeric ones are named by the notebook's parameters
            req = "date"
        j = header.index(req)
        put(
            "missing_column.csv",
            _csv([h for i, h in enumerate(header) if i != j], [[c for i, c in enumerate(r) if i != j] for r in rows]),
            "fails",
            column=req,
            fragments=["a required column", "add the column"],
        )
        misspelt = req[:-1] if len(req) > 4 else req + "x"
        put(
            "misspelt_column.csv",
            _csv([misspelt if h == req else h for h in header], rows),
            "fails",
            column=req,
            fragments=[f"rename '{misspelt}' to '{req}'"],
        )
        put(
            "mapped_columns.csv",
            _csv([f"My {h}" for h in header], rows),
            "loads",
            rows=n,
            kwargs={**kw, "columns": {f"My {h}": h for h in header if h not in kw.get("keys", [])}}
            | ({"keys": [f"My {k}" for k in kw["keys"]]} if kw.get("keys") else {}),
        )
        put(
            "mapping_to_absent_column.csv",
            base,
            "fails",
            column="Revenue (EUR)",
            kwargs={**kw, "columns": {"Revenue (EUR)": req}},
            fragments=["named in `columns`", "correct the name"],
        )

        if spec["num"]:
            k = header.index(spec["num"])
            put(
                "wrong_type.csv",
                _csv(header, _replace(_replace(rows, k, 1, "abc"), k, 2, '"1.234,5 €"')),
                "fails",
                column=spec["num"],
                fragments=["numbers", "2 non-numeric", "'abc'", "remove text such as"],
            )
            put(
                "infinite.csv",
                _csv(header, _replace(rows, k, 0, "1e400")),
                "fails",
                column=spec["num"],
                fragments=["finite numbers", "replace infinite"],
            )
            big = f"{float(rows[1][k]) * 1e9:.0f}"
            put(
                "extreme_magnitude.csv",
                _csv(header, _replace(rows, k, 1, big)),
                "warns",
                rows=n,
                warning="million times the typical size",
            )
        if spec["date"]:
            d = header.index(spec["date"])
            put(
                "unparseable_dates.csv",
                _csv(header, _replace(_replace(rows, d, 0, "not a date"), d, 1, "2024-02-30")),
                "fails",
                column=spec["date"],
                fragments=["YYYY-MM-DD", "'not a date'", "one format"],
            )
            mixed = [list(r) for r in rows]
            for i in range(1, n, 2):
                y, m, day = mixed[i][d].split("-")
                mixed[i][d] = f"{day}/{m}/{y}"
            put(
                "mixed_date_formats.csv",
                _csv(header, mixed),
                "fails",
                column=spec["date"],
                fragments=["YYYY-MM-DD", "one format for the whole column"],
            )
            if kind == "sales_plan":  # a plan is about the future
                put("future_dates.csv", _csv(header, _replace(rows, d, n - 1, "2099-01-01")), "loads", rows=n)
            else:
                put(
                    "future_dates.csv",
                    _csv(header, _replace(rows, d, n - 1, "2099-01-01")),
                    "fails",
                    column=spec["date"],
                    fragments=["dates not in the future", "mistyped years"],
                )
            put(
                "ancient_dates.csv",
                _csv(header, _replace(rows, d, 0, "0024-01-01")),
                "fails",
                column=spec["date"],
                fragments=["dates from 1900-01-01 on", "mistyped years"],
            )
            put(
                "datetimes_with_offsets.csv",
                _csv(
                    header,
                    [r[:d] + [r[d] + ("T09:30:00+02:00" if i % 2 else "T09:30:00Z")] + r[d + 1 :] for i, r in enumerate(rows)],
                ),
                "loads",
                rows=n,
            )
            put(
                "missing_date.csv",
                _csv(header, _replace(rows, d, 1, "")),
                "fails",
                column=spec["date"],
                fragments=["a value in every row", "1 missing", "row 3", "fill the missing"],
            )
        if spec["text"]:
            put(
                "missing_text.csv",
                _csv(header, _replace(rows, header.index(spec["text"]), 0, "NA")),
                "fails",
                column=spec["text"],
                fragments=["1 missing", "row 2", "fill the missing"],
            )

        if spec["unique"]:
            put(
                "duplicate_keys.csv",
                _csv(header, rows + [rows[0]]),
                "fails",
                column=spec["unique"],
                fragments=["one row per", "2 rows sharing", "row 2", "duplicates"],
            )
        elif kind == "transactions":
            put("duplicate_rows.csv", _csv(header, rows + [rows[0]]), "warns", rows=n + 1, warning="exact duplicate row")
        elif kind == "sales_history":
            put("duplicate_dates.csv", _csv(header, rows + [rows[0]]), "warns", rows=n + 1, warning="duplicated date")

        if spec["nonneg"]:
            k = header.index(spec["nonneg"])
            put(
                "negative_values.csv",
                _csv(header, _replace(rows, k, 1, "-" + rows[1][k])),
                "fails",
                column=spec["nonneg"],
                fragments=["value(s) breaking the rule", "row 3", "impossible"],
            )
        if spec["warn_negative"]:
            k = header.index(spec["warn_negative"])
            put(
                "negative_values.csv",
                _csv(header, _replace(rows, k, 1, "-" + rows[1][k])),
                "warns",
                rows=n,
                warning=f"negative '{spec['warn_negative']}'",
            )
        if kind == "price_panel":
            k = header.index("promo")
            put(
                "promo_not_flag.csv",
                _csv(header, _replace(rows, k, 0, "2")),
                "fails",
                column="promo",
                fragments=["0 or 1", "row 2"],
            )
            put("units_fractional.csv", _csv(header, _replace(rows, header.index("units"), 0, "12.5")), "loads", rows=n)
            put(
                "date_gap.csv",
                _csv(header, [r for r in rows if r[0] != WEEKS[1]] + [[w, *rows[0][1:]] for w in ["2024-01-22"]]),
                "warns",
                rows=n - 1,
                warning="gap(s) in 'date'",
            )
        if kind == "marketing_funnel":
            put(
                "fractional_leads.csv",
                _csv(header, _replace(rows, 3, 0, "40.5")),
                "fails",
                column="leads",
                fragments=["whole numbers", "round"],
            )
            put(
                "huge_counts.csv",
                _csv(header, _replace(rows, 3, 0, "1e20")),
                "fails",
                column="leads",
                fragments=["whole numbers below", "units"],
            )
        if spec["date"] and kind in ("marketing_funnel", "market_size"):
            d = header.index(spec["date"])
            ends = {"2024-01-01": "2024-01-31", "2024-02-01": "2024-02-29", "2024-03-01": "2024-03-31"}
            put(
                "month_end_dates.csv",
                _csv(header, [r[:d] + [ends[r[d]]] + r[d + 1 :] for r in rows]),
                "warns",
                rows=n,
                warning="not the first of the month",
            )
            put(
                "month_gap.csv",
                _csv(header, [r for r in rows if r[d] != "2024-02-01"] + [["2024-05-01", *r[1:]] for r in rows[:2]]),
                "warns",
                rows=n,
                warning="gap(s) in 'month'",
            )
        if kind == "opportunities":
            put(
                "text_criterion.csv",
                _csv(header, _replace(rows, header.index("growth"), 0, "high")),
                "fails",
                column="growth",
                fragments=["numbers", "'high'"],
            )
        if kind == "sales_history":
            put(
                "missing_key_column.csv",
                base,
                "fails",
                column="store",
                kwargs={"keys": ["store"]},
                fragments=["a required column", "add the column"],
            )

        # ---------------------------------------------------------------- Excel
        typed = _typed(spec, header, rows)
        put(
            "several_sheets.xlsx",
            _xlsx({"Notes": [["About"], ["exported 2024"]], "Summary": [["total"], [1]], "Data": [header, *typed]}),
            "loads",
            rows=n,
            sheet="Data",
        )
        put(
            "no_matching_sheet.xlsx",
            _xlsx({"Notes": [["About"], ["exported 2024"]], "Other": [["a", "b"], [1, 2]]}),
            "fails",
            fragments=["a sheet with the columns", "'Notes'", "sheet="],
        )
        put(
            "named_sheet_missing.xlsx",
            _xlsx({"Data": [header, *typed]}),
            "fails",
            kwargs={**kw, "sheet": "Sales"},
            fragments=["a sheet named Sales", "pass sheet="],
        )
        put(
            "text_in_numbers.xlsx",
            _xlsx(
                {
                    "Data": [
                        header,
                        *[_replace([r], header.index(spec["num"]), 0, "n/a?")[0] if i == 0 else r for i, r in enumerate(typed)],
                    ]
                }
            )
            if spec["num"]
            else _xlsx(
                {
                    "Data": [
                        header,
                        *[_replace([r], header.index(spec["date"]), 0, "soon")[0] if i == 0 else r for i, r in enumerate(typed)],
                    ]
                }
            ),
            "fails",
            column=spec["num"] or spec["date"],
            fragments=["row 2"],
        )
        put(
            "corrupt.xlsx",
            b"PK\x03\x04" + bytes(range(256)) * 2,
            "fails",
            fragments=["a readable Excel workbook", "export it as CSV"],
        )

        # ---------------------------------------------------------------- Parquet
        def arrays(overrides=None):
            cols = {}
            for i, h in enumerate(header):
                values = [r[i] for r in rows]
                cols[h] = pa.array(values, pa.string())
            cols.update(overrides or {})
            return cols

        typed_cols = {}
        for i, h in enumerate(header):
            values = [r[i] for r in rows]
            if h == spec["date"] or h in ("date", "month", "end"):
                import datetime as dt

                typed_cols[h] = pa.array([dt.date.fromisoformat(v) for v in values], pa.date32())
            else:
                try:
                    typed_cols[h] = pa.array([float(v) for v in values], pa.float64())
                except ValueError:
                    typed_cols[h] = pa.array(values, pa.string())
        put("typed.parquet", _parquet(typed_cols), "loads", rows=n)
        put("all_text.parquet", _parquet(arrays()), "loads", rows=n)
        if spec["num"]:
            junk = [r[header.index(spec["num"])] for r in rows]
            junk[0] = "12 EUR"
            put(
                "wrong_types.parquet",
                _parquet(arrays({spec["num"]: pa.array(junk, pa.string())})),
                "fails",
                column=spec["num"],
                fragments=["numbers", "'12 EUR'", "row 1"],
            )
        if spec["date"]:
            dates = [r[header.index(spec["date"])] for r in rows]
            dates[-1] = "last week"
            put(
                "text_dates.parquet",
                _parquet(arrays({spec["date"]: pa.array(dates, pa.string())})),
                "fails",
                column=spec["date"],
                fragments=["YYYY-MM-DD", "'last week'"],
            )
        put(
            "misspelt_column.parquet",
            _parquet({(misspelt if h == req else h): v for h, v in typed_cols.items()}),
            "fails",
            column=req,
            fragments=[f"rename '{misspelt}' to '{req}'"],
        )
        valid_pq = _parquet(typed_cols)
        put(
            "truncated.parquet",
            valid_pq[: len(valid_pq) // 2],
            "fails",
            fragments=["a readable Parquet file", "write the file again"],
        )
        put(
            "corrupt.parquet",
            b"PAR1" + bytes(range(256)) + b"PAR1",
            "fails",
            fragments=["a readable Parquet file", "write the file again"],
        )
        put("parquet_named_csv.csv", valid_pq, "fails", fragments=["a Parquet file", "real suffix"])
        put(
            "binary_junk.csv",
            bytes((i * 37) % 256 for i in range(300)),
            "fails",
            fragments=["binary content", "export the data again"],
        )
        put("xlsx_named_csv.csv", _xlsx({"Data": [header, *typed]}), "fails", fragments=["Excel workbook", "real suffix"])

    # drop None-valued keys for a readable file
    for exp in expectations.values():
        for key in [k for k, v in exp.items() if v is None]:
            del exp[key]
    return expectations


def main() -> None:
    expectations = build()
    text = (
        "# Generated by make_corpus.py: expected outcome of every corpus file.\n"
        "# outcome: loads (rows), warns (rows, warning fragment) or fails (fragments that must appear,\n"
        "# besides the file name; `column` must appear too).\n"
    )
    text += yaml.safe_dump(expectations, sort_keys=True, allow_unicode=True, width=120)
    (HERE / "expectations.yaml").write_text(text, encoding="utf-8")
    print(f"wrote {len(expectations)} corpus files")


if __name__ == "__main__":
    main()

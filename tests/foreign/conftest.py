"""Shared fixtures for the foreign-data suite: every notebook run as a stranger would run it.

A run goes through the installed ``marksell`` command (the user's entry point), with only file paths, a
column mapping and what only a user can know. ``sample_words`` lists what must never appear in a report on
someone else's data: the sample company's identifiers and the words that describe it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"

#: Words that only a report about the sample company may contain.
SAMPLE_PHRASES = ("sample company", "planted", "ground truth", "ground_truth")


def marksell_command() -> list[str]:
    """The ``marksell`` console script of the running environment."""
    exe = Path(sys.executable).with_name("marksell")
    if not exe.exists():  # pragma: no cover - the venv always has it
        pytest.skip(f"no marksell command beside {sys.executable}")
    return [str(exe)]


def _identifiers() -> set[str]:
    """Ids and names from the sample files (products, stores, regions, series, opportunities, experiments)."""
    found: set[str] = set()
    text_cols = {
        "price_panel.csv": ["product_id", "store_id", "category"],
        "sales_history.csv": ["region", "category"],
        "opportunities.csv": ["opportunity_id", "name"],
        "customers.csv": ["region"],
        "experiments.csv": ["experiment"],
    }
    for name, cols in text_cols.items():
        path = SAMPLE_DIR / name
        if not path.exists():
            continue
        frame = pd.read_csv(path, usecols=lambda c: c in cols, dtype=str)
        for col in frame.columns:
            found.update(v for v in frame[col].dropna().unique() if len(v) >= 3)
    return found


@pytest.fixture(scope="session")
def sample_words() -> set[str]:
    """Identifiers and phrases of the sample company (matched as whole words, case-insensitive)."""
    return _identifiers() | set(SAMPLE_PHRASES)


def sample_words_in(text: str, words: set[str]) -> list[str]:
    """The sample words present in ``text`` as whole words (style sheets, scripts and HTML tags stripped
    first: CSS such as ``display: none`` is not report text)."""
    plain = re.sub(r"<(style|script)\b[^>]*>.*?</\1>", " ", text, flags=re.S | re.I)
    plain = re.sub(r"<[^>]+>", " ", plain)
    return sorted(w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", plain, re.IGNORECASE))


def run_notebook(name: str, parameters: dict, out: Path, *, timeout: int = 900) -> tuple[subprocess.CompletedProcess, Path]:
    """Run ``marksell run NAME -f params.yaml --out OUT`` and return the process and the report folder."""
    params_file = out.parent / f"{out.name}-params.yaml"
    params_file.write_text(yaml.safe_dump(parameters, sort_keys=True))
    proc = subprocess.run(
        [*marksell_command(), "run", name, "-f", str(params_file), "--out", str(out), "--cell-timeout", "600"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc, out


def assert_ok_run(proc: subprocess.CompletedProcess, out: Path) -> dict:
    """The run ended ok; returns its run.json record (with the error shown when it did not)."""
    record_path = out / "run.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    assert proc.returncode == 0 and record.get("status") == "ok", (
        f"exit {proc.returncode}, status {record.get('status')}: {record.get('error')}\n{proc.stderr[-3000:]}"
    )
    return record

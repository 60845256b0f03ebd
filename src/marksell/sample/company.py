"""Generate the whole sample company from one seed and write it to a folder.

Each part of the company comes from its own module (``customers``, ``funnel``, ``price_panel``,
``sales_history``, ``opportunities``, ``experiments``, ``marketing_mix``), each with a child random generator
spawned from the seed, so that changing one part never reshuffles the others. The same seed gives byte-identical files.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 7

#: (module, names of earlier tables it takes as inputs), in generation order.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("customers", ()),
    ("funnel", ("customers", "transactions")),
    ("price_panel", ()),
    ("sales_history", ()),
    ("opportunities", ()),
    ("experiments", ("customers", "transactions")),
    ("marketing_mix", ()),
]


def generate_company(seed: int = DEFAULT_SEED) -> tuple[dict[str, pd.DataFrame], dict]:
    """All sample tables by file stem, and the planted ground truth by part."""
    children = np.random.SeedSequence(seed).spawn(len(PARTS))
    tables: dict[str, pd.DataFrame] = {}
    truth: dict = {"seed": seed}
    for (part, needs), child in zip(PARTS, children):
        module = importlib.import_module(f"marksell.sample.{part}")
        inputs = {name: tables[name] for name in needs}
        part_tables, part_truth = module.generate(np.random.default_rng(child), **inputs)
        tables.update(part_tables)
        truth[part] = part_truth
    return tables, truth


def write_company(out: str | os.PathLike, seed: int = DEFAULT_SEED, replace: bool = True) -> list[Path]:
    """Write every table as CSV and the truth as ``ground_truth.json`` into ``out`` (atomically).

    With ``replace=False`` a file of the same name in ``out`` that differs from the one generated is never
    overwritten: a :class:`~marksell.errors.ParameterError` lists them (identical files are fine).
    """
    out = Path(out)
    tables, truth = generate_company(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=out.parent))
    try:
        for stem, df in sorted(tables.items()):
            df.to_csv(tmp / f"{stem}.csv", index=False, lineterminator="\n", date_format="%Y-%m-%d")
        (tmp / "ground_truth.json").write_text(json.dumps(_plain(truth), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if not replace:
            _refuse_overwrite(tmp, out)
        out.mkdir(exist_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
            written.append(out / f.name)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _refuse_overwrite(new: Path, out: Path) -> None:
    """Raise when a generated file would replace a different file (or anything not a file) in ``out``."""
    from marksell.errors import ParameterError

    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} exists and is not a folder")
    clash = []
    for f in sorted(new.iterdir()):
        target = out / f.name
        if os.path.lexists(target) and (target.is_symlink() or not target.is_file() or target.read_bytes() != f.read_bytes()):
            clash.append(f.name)
    if clash:
        raise ParameterError(
            f"--out {out} already holds {', '.join(clash)} (different from the sample's); "
            "nothing was written. Choose an empty folder, or pass --force to replace them"
        )


def _plain(obj):
    from marksell.jsonable import to_jsonable

    return to_jsonable(obj)

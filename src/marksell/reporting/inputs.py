"""Checks of a run's input files and column mapping, before any kernel starts.

A path that does not exist, a folder, an unreadable file, a mapping onto a name that is not a column of
the contract, or a mapping onto a name the file already has would otherwise start a kernel and file a
failed report; here they stop the run with one :class:`~marksell.errors.ParameterError` (exit 2, nothing
filed) that names the parameter, the file, the column and the fix.

``columns`` has one form in every notebook: ``{your name: contract name}`` for the notebook's main input
(the one file given, else its first input), or ``{input kind: {your name: contract name}}`` per input.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from marksell.data.contracts import CONTRACTS, INPUT_NAMES
from marksell.errors import DataContractError, ParameterError

#: The input kind each path parameter reads (``criteria_path`` has no data contract).
PATH_KINDS = {**{f"{name}_path": kind for name, kind in INPUT_NAMES.items()}, "criteria_path": None}
#: Other forms a path's file may take, each with its own contract: an experiment file may be a summary
#: table (``columns`` then takes ``{"experiment_summary": {...}}`` like any other input).
ALTERNATIVE_KINDS = {"experiment": ("experiment_summary",)}
#: Path values that mean "no such input" rather than a file.
NO_FILE = {"none"}
#: Parameters whose values name columns a contract that keeps other columns may be mapped onto.
_NAMING = re.compile(r"^(keys|sales_keys|exog_cols|exog_sum|controls|instruments|value_col|cluster.*)$")


def given_paths(values: dict) -> dict[str, str]:
    """The path parameters set to a file in this run: name -> path text."""
    return {
        name: str(v).strip()
        for name, v in values.items()
        if name.endswith("_path") and isinstance(v, str) and v.strip() and v.strip().lower() not in NO_FILE
    }


def check_paths(values: dict) -> None:
    """Every ``*_path`` given names an existing, regular, readable file."""
    for name, text in given_paths(values).items():
        path = Path(text).expanduser()
        fix = "check the path (a relative path is read from the folder you run marksell in)"
        if not path.exists():
            raise ParameterError(f"{name}: {text} does not exist; {fix}, or leave {name} empty.")
        if not path.is_file():
            what = "a folder" if path.is_dir() else "not a regular file"
            raise ParameterError(f"{name}: {text} is {what}; point {name} at a CSV, Parquet or Excel file.")
        try:
            with open(path, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise ParameterError(
                f"{name}: {text} cannot be read ({exc.strerror or exc}); check the file's permissions."
            ) from None


def _allowed_targets(kind: str, values: dict) -> set[str]:
    contract = CONTRACTS[kind]
    allowed = {c.name for c in contract.columns}
    if contract.extra_numeric or kind in ("sales_history", "sales_plan"):
        for name, v in values.items():
            if not _NAMING.match(name):
                continue
            for item in v if isinstance(v, (list, tuple)) else [v]:
                text = str(item).strip()
                m = re.fullmatch(r"log\((.+)\)", text)
                allowed.add(m.group(1).strip() if m else text)
    return allowed


def check_mapping(kind: str, mapping: dict, values: dict, header: list[str] | None) -> None:
    """Targets of ``mapping`` are columns of the ``kind`` contract (or names other parameters use) and
    do not collide with a column the file already has or with each other."""
    allowed = _allowed_targets(kind, values)
    contract_cols = [c.name for c in CONTRACTS[kind].columns]
    seen: dict[str, str] = {}
    for source, target in mapping.items():
        if target is None or str(target).strip() in ("", "None"):
            raise ParameterError(
                f"columns: `{source}` is not mapped onto a name; write {{your name: "
                "contract name} with a space after each colon, e.g. {Client: customer_id}."
            )
        target = str(target).strip()
        keeps_others = CONTRACTS[kind].extra_numeric or kind in ("sales_history", "sales_plan")
        near = difflib.get_close_matches(target, contract_cols, n=1, cutoff=0.8)
        if target not in allowed and not (keeps_others and not near):  # a free name for a kept column
            close = near or difflib.get_close_matches(target, contract_cols, n=1, cutoff=0.5)
            hint = f"did you mean `{close[0]}`?" if close else f"its columns are {', '.join(contract_cols)}."
            raise ParameterError(f"columns: `{target}` is not a column of {kind}; {hint}")
        if target in seen:
            raise ParameterError(
                f"columns: `{seen[target]}` and `{source}` are both mapped onto `{target}` of {kind}; map only one of them."
            )
        seen[target] = source
        if header is not None and target in header and target != source and target not in mapping:
            raise ParameterError(
                f"columns: `{source}` is mapped onto `{target}`, but the {kind} file already has a column "
                f'`{target}`; map that one to another name too (e.g. {{"{target}": "{target}_file"}}) '
                "or drop one of them."
            )


def _summary_form(kind: str, mapping: dict, header: list[str] | None) -> str:
    """The kind a flat mapping is checked against: a file of ``kind`` that, after the mapping, has no
    unit ids but a ``metric`` column is its summary form (e.g. an experiment's aggregates)."""
    alternatives = ALTERNATIVE_KINDS.get(kind, ())
    if not alternatives or header is None:
        return kind
    names = {mapping.get(c, c) for c in header}
    return alternatives[0] if "unit_id" not in names and "metric" in names else kind


def check_inputs(values: dict) -> None:
    """All pre-kernel checks of a run's effective parameter values (defaults overridden by the user's)."""
    from marksell.data.columns import input_columns
    from marksell.data.read import read_header

    check_paths(values)
    kinds = [PATH_KINDS[n] for n in values if PATH_KINDS.get(n) in CONTRACTS]  # in the notebook's order
    kinds += [alt for k in kinds for alt in ALTERNATIVE_KINDS.get(k, ())]
    given = given_paths(values)
    given_kinds = {PATH_KINDS[n] for n in given if PATH_KINDS.get(n)}
    if "columns" not in values or not kinds:
        return
    maps = input_columns(values.get("columns"), {k: (k in given_kinds) for k in kinds})
    path_of = {PATH_KINDS[n]: p for n, p in given.items() if PATH_KINDS.get(n)}
    path_of.update({alt: path_of[k] for k in list(path_of) for alt in ALTERNATIVE_KINDS.get(k, ())})
    for kind, mapping in maps.items():
        header = None
        if kind in path_of:
            try:
                header = read_header(Path(path_of[kind]).expanduser(), CONTRACTS[kind])
            except DataContractError:
                header = None  # the loader reports an unreadable file with its full message
        check_mapping(_summary_form(kind, mapping, header) if mapping else kind, mapping, values, header)


__all__ = ["ALTERNATIVE_KINDS", "PATH_KINDS", "check_inputs", "check_mapping", "check_paths", "given_paths"]

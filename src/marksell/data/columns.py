"""Column names of an input file: the user's ``columns`` mapping and the automatic one (case, spaces,
hyphens), the checks of ``columns``/``keys`` and of the file's column structure, and the problem
record every loader error is built from (:func:`problem`)."""

from __future__ import annotations

import difflib
import re

from marksell.data.contracts import Contract, contract_kind, input_name
from marksell.errors import DataContractError, ParameterError


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def name_mapping(file_cols: list[str], contract: Contract, keys: list[str], columns: dict) -> dict:
    """The user's ``columns`` plus automatic mapping of names differing only in case, spaces or hyphens."""
    mapping = dict(columns)
    targets = set(mapping.values())
    present = set(file_cols) | targets
    for name in [c.name for c in contract.columns] + list(keys):
        if name in present:
            continue
        hits = [c for c in file_cols if c not in mapping and _norm_name(c) == _norm_name(name)]
        if len(hits) == 1:
            mapping[hits[0]] = name
            present.add(name)
    return mapping


def problem(column, expected, found, examples=None, fix=""):
    return {"column": column, "expected": expected, "found": found, "examples": examples, "fix": fix}


def check_mapping(columns, shown, contract: Contract) -> dict:
    if columns is None or (isinstance(columns, str) and columns.strip() == ""):
        return {}
    if not isinstance(columns, dict):
        raise DataContractError(
            shown,
            contract.kind,
            [
                problem(
                    None,
                    "`columns` as a mapping {your column: contract column}",
                    f"{type(columns).__name__}",
                    fix='pass e.g. columns={"Customer": "customer_id"}',
                )
            ],
        )
    if any(isinstance(v, dict) for v in columns.values()):  # one mapping per input: this kind's
        columns = next((v for k, v in columns.items() if contract_kind(k) == contract.kind), None) or {}
    return {str(k).strip(): str(v).strip() for k, v in columns.items()}


def check_keys(keys, shown, contract: Contract) -> list[str]:
    if keys is None or (isinstance(keys, str) and keys.strip() == ""):
        return []
    if isinstance(keys, str):
        keys = [keys]
    keys = [str(k).strip() for k in keys]
    clash = [k for k in keys if k in {c.name for c in contract.columns}]
    if clash:
        raise DataContractError(
            shown,
            contract.kind,
            [
                problem(
                    None, "key columns other than the contract's own columns", f"keys {clash}", fix=f"leave {clash} out of `keys`"
                )
            ],
        )
    return list(dict.fromkeys(keys))


def structure_problems(df, contract: Contract, keys, columns, file_columns) -> list[dict]:
    problems = []
    names = [str(c) for c in df.columns]
    file_columns = [str(c) for c in file_columns]
    needed = contract.required + list(keys)
    missing = [n for n in needed if n not in names]
    if len(file_columns) == 1 and missing and re.search(r"[^\w\s\-.()]", file_columns[0]):
        only = file_columns[0]
        return [
            problem(
                None,
                "columns separated by comma, semicolon, tab or pipe",
                f"a single column '{only[:60]}' (the delimiter was not recognised)",
                fix="save the file as CSV with comma, semicolon, tab or pipe delimiters",
            )
        ]
    if len(df) == 0:
        problems.append(
            problem(None, "at least one data row", "a header without data rows", fix="export the data again with its rows")
        )
    for user_name in columns:
        if user_name not in file_columns:
            close = difflib.get_close_matches(user_name, file_columns, n=1, cutoff=0.6)
            problems.append(
                problem(
                    user_name,
                    f"column '{user_name}' (named in `columns`)",
                    "no such column in the file",
                    examples="the file has " + ", ".join(file_columns[:10]),
                    fix=f"correct the name in `columns` (did you mean '{close[0]}'?)"
                    if close
                    else "correct the name in `columns`",
                )
            )
    dupes = sorted({c for c in names if names.count(c) > 1})
    for c in dupes:
        sources = [k for k, v in columns.items() if v == c] + ([c] if c in file_columns and c not in columns else [])
        found = "several columns with this name after mapping" + (
            f" ({', '.join(repr(s) for s in sources)})" if len(sources) > 1 else ""
        )
        fix = "map only one of your columns onto it, or rename the others"
        if c in sources and len(sources) > 1:
            fix += f" (e.g. add '{c}': '{c}_original' to `columns`)"
        problems.append(problem(c, "one column of this name", found, fix=fix))
    for name in missing:
        candidates = [c for c in file_columns if c not in columns]
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6) or difflib.get_close_matches(
            _norm_name(name), [_norm_name(c) for c in candidates], n=1, cutoff=0.6
        )
        if close and close[0] not in candidates:
            close = [candidates[[_norm_name(c) for c in candidates].index(close[0])]]
        hint = (
            f"rename '{close[0]}' to '{name}' or pass columns={{'{close[0]}': '{name}'}}"
            if close
            else f"add the column, or map yours with columns={{'your name': '{name}'}}"
        )
        found = "no such column; the file has " + ", ".join(file_columns[:10])
        problems.append(problem(name, "a required column", found, fix=hint))
    return problems


def input_columns(columns, inputs: dict) -> dict[str, dict]:
    """``columns`` per input kind, in the one form every notebook takes: ``{input: {your name: contract
    name}}`` (the input's name, e.g. ``funnel`` for ``funnel_path``, or its contract kind), or a flat
    ``{your name: contract name}`` for the main input (the one input given when exactly one is, else the
    first). ``inputs`` maps each input kind of the notebook, in order, to whether the user gave its file.
    Kinds without a mapping get ``{}``."""
    kinds = list(inputs)
    out = {k: {} for k in kinds}
    if columns is None or columns == "" or columns == {}:
        return out
    if not isinstance(columns, dict):
        raise ParameterError(
            "columns: expected a mapping {your column: contract column} (or one such "
            f"mapping per input), got {type(columns).__name__}."
        )
    nested = [k for k, v in columns.items() if isinstance(v, dict)]
    if nested:
        flat = [k for k in columns if k not in nested]
        if flat:
            raise ParameterError(
                f"columns: mixes mappings per input ({nested}) with single names {flat}; "
                'give every mapping under its input, e.g. {"transactions": {...}}.'
            )
        unknown = [k for k in columns if contract_kind(k) not in kinds]
        if unknown:
            names = ", ".join(input_name(k) if input_name(k) == k else f"{input_name(k)} (or {k})" for k in kinds)
            raise ParameterError(f"columns: {unknown} are not inputs of this notebook; its inputs are {names}.")
        twice = [k for k in kinds if sum(contract_kind(c) == k for c in columns) > 1]
        if twice:
            raise ParameterError(
                f"columns: the {input_name(twice[0])} input is mapped twice (as "
                f"{input_name(twice[0])} and {twice[0]}); give one mapping under one name."
            )
        out.update({contract_kind(k): {str(a).strip(): str(b).strip() for a, b in v.items()} for k, v in columns.items()})
        return out
    given = [k for k, g in inputs.items() if g]
    main = given[0] if len(given) == 1 else kinds[0]
    if given and main not in given:
        raise ParameterError(
            f"columns: a single mapping applies to the main input ({main}), whose file is "
            f'not given here; give one mapping per input, e.g. {{"{given[0]}": '
            '{"your name": "contract name"}}.'
        )
    out[main] = {str(a).strip(): str(b).strip() for a, b in columns.items()}
    return out

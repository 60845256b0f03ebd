"""Read a notebook's declared parameters and check user-supplied values against them.

Every marksell notebook declares its parameters in the cell tagged ``parameters``, one per line::

    name: type = default  # help text

Types are ``str``, ``int``, ``float``, ``bool``, ``list`` and ``dict``. papermill only warns about
unknown names; the runner rejects unknown names and wrong types *before* any kernel starts.
Values are parsed with ``ast.literal_eval`` / YAML (safe loader, no aliases) only: never evaluated as code.
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat

from marksell.errors import ParameterError
from marksell.reporting import limits

TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}
#: Parameters the runner sets itself; users may not pass them.
RESERVED = {"artifacts_dir"}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: object
    help: str


def parameters_cell(nb) -> tuple[int, str]:
    """Index and source of the cell tagged ``parameters``."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return i, cell.source
    raise ParameterError("the notebook has no cell tagged 'parameters'; tag the cell that holds the defaults")


def read_parameters(path: str | Path) -> list[Parameter]:
    """The parameters a notebook declares, in order."""
    nb = nbformat.read(str(path), as_version=4)
    _, source = parameters_cell(nb)
    return parse_parameters(source, where=Path(path).name)


def parse_parameters(source: str, where: str = "notebook") -> list[Parameter]:
    comments = _line_comments(source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{where}: the parameters cell is not valid Python ({exc.msg}, line {exc.lineno})") from None
    params = []
    for node in tree.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            raise ParameterError(
                f"{where}: line {node.lineno} of the parameters cell is not of the form `name: type = value  # help`"
            )
        tname = ast.unparse(node.annotation)
        if tname not in TYPES:
            raise ParameterError(f"{where}: parameter '{node.target.id}' has type '{tname}'; use one of {', '.join(TYPES)}")
        try:
            default = ast.literal_eval(node.value) if node.value is not None else None
        except ValueError:
            raise ParameterError(
                f"{where}: the default of '{node.target.id}' must be a literal (derive values in the next cell)"
            ) from None
        params.append(Parameter(node.target.id, tname, default, comments.get(node.lineno, "")))
    return params


def _line_comments(source: str) -> dict[int, str]:
    out = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return out


def coerce_value(param: Parameter, value, from_text: bool = False):
    """Check (and, for command-line text, parse) one value against its declared type."""
    if from_text and isinstance(value, str):
        value = _parse_text(param, value)
    t = param.type
    ok = (
        (t == "str" and isinstance(value, str))
        or (t == "bool" and isinstance(value, bool))
        or (t == "int" and isinstance(value, int) and not isinstance(value, bool))
        or (t == "float" and isinstance(value, (int, float)) and not isinstance(value, bool))
        or (t == "list" and isinstance(value, list))
        or (t == "dict" and isinstance(value, dict))
    )
    if not ok:
        raise ParameterError(
            f"parameter '{param.name}' must be {t} ({param.help or 'see `marksell list`'}); got {type(value).__name__} {value!r}"
        )
    return float(value) if t == "float" else value


def _parse_text(param: Parameter, text: str):
    t = param.type
    if t == "str":
        return text
    if t == "bool":
        low = text.strip().lower()
        if low in {"true", "yes", "1", "on"}:
            return True
        if low in {"false", "no", "0", "off"}:
            return False
        raise ParameterError(f"parameter '{param.name}' must be true or false; got {text!r}")
    if t in {"int", "float"}:
        try:
            return int(text) if t == "int" else float(text)
        except ValueError:
            raise ParameterError(f"parameter '{param.name}' must be {t}; got {text!r}") from None
    try:
        value = limits.load_yaml(text, f"parameter '{param.name}'")
    except ParameterError as exc:
        raise ParameterError(
            f"{exc}; a {t} is written in YAML/JSON form, e.g. {'[a, b]' if t == 'list' else '{key: value}'}"
        ) from None
    if value is None:
        value = [] if t == "list" else {}
    return value


def validate(params: list[Parameter], values: dict, from_text: set[str] | None = None) -> dict:
    """Checked values by name; unknown names and wrong types raise one :class:`ParameterError`."""
    known = {p.name: p for p in params}
    from_text = from_text or set()
    errors, out = [], {}
    for name, value in values.items():
        if name in RESERVED:
            errors.append(f"parameter '{name}' is set by the runner; do not pass it")
            continue
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            public = sorted(set(known) - RESERVED)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(public)}"
            errors.append(f"unknown parameter '{name}'{hint}")
            continue
        try:
            out[name] = coerce_value(known[name], value, from_text=name in from_text)
        except ParameterError as exc:
            errors.append(str(exc))
    if errors:
        raise ParameterError("; ".join(errors))
    return out


def _read_small_file(path: Path) -> str:
    """The text of a regular file of at most :data:`limits.MAX_YAML_BYTES` (a FIFO or device is refused, not read)."""
    if not path.exists():
        raise ParameterError(f"{path}: no such file")
    if not path.is_file():
        raise ParameterError(f"{path}: not a regular file (a folder, FIFO or device); give a YAML file")
    if path.stat().st_size > limits.MAX_YAML_BYTES:
        raise ParameterError(
            f"{path}: {path.stat().st_size:,} bytes; a parameter or batch file is at most {limits.MAX_YAML_BYTES:,}"
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: not UTF-8 text") from None


def load_yaml_parameters(path: str | Path) -> dict:
    """Parameters from a YAML file (safe loader, no aliases), which must hold a mapping."""
    data = limits.load_yaml(_read_small_file(Path(path)), str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: must hold a mapping of parameter names to values")
    return data

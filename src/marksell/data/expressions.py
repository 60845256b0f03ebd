"""A small, whitelisted expression language for the ``derive`` and ``query`` parameters.

``DataFrame.eval``/``query`` resolve ``@names``, attributes and calls, so parameter text handed to them
runs code. This module parses the text with :func:`ast.parse` (``mode="eval"``), accepts only the forms
below and evaluates the tree itself with vectorised numpy/pandas operations on the frame's columns:
nothing is ever compiled or executed, and no name outside the frame and :data:`FUNCTIONS` is reachable.

Allowed forms
    - column names: ``price``; names with spaces or symbols in backticks: ```unit price```
    - numbers (``3``, ``0.5``, ``1e3``), ``True``/``False``; ``'text'`` only as an operand of a comparison
      or inside an ``in [...]`` list (e.g. ``region == 'North'``, ``date >= '2024-01-01'``)
    - arithmetic on numbers: ``+ - * / ** %`` and unary ``-``/``+``
    - comparisons ``== != < <= > >=``, chained (``0 < price <= 10``)
    - ``and``, ``or``, ``not`` on conditions; ``x in [a, b]`` / ``x not in [a, b]`` with literal lists
    - the functions in :data:`FUNCTIONS` (``log``, ``log10``, ``log1p``, ``exp``, ``sqrt``, ``abs``,
      ``round(x, digits)``, ``clip(x, lower, upper)``, ``isna(x)``, ``notna(x)``)

Everything else (attributes, subscripts, ``@`` references, other calls, lambdas, comprehensions, dunder
names, keyword arguments, ``&``/``|``/``~``) is refused with a message naming the offending token. The text
is bounded (:data:`MAX_LENGTH` characters, :data:`MAX_NODES` syntax nodes, :data:`MAX_DEPTH` levels).
"""

from __future__ import annotations

import ast
import io
import operator
import tokenize
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marksell.errors import ParameterError

MAX_LENGTH = 2000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_IN_ITEMS = 1000

#: Functions an expression may call: name -> (numpy implementation, number of arguments, what it does).
FUNCTIONS = {
    "log": (np.log, (1,), "natural logarithm"),
    "log10": (np.log10, (1,), "base-10 logarithm"),
    "log1p": (np.log1p, (1,), "log(1 + x)"),
    "exp": (np.exp, (1,), "e to the power x"),
    "sqrt": (np.sqrt, (1,), "square root"),
    "abs": (np.abs, (1,), "absolute value"),
    "round": (None, (1, 2), "round(x, digits=0)"),
    "clip": (np.clip, (3,), "clip(x, lower, upper)"),
    "isna": (pd.isna, (1,), "True where the value is missing"),
    "notna": (pd.notna, (1,), "True where the value is present"),
}

ALLOWED = (
    "column names (`name with spaces` in backticks), numbers, True/False, 'text' in comparisons, "
    "+ - * / ** %, == != < <= > >= (chained), and/or/not, x in [..], and the functions " + ", ".join(FUNCTIONS)
)

_ARITH = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.Pow: np.power,
    ast.Mod: np.mod,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_MARKERS = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)  # checked via their parent
_OP_TEXT = {
    ast.BitAnd: ("&", "and"),
    ast.BitOr: ("|", "or"),
    ast.Invert: ("~", "not"),
    ast.BitXor: ("^", None),
    ast.LShift: ("<<", None),
    ast.RShift: (">>", None),
    ast.FloorDiv: ("//", None),
    ast.MatMult: ("@", None),
}
_TOKEN_HINTS = {
    "@": "'@' (a reference to a Python variable) is not allowed: expressions see the table's columns only",
    ".": "'.' (attribute access) is not allowed",
    ";": "';' is not allowed",
    ":": "':' is not allowed",
    "=": "'=' (assignment) is not allowed; compare with '=='",
    ":=": "':=' (assignment) is not allowed",
    "{": "'{' is not allowed",
    "}": "'}' is not allowed",
    "&": "'&' is not allowed; use 'and'",
    "|": "'|' is not allowed; use 'or'",
    "~": "'~' is not allowed; use 'not'",
}


class ExpressionError(ParameterError):
    """A ``derive``/``query`` expression uses a form outside the language or cannot be computed."""


@dataclass(frozen=True)
class Expression:
    """A checked expression: the original text, its syntax tree and the column names it reads."""

    text: str
    tree: ast.Expression = field(repr=False, compare=False)
    quoted: dict = field(repr=False, compare=False)  # placeholder identifier -> backtick-quoted column name
    columns: tuple = ()
    what: str = "expression"

    def evaluate(self, frame: pd.DataFrame):
        """The expression's value on ``frame``: a Series aligned with it, or a scalar."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ExpressionError(
                f"{self.what} '{_short(self.text)}': unknown column(s) {missing}; available: {sorted(map(str, frame.columns))}. "
                "Quote names with spaces in backticks, e.g. `unit price`."
            )
        with np.errstate(all="ignore"):
            return _Evaluator(self, frame).visit(self.tree.body)


# --------------------------------------------------------------------------- parsing and checking
def parse(text: str, what: str = "expression") -> Expression:
    """Check ``text`` against the language; raise :class:`ExpressionError` naming the offending token."""
    if not isinstance(text, str):
        raise ExpressionError(f'{what} must be text, e.g. "price / cpi"; got {type(text).__name__} {text!r}')
    if not text.strip():
        raise ExpressionError(f'{what} is empty; write an expression such as "price / cpi"')
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"{what} is {len(text)} characters long; at most {MAX_LENGTH} are allowed")
    if "\n" in text or "\r" in text or "\x00" in text:
        raise ExpressionError(f"{what} '{_short(text)}' spans several lines or holds control characters; write it on one line")
    source, quoted = _replace_backticks(text, what)
    _check_tokens(text, source, quoted, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # e.g. "1and": refused below or parsed as 1 and
            tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{what} '{_short(text)}' is not a valid expression ({exc.msg}); allowed: {ALLOWED}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"{what} '{_short(text)}' is nested too deeply") from None
    columns = _check_tree(tree, source.strip(), quoted, what, text)
    return Expression(text, tree, quoted, tuple(columns), what)


def check_derive(derive) -> dict[str, Expression]:
    """Check a ``derive`` mapping {new column: expression}; returns the parsed expressions by column."""
    if derive is None:
        return {}
    if not isinstance(derive, dict):
        raise ExpressionError(
            f"derive must be a mapping {{new column: expression}}, e.g. {{real_price: price / cpi}}; got {type(derive).__name__}"
        )
    out, errors = {}, []
    for name, text in derive.items():
        if not isinstance(name, str) or not name.strip():
            errors.append(f"derive: column name {name!r} must be non-empty text")
            continue
        try:
            out[name] = parse(text, what=f"derive '{name}'")
        except ExpressionError as exc:
            errors.append(str(exc))
    if errors:
        raise ExpressionError("; ".join(errors))
    return out


def check_query(query) -> Expression | None:
    """Check a ``query`` row filter; empty text means no filter (None)."""
    if query is None or (isinstance(query, str) and not query.strip()):
        return None
    return parse(query, what="query")


def derive_columns(frame: pd.DataFrame, derive) -> pd.DataFrame:
    """A copy of ``frame`` with each ``derive`` column computed in order (later ones may use earlier ones)."""
    out = frame.copy()
    for name, expr in check_derive(derive).items():
        value = expr.evaluate(out)
        out[name] = value.to_numpy() if isinstance(value, pd.Series) else value
    return out


def filter_rows(frame: pd.DataFrame, query) -> pd.DataFrame:
    """The rows of ``frame`` where the ``query`` condition holds (all rows for an empty query)."""
    expr = check_query(query)
    if expr is None:
        return frame
    mask = expr.evaluate(frame)
    if isinstance(mask, (bool, np.bool_)):
        return frame if mask else frame.iloc[0:0]
    if not (isinstance(mask, pd.Series) and pd.api.types.is_bool_dtype(mask)):
        raise ExpressionError(
            f"query '{_short(query)}' must be a condition that is True or False for each row, "
            "e.g. \"units >= 0 and region == 'North'\""
        )
    return frame.loc[mask.to_numpy()]


def _replace_backticks(text: str, what: str) -> tuple[str, dict]:
    """Swap each ```quoted name``` for a fresh identifier (outside string literals)."""
    out, quoted, i, quote = [], {}, 0, None
    while i < len(text):
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise ExpressionError(
                    f"{what} '{_short(text)}': a backtick at position {i + 1} is never closed; quote names as `unit price`"
                )
            name = text[i + 1 : end]
            if not name.strip():
                raise ExpressionError(f"{what} '{_short(text)}': empty backtick-quoted name at position {i + 1}")
            ident = _placeholder(len(quoted), text)
            quoted[ident] = name
            out.append(f" {ident} ")
            i = end
        else:
            out.append(ch)
        i += 1
    return "".join(out), quoted


def _placeholder(n: int, text: str) -> str:
    ident = f"_q{n}_"
    while ident in text:
        ident += "q"
    return ident


#: The token that opens an f-string on Python 3.12+ (earlier versions tokenise an f-string as one string).
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)


def _check_tokens(text: str, source: str, quoted: dict, what: str) -> None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise ExpressionError(
            f"{what} '{_short(text)}' is not a valid expression ({exc.args[0] if exc.args else exc}); allowed: {ALLOWED}"
        ) from None
    for tok in tokens:
        if tok.type == _FSTRING_START:  # Python 3.12+ tokenises f-strings into parts ('{' would be named instead)
            raise ExpressionError(f"{what} '{_short(text)}': an f-string is not allowed; allowed: {ALLOWED}")
        if tok.type == tokenize.OP and tok.string in _TOKEN_HINTS:
            raise ExpressionError(
                f"{what} '{_short(text)}': {_TOKEN_HINTS[tok.string]} "
                f"(at '{_restore(source[_offset(source, tok.start) :][:30], quoted)}'); "
                f"allowed: {ALLOWED}"
            )
        if tok.type == tokenize.ERRORTOKEN and tok.string.strip():
            raise ExpressionError(f"{what} '{_short(text)}': unexpected character '{tok.string}'; allowed: {ALLOWED}")
        if tok.type == tokenize.COMMENT:
            raise ExpressionError(
                f"{what} '{_short(text)}': '#' is not allowed (comments); quote column names holding '#' in backticks"
            )


def _offset(source: str, start: tuple[int, int]) -> int:
    return start[1] if start[0] == 1 else len(source)


def _check_tree(tree: ast.Expression, source: str, quoted: dict, what: str, text: str) -> list[str]:
    """Walk the tree once, refusing any node outside the language; returns the column names read."""
    columns: list[str] = []
    count = 0
    stack = [(tree.body, 1, None)]
    while stack:
        node, depth, parent = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(
                f"{what} '{_short(text)}' has more than {MAX_NODES} parts; split it into several derive columns"
            )
        if depth > MAX_DEPTH:
            raise ExpressionError(f"{what} '{_short(text)}' is nested more than {MAX_DEPTH} levels deep")
        problem = _node_problem(node, parent, quoted)
        if problem:
            segment = _restore(ast.get_source_segment(source, node) or "", quoted)
            raise ExpressionError(f"{what} '{_short(text)}': {problem} (at '{_short(segment, 40)}'); allowed: {ALLOWED}")
        if isinstance(node, ast.Name) and node.id not in ("True", "False"):
            name = quoted.get(node.id, node.id)
            if name not in columns:
                columns.append(name)
        children = list(_children(node))
        stack.extend((child, depth + 1, node) for child in reversed(children))
    return columns


def _children(node: ast.AST):
    if isinstance(node, ast.Call):
        return node.args  # the function name itself is checked against FUNCTIONS, not read as a column
    return [c for c in ast.iter_child_nodes(node) if not isinstance(c, _MARKERS)]


def _node_problem(node: ast.AST, parent: ast.AST | None, quoted: dict) -> str | None:
    """Why ``node`` is outside the language, or None when it is allowed where it stands."""
    for types, problem in _NODE_RULES:
        if isinstance(node, types):
            return problem(node, parent, quoted)
    return f"{_REFUSED_FORMS.get(type(node), type(node).__name__)} is not allowed"


def _name_problem(node: ast.Name, parent, quoted: dict) -> str | None:
    if node.id not in quoted and node.id.startswith("__"):
        return f"the name '{node.id}' is not allowed (double-underscore names are refused)"
    return None


def _constant_problem(node: ast.Constant, parent, quoted) -> str | None:
    """Numbers (not huge) and booleans anywhere; text only in a comparison or an ``in`` list."""
    value = node.value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, int) and abs(value) > 2**1000:
            return "a number this large is not allowed"
        return None
    if isinstance(value, str):
        if isinstance(parent, ast.Compare) or isinstance(parent, (ast.List, ast.Tuple)):
            return None
        return "text ('...') is only allowed in comparisons, e.g. region == 'North'"
    return f"the literal {value!r} ({type(value).__name__}) is not allowed"


def _operator_problem(node: ast.BinOp | ast.UnaryOp, parent, quoted) -> str | None:
    """Arithmetic, unary ``-``/``+`` and ``not``; other operators are refused, naming the word to use."""
    if type(node.op) in _ARITH or isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        return None
    sym, alt = _OP_TEXT.get(type(node.op), (type(node.op).__name__, None))
    return f"the operator '{sym}' is not allowed" + (f"; use '{alt}'" if alt else "")


def _compare_problem(node: ast.Compare, parent, quoted) -> str | None:
    """The comparisons of :data:`_COMPARE`, and ``in``/``not in`` with a literal list on the right."""
    for op, right in zip(node.ops, node.comparators):
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.List, ast.Tuple)):
                return "'in' needs a literal list on its right, e.g. region in ['North', 'South']"
        elif type(op) not in _COMPARE:
            return (
                f"the comparison '{'is' if isinstance(op, (ast.Is, ast.IsNot)) else type(op).__name__}' "
                "is not allowed; use == or !="
            )
    return None


def _list_problem(node: ast.List | ast.Tuple, parent, quoted) -> str | None:
    """A list only on the right of ``in``, of at most :data:`MAX_IN_ITEMS` numbers and texts."""
    if not (
        isinstance(parent, ast.Compare)
        and node in parent.comparators
        and isinstance(parent.ops[parent.comparators.index(node)], (ast.In, ast.NotIn))
    ):
        return "a list is only allowed on the right of 'in'"
    if len(node.elts) > MAX_IN_ITEMS:
        return f"an 'in' list may hold at most {MAX_IN_ITEMS} values"
    for elt in node.elts:
        if not _is_literal(elt):
            return "an 'in' list may hold only numbers and 'text'"
    return None


def _call_problem(node: ast.Call, parent, quoted) -> str | None:
    """A call of one of :data:`FUNCTIONS` with its number of positional arguments (``round``: literal digits)."""
    if not isinstance(node.func, ast.Name):
        return "only calls of the listed functions are allowed"
    name = node.func.id
    if name not in FUNCTIONS:
        return f"the function '{name}' is not allowed"
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        return f"'{name}' takes positional arguments only"
    arity = FUNCTIONS[name][1]
    if len(node.args) not in arity:
        return f"'{name}' takes {' or '.join(map(str, arity))} argument(s) ({FUNCTIONS[name][2]})"
    if name == "round" and len(node.args) == 2 and not _is_round_digits(node.args[1]):
        return "round's digits must be a whole number between -15 and 15"
    return None


def _is_round_digits(node: ast.AST) -> bool:
    """A literal whole number between -15 and 15 (not a boolean)."""
    return (
        _is_literal(node)
        and isinstance(_literal(node), int)
        and not isinstance(_literal(node), bool)
        and abs(_literal(node)) <= 15
    )


#: The forms of the language by node type (first match wins), each with the check of where it stands.
_NODE_RULES = (
    (ast.Name, _name_problem),
    (ast.Constant, _constant_problem),
    ((ast.BinOp, ast.UnaryOp), _operator_problem),
    (ast.BoolOp, lambda node, parent, quoted: None),
    (ast.Compare, _compare_problem),
    ((ast.List, ast.Tuple), _list_problem),
    (ast.Call, _call_problem),
)

#: How the message names a refused form (other node types are named by their class).
_REFUSED_FORMS = {
    ast.Attribute: "attribute access '.'",
    ast.Subscript: "a subscript '[...]'",
    ast.Lambda: "lambda",
    ast.IfExp: "'x if c else y'",
    ast.NamedExpr: "assignment ':='",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Dict: "a dict '{...}'",
    ast.Set: "a set '{...}'",
    ast.JoinedStr: "an f-string",
    ast.Starred: "'*'",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
        return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool))


def _literal(node: ast.AST):
    if isinstance(node, ast.UnaryOp):
        value = _literal(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    return node.value


def _restore(segment: str, quoted: dict) -> str:
    for ident, name in quoted.items():
        segment = segment.replace(f" {ident} ", f"`{name}`").replace(ident, f"`{name}`")
    return segment.strip()


def _short(text, limit: int = 80) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- evaluation
class _Evaluator:
    """Evaluates a checked tree on a frame; only the node types :func:`_node_problem` accepts reach here."""

    def __init__(self, expr: Expression, frame: pd.DataFrame):
        self.expr, self.frame = expr, frame

    def fail(self, problem: str):
        raise ExpressionError(f"{self.expr.what} '{_short(self.expr.text)}': {problem}")

    def visit(self, node: ast.AST):
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):  # pragma: no cover - parsed as Constant on 3.8+
                return node.id == "True"
            return self.frame[self.expr.quoted.get(node.id, node.id)]
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or isinstance(value, str):
                return value
            try:
                return np.float64(value)
            except OverflowError:
                return np.float64(np.inf if value > 0 else -np.inf)
        if isinstance(node, ast.BinOp):
            return self.arith(node)
        if isinstance(node, ast.UnaryOp):
            value = self.visit(node.operand)
            if isinstance(node.op, ast.Not):
                return ~self.condition(value, "not") if isinstance(value, pd.Series) else not self.condition(value, "not")
            sym = "-" if isinstance(node.op, ast.USub) else "+"
            value = self.number(node.operand, sym)
            self.numeric(value, sym, node.operand)
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            values = [self.condition(self.visit(v), word) for v in node.values]
            result = values[0]
            for v in values[1:]:
                result = (result & v) if word == "and" else (result | v)
            return result
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        self.fail(f"{type(node).__name__} is not allowed")  # pragma: no cover - refused by the checker

    def arith(self, node: ast.BinOp):
        sym = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%"}[type(node.op)]
        left, right = self.number(node.left, sym), self.number(node.right, sym)
        self.numeric(left, sym, node.left)
        self.numeric(right, sym, node.right)
        return _ARITH[type(node.op)](_as_float(left), _as_float(right))

    def compare(self, node: ast.Compare):
        left, left_node = self.visit(node.left), node.left
        result = None
        for op, right_node in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                values = [_literal(e) for e in right_node.elts]
                if values and all(_is_number(v) for v in values) and _is_text(left):
                    left = self.to_number(left, left_node, "'in' with numbers")
                if isinstance(left, pd.Series):
                    part = left.isin(values)
                else:
                    part = left in values
                if isinstance(op, ast.NotIn):
                    part = ~part if isinstance(part, pd.Series) else not part
                right = None
            else:
                right = self.visit(right_node)
                if _is_text(left) and _is_number(right):
                    left = self.to_number(left, left_node, "a comparison with a number")
                elif _is_text(right) and _is_number(left):
                    right = self.to_number(right, right_node, "a comparison with a number")
                try:
                    part = _COMPARE[type(op)](_operand(left), _operand(right))
                except (TypeError, ValueError) as exc:
                    self.fail(f"cannot compare {_describe(left)} with {_describe(right)} ({exc})")
            part = _as_condition(part)
            result = part if result is None else (result & part)
            left, left_node = right, right_node
        return result

    def call(self, node: ast.Call):
        name = node.func.id
        func = FUNCTIONS[name][0]
        if name in ("isna", "notna"):
            args = [self.visit(a) for a in node.args]
        else:
            args = [self.number(a, f"{name}()") for a in node.args]
        if name in ("isna", "notna"):
            value = func(args[0])
            return value if isinstance(value, pd.Series) else bool(value)
        for arg, arg_node in zip(args, node.args):
            self.numeric(arg, f"{name}()", arg_node)
        if name == "round":
            digits = int(_literal(node.args[1])) if len(args) == 2 else 0
            return np.round(_as_float(args[0]), digits)
        if name == "clip":
            return np.clip(_as_float(args[0]), _as_float(args[1]), _as_float(args[2]))
        return func(_as_float(args[0]))

    def number(self, node: ast.AST, sym: str):
        """The value of ``node`` for arithmetic: a text column (as read from CSV) becomes numbers."""
        value = self.visit(node)
        return self.to_number(value, node, f"'{sym}'") if _is_text(value) else value

    def to_number(self, value: pd.Series, node: ast.AST, use: str) -> pd.Series:
        num = pd.to_numeric(value.astype("string").str.strip(), errors="coerce")
        bad = num.isna() & value.notna()
        if bad.any():
            segment = _restore(ast.get_source_segment(_source(self.expr), node) or "", self.expr.quoted)
            example = value[bad].iloc[0]
            self.fail(
                f"{use} needs numbers; '{_short(segment, 40)}' holds text (e.g. {str(example)!r}, "
                f"{int(bad.sum())} value(s) in all)"
            )
        return pd.Series(num.to_numpy(dtype="float64", na_value=np.nan), index=value.index)

    def condition(self, value, word: str):
        if isinstance(value, pd.Series) and pd.api.types.is_bool_dtype(value):
            return value
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        self.fail(f"'{word}' needs conditions (True/False) on both sides; got {_describe(value)}")

    def numeric(self, value, sym: str, node: ast.AST):
        ok = (
            (isinstance(value, pd.Series) and pd.api.types.is_numeric_dtype(value))
            or (isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)))
            or isinstance(value, (bool, np.bool_))
            or (isinstance(value, pd.Series) and pd.api.types.is_bool_dtype(value))
        )
        if not ok:
            segment = _restore(ast.get_source_segment(_source(self.expr), node) or "", self.expr.quoted)
            self.fail(f"'{sym}' needs numbers; '{_short(segment, 40)}' is {_describe(value)}")


def _is_text(value) -> bool:
    return (
        isinstance(value, pd.Series)
        and (pd.api.types.is_string_dtype(value.dtype) or value.dtype == object)
        and not pd.api.types.is_bool_dtype(value.dtype)
    )


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _source(expr: Expression) -> str:
    return _replace_backticks(expr.text, "expression")[0].strip()


def _as_float(value):
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value) or pd.api.types.is_integer_dtype(value):
            return value.astype("float64")
        return value
    return np.float64(value)


def _operand(value):
    return np.float64(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _as_condition(value):
    if isinstance(value, pd.Series):
        return value if value.dtype == bool else value.fillna(False).astype(bool)  # missing compares False
    return bool(value)


def _describe(value) -> str:
    if isinstance(value, pd.Series):
        return f"a column of {value.dtype}"
    if isinstance(value, (np.number, np.bool_)):
        value = value.item()
    return f"{type(value).__name__} {value!r}"


__all__ = [
    "ALLOWED",
    "FUNCTIONS",
    "Expression",
    "ExpressionError",
    "check_derive",
    "check_query",
    "derive_columns",
    "filter_rows",
    "parse",
]

"""The derive/query expression language: valid expressions equal a numpy reference, everything outside the
whitelist is refused with the offending token named, and no expression can reach code outside the frame."""

from __future__ import annotations

import ast
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marksell.data import expressions as ex
from marksell.errors import ParameterError

# ----------------------------------------------------------------------------- an audit of what runs
#: Audit events that would mean an expression reached the outside world (processes, files, imports, code).
DANGEROUS = (
    "os.",
    "subprocess.",
    "exec",
    "open",
    "import",
    "socket.",
    "shutil.",
    "ctypes.",
    "builtins.",
    "code.__new__",
    "function.__new__",
    "pickle.",
    "marshal.",
    "webbrowser.",
    "urllib.",
    "glob.",
)
_SEEN: list[str] = []
_RECORDING = [False]


def _hook(event, args):
    # Python 3.12+'s tokenizer opens its pseudo-file '<string>' to quote the line of a syntax error: not a file
    if _RECORDING[0] and not (event == "open" and str(args[0]).startswith("<")):
        _SEEN.append(event)


sys.addaudithook(_hook)


def _evaluate_recorded(text, frame):
    """Parse and evaluate ``text``; return (result or the ExpressionError, dangerous audit events)."""
    _SEEN.clear()
    _RECORDING[0] = True
    try:
        try:
            result = ex.parse(text).evaluate(frame)
        except ex.ExpressionError as exc:
            result = exc
    finally:
        _RECORDING[0] = False
    return result, [e for e in _SEEN if e.startswith(DANGEROUS)]


FRAME = pd.DataFrame(
    {
        "price": [1.5, 2.0, 0.0, -3.0],
        "units": [0, 5, 7, 2],
        "unit price": [3.0, 4.0, 5.0, 6.0],
        "region": ["North", "South", None, "x"],
        "date": pd.to_datetime(["2024-01-01", "2024-06-01", "2025-01-01", "2025-02-01"]),
    }
)


# ----------------------------------------------------------------------------- the exploit from issue 19
def test_the_audit_would_see_a_shell_command(tmp_path):
    """The property tests below rely on this hook: it does record os.system."""
    _SEEN.clear()
    _RECORDING[0] = True
    try:
        os.system(f"true > {tmp_path / 'g'}")
    finally:
        _RECORDING[0] = False
    assert "os.system" in _SEEN


def test_issue_exploit_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = "price > 0 and @pd.io.common.os.system('id > f') == 0"
    with pytest.raises(ex.ExpressionError) as err:
        ex.filter_rows(FRAME, text)
    msg = str(err.value)
    assert "'@'" in msg and "columns only" in msg and "allowed:" in msg
    assert isinstance(err.value, ParameterError)  # the runner reports it as an input error (exit 2)
    result, events = _evaluate_recorded(text, FRAME)
    assert isinstance(result, ex.ExpressionError) and events == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text, token",
    [
        ("__import__('os').system('id > f')", "'.'"),
        ("__import__('os')", "__import__"),
        ("price.__class__.__mro__", "'.'"),
        ("open('f', 'w')", "'open'"),
        ("exec('1')", "'exec'"),
        ("getattr(price, 'x')", "'getattr'"),
        ("price[0]", "subscript"),
        ("[x for x in price]", "comprehension"),
        ("lambda: 1", "':'"),
        ("(x := 1)", "':='"),
        ("price @ units", "'@'"),
        ("price & units > 0", "use 'and'"),
        ("~(price > 0)", "use 'not'"),
        ("price if units else 1", "'x if c else y'"),
        ("f'{price}' == 'a'", "f-string"),
        ("b'x' == region", "bytes"),
        ("price is None", "'is'"),
        ("region + 'x'", "text ('...') is only allowed in comparisons"),
        ("log(x=price)", "'='"),
        ("round(price, units)", "digits"),
        ("units in price", "literal list"),
        ("{1: 2}", "'{'"),
        ("price; units", "';'"),
        ("price # comment", "'#'"),
        ("`unit price", "never closed"),
        ("price\nunits", "one line"),
        ("price ** " * 300 + "2", "characters long"),
        ("-" * 60 + "price", "levels deep"),
        (" or ".join(["(a > 0)"] * 150), "parts"),
    ],
)
def test_forms_outside_the_language_are_refused_naming_the_token(text, token):
    with pytest.raises(ex.ExpressionError) as err:
        ex.parse(text)
    assert token in str(err.value)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("nosuch > 1", "unknown column(s) ['nosuch']"),
        ("region * units", "'*' needs numbers; 'region' holds text (e.g. 'North', 3 value(s) in all)"),
        ("price and units", "'and' needs conditions"),
        ("region > 1", "a comparison with a number needs numbers; 'region' holds text"),
        ("date > 1", "cannot compare"),
    ],
)
def test_type_errors_are_messages_naming_the_part(text, problem):
    with pytest.raises(ex.ExpressionError) as err:
        ex.parse(text).evaluate(FRAME)
    assert problem in str(err.value)


def test_query_must_be_a_condition_and_derive_names_the_column():
    with pytest.raises(ex.ExpressionError, match="must be a condition"):
        ex.filter_rows(FRAME, "price * 2")
    with pytest.raises(ex.ExpressionError, match="derive 'real' .*'open'"):
        ex.check_derive({"real": "open('x')"})
    with pytest.raises(ex.ExpressionError, match="must be a mapping"):
        ex.check_derive("price / 2")
    with pytest.raises(ex.ExpressionError, match="must be text"):
        ex.check_query(3)


# ----------------------------------------------------------------------------- what the language computes
def test_allowed_forms_compute_what_they_say():
    out = ex.derive_columns(
        FRAME,
        {
            "revenue": "price * units",
            "cheap": "0 < price <= 2",
            "lp": "round(log1p(abs(price)), 3)",
            "w": "`unit price` / 2",
            "c": "clip(units, 1, 5)",
            "twice": "revenue * 2",
        },
    )
    assert out["revenue"].tolist() == [0.0, 10.0, 0.0, -6.0]
    assert out["cheap"].tolist() == [True, True, False, False]
    assert out["lp"].tolist() == [0.916, 1.099, 0.0, 1.386]
    assert out["w"].tolist() == [1.5, 2.0, 2.5, 3.0]
    assert out["c"].tolist() == [1.0, 5.0, 5.0, 2.0]
    assert out["twice"].tolist() == [0.0, 20.0, 0.0, -12.0]
    assert "revenue" not in FRAME.columns  # a copy
    rows = ex.filter_rows(FRAME, "region in ['North', 'x'] and not (units == 0) or date >= '2025-01-15'")
    assert rows.index.tolist() == [3]
    assert ex.filter_rows(FRAME, "isna(region)").index.tolist() == [2]
    assert ex.filter_rows(FRAME, "region not in ['North']").index.tolist() == [1, 2, 3]
    assert ex.filter_rows(FRAME, "").equals(FRAME)
    assert ex.filter_rows(FRAME, "1 > 2").empty


def test_text_columns_as_read_from_csv_are_numbers_where_used_as_numbers():
    text = pd.DataFrame(
        {
            "units": pd.array(["1", "-2", " 3", None], dtype="string"),
            "year": pd.array(["1995", "1996", "1995", "1995"], dtype="string"),
            "code": pd.array(["001", "002", "010", "x"], dtype="string"),
        }
    )
    assert ex.filter_rows(text, "units >= 0").index.tolist() == [0, 2]
    assert ex.filter_rows(text, "year == 1995 and year in [1995]").index.tolist() == [0, 2, 3]
    assert ex.filter_rows(text, "code == '001'").index.tolist() == [0]  # text stays text against text
    assert ex.derive_columns(text, {"u2": "units * 2"})["u2"].tolist()[:3] == [2.0, -4.0, 6.0]
    with pytest.raises(ex.ExpressionError, match="'code' holds text \\(e.g. 'x'"):
        ex.filter_rows(text, "code > 1")


def test_huge_powers_overflow_to_inf_instead_of_hanging():
    assert ex.parse("10 ** 10 ** 10").evaluate(FRAME) == np.inf
    assert ex.parse("1e400 > price").evaluate(FRAME).all()
    with pytest.raises(ex.ExpressionError, match="a number this large"):
        ex.parse("9" * 400 + " > 1")


# ----------------------------------------------------------------------------- property tests
COLUMNS = {"a": "a", "b": "b", "`c d`": "c d"}
UNARY = {"log": np.log, "log10": np.log10, "log1p": np.log1p, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power, "%": np.mod}
COMPARE = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}

numbers = st.one_of(
    st.sampled_from(list(COLUMNS)).map(lambda c: ("col", c)),
    st.floats(0, 10, allow_nan=False).map(lambda v: ("num", round(v, 3))),
)


def _numeric(children):
    return st.one_of(
        st.tuples(st.sampled_from(list(BINARY)), children, children).map(lambda t: ("bin",) + t),
        st.tuples(st.sampled_from(list(UNARY)), children).map(lambda t: ("fn",) + t),
        children.map(lambda c: ("neg", c)),
    )


numeric_trees = st.recursive(numbers, _numeric, max_leaves=8)
comparisons = st.tuples(st.sampled_from(list(COMPARE)), numeric_trees, numeric_trees).map(lambda t: ("cmp",) + t)
conditions = st.recursive(
    comparisons,
    lambda c: st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), c, c).map(lambda t: ("bool",) + t), c.map(lambda x: ("not", x))
    ),
    max_leaves=4,
)


def render(tree) -> str:
    kind = tree[0]
    if kind == "col":
        return tree[1]
    if kind == "num":
        return repr(tree[1])
    if kind == "bin":
        return f"({render(tree[2])} {tree[1]} {render(tree[3])})"
    if kind == "fn":
        return f"{tree[1]}({render(tree[2])})"
    if kind == "neg":
        return f"(-{render(tree[1])})"
    if kind == "cmp":
        return f"({render(tree[2])} {tree[1]} {render(tree[3])})"
    if kind == "bool":
        return f"({render(tree[2])} {tree[1]} {render(tree[3])})"
    return f"(not {render(tree[1])})"


def reference(tree, arrays):
    """The same tree computed directly with numpy on float arrays (no parsing involved)."""
    kind = tree[0]
    if kind == "col":
        return arrays[COLUMNS[tree[1]]]
    if kind == "num":
        return np.float64(tree[1])
    if kind == "bin":
        return BINARY[tree[1]](reference(tree[2], arrays), reference(tree[3], arrays))
    if kind == "fn":
        return UNARY[tree[1]](reference(tree[2], arrays))
    if kind == "neg":
        return -reference(tree[1], arrays)
    if kind == "cmp":
        return COMPARE[tree[1]](reference(tree[2], arrays), reference(tree[3], arrays))
    if kind == "bool":
        op = np.logical_and if tree[1] == "and" else np.logical_or
        return op(reference(tree[2], arrays), reference(tree[3], arrays))
    return np.logical_not(reference(tree[1], arrays))


frames = st.integers(1, 6).flatmap(
    lambda n: st.fixed_dictionaries(
        {name: st.lists(st.floats(-100, 100, allow_nan=False), min_size=n, max_size=n) for name in ("a", "b", "c d")}
    )
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.one_of(numeric_trees, conditions), data=frames)
def test_valid_expressions_equal_a_numpy_reference(tree, data):
    frame = pd.DataFrame(data)
    arrays = {k: np.asarray(v, dtype=float) for k, v in data.items()}
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(reference(tree, arrays), (len(frame),))
    got = ex.parse(render(tree)).evaluate(frame)
    got = np.broadcast_to(np.asarray(got), (len(frame),))
    if expected.dtype == bool:
        assert got.tolist() == expected.tolist()
    else:
        np.testing.assert_allclose(got.astype(float), expected, rtol=1e-12, equal_nan=True)


FRAGMENTS = [
    "price",
    "units",
    "`unit price`",
    "region",
    "date",
    " ",
    "1",
    "2.5",
    "'x'",
    "'North'",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "@",
    "+",
    "-",
    "*",
    "/",
    "**",
    "%",
    "==",
    "<",
    ">=",
    " and ",
    " or ",
    "not ",
    " in ",
    " is ",
    "log",
    "exp",
    "round",
    "clip",
    "isna",
    "__import__",
    "os",
    "system",
    "open",
    "eval",
    "exec",
    "getattr",
    "lambda",
    ":",
    "=",
    ":=",
    " for ",
    " if ",
    " else ",
    "{",
    "}",
    "__class__",
    "__globals__",
    "pd",
    "np",
    "'id > f'",
    "`",
    "\\",
    "#",
    ";",
    "f'",
    "b'",
    "...",
    "*a",
    "yield ",
]
hostile = st.one_of(st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join), st.text(max_size=60))

ALLOWED_NODES = (
    ast.Expression,
    ast.Name,
    ast.Constant,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.Call,
    ast.List,
    ast.Tuple,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.Mod,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.And,
    ast.Or,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile)
def test_random_text_never_runs_anything_outside_the_whitelist(text):
    with tempfile.TemporaryDirectory() as tmp:
        old = os.getcwd()
        os.chdir(tmp)
        try:
            result, events = _evaluate_recorded(text, FRAME)
        finally:
            os.chdir(old)
        assert events == [], (text, events)
        assert list(Path(tmp).iterdir()) == []
    if isinstance(result, ex.ExpressionError):
        assert str(result)
        return
    tree = ex.parse(text).tree
    for node in ast.walk(tree):
        assert isinstance(node, ALLOWED_NODES), (text, type(node).__name__)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name) and node.func.id in ex.FUNCTIONS
        if isinstance(node, ast.Name):
            assert not node.id.startswith("__")

"""Rule conditions: a small expression language that crmml parses and evaluates itself.

A rule condition (of :class:`~crmml.segmentation.RuleSegmenter` and
:class:`~crmml.scoring.RuleLeadScorer`) is text such as
``"monetary >= 5000 and recency < 30"``. It is parsed with :func:`ast.parse` and
checked against an allowlist before anything is evaluated; it is then computed
vectorised on the frame's columns with pandas operators. No text is ever handed to
``eval``, ``DataFrame.eval``/``query`` or numexpr, so a rule (for example one
rewritten in a model file) cannot run code.

The language and its missing-value rule are described in :class:`RuleError`, the
error every refusal raises.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"monetary": [9000.0, 50.0, None], "source": ["ad", "referral", "ad"]})
>>> parse_condition("monetary > 5000 or source in ['referral']").evaluate(frame).tolist()
[True, True, False]
>>> parse_condition("monetary.__class__")
Traceback (most recent call last):
...
crmml._expression.RuleError: rule ('monetary.__class__'): attribute access (x.y) is not allowed. Rules may use ...
"""

from __future__ import annotations

import ast
import operator

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from crmml.exceptions import CrmmlError
from crmml.schema import SchemaError

__all__ = ["RuleError", "Condition", "check_callable_index", "parse_condition", "MAX_CHARS", "MAX_NODES", "MAX_DEPTH", "MAX_EXPONENT"]

MAX_CHARS, MAX_NODES, MAX_DEPTH, MAX_EXPONENT = 5000, 1000, 50, 16
_INT_LIMIT = 2**63
_BQ = "_crmml_bq_"  # placeholder prefix for backtick-quoted column names
_METHODS = {"isna": "isna", "isnull": "isna", "notna": "notna", "notnull": "notna"}

ALLOWED = ("Rules may use column names (or `any name` in backticks), numbers, strings, True/False/None, "
           "comparisons (== != < <= > >=, chained), and/or/not (& | ~), arithmetic (+ - * / // % and ** with a "
           f"literal exponent up to {MAX_EXPONENT}), x in [literal list], and col.isna()/col.notna().")

_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_REFUSED = {  # node type -> how the error names it
    ast.Attribute: "attribute access (x.y)", ast.Call: "a function call", ast.Subscript: "subscripts (x[...])",
    ast.Lambda: "lambda", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "generator expressions", ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings", ast.NamedExpr: "assignment (:=)", ast.Starred: "starred expressions (*x)",
    ast.IfExp: "conditional expressions (x if c else y)", ast.Dict: "dicts", ast.Set: "sets",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}


class RuleError(ValueError, CrmmlError):
    """A rule condition uses syntax outside crmml's rule language, or cannot be computed on the frame.

    Rule conditions of :class:`~crmml.segmentation.RuleSegmenter` and :class:`~crmml.scoring.RuleLeadScorer`
    are written in a small language that crmml parses itself (never with ``eval`` or
    ``DataFrame.eval``), so a rule cannot run code. The message names the rule, what is not allowed,
    and what is.

    The language allows:

    - column names (``monetary``), or any column name in backticks (```order count```);
      a name that is not a column may be an index level name (e.g. ``customer_id``);
    - literals: numbers, strings, ``True``, ``False``, ``None``;
    - comparisons ``== != < <= > >=``, chained (``18 <= age < 65``);
    - ``and``, ``or``, ``not`` (also written ``&``, ``|``, ``~``, with the precedence of
      ``and``/``or``, as in pandas);
    - arithmetic ``+ - * / // %``, unary minus, and ``**`` with a literal exponent
      of at most 16 in absolute value;
    - ``x in [...]`` / ``x not in [...]`` with a literal list or tuple;
    - ``col.isna()``, ``col.notna()`` (and the aliases ``isnull``/``notnull``).

    Everything else (attribute access, other calls, subscripts, lambdas,
    comprehensions, f-strings, ``@`` local variables, names starting with ``__``,
    walrus, starred, bytes) is refused with :class:`RuleError`, as are rules longer
    than 5,000 characters, with more than 1,000 syntax nodes or nested deeper than 50.

    Missing values follow pandas: a comparison with a missing value is False (``!=``
    is True, being ``not ==``); ``isna()``/``notna()`` test for them. A condition whose
    result is missing for a row (nullable dtypes) does not match that row. A condition that
    reads no column (``True``) applies to every row.

    Examples
    --------
    >>> from crmml import RuleError
    >>> issubclass(RuleError, ValueError)
    True
    """


def _label(where: str, text: str) -> str:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return f"{where} ({shown!r})"


def _refuse(where: str, text: str, problem: str) -> RuleError:
    return RuleError(f"{_label(where, text)}: {problem}")


def _rewrite(text: str, where: str) -> tuple[str, dict]:
    """Backtick names -> placeholders, ``&``/``|`` -> ``and``/``or`` (pandas' precedence); refuse ``@``."""
    if _BQ in text:
        raise _refuse(where, text, f"names containing {_BQ!r} are reserved.")
    out, names, i, n = [], {}, 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            q = text[i:i + 3] if text[i:i + 3] in ("'''", '"""') else c
            j = i + len(q)
            while j < n and not text.startswith(q, j):
                j += 2 if text[j] == "\\" else 1
            j = min(j + len(q), n)  # an unterminated string is left to the parser's SyntaxError
            out.append(text[i:j])
            i = j
        elif c == "`":
            j = text.find("`", i + 1)
            name = text[i + 1:j] if j > i else ""
            if not name or "\n" in name:
                raise _refuse(where, text, "a backtick-quoted column name must be closed on the same line "
                                           "and not be empty.")
            key = next((k for k, v in names.items() if v == name), f"{_BQ}{len(names)}")
            names[key] = name
            out.append(f" {key} ")
            i = j + 1
        elif c in "&|":
            out.append(" and " if c == "&" else " or ")
            i += 1
        elif c == "@":
            raise _refuse(where, text, "'@' (local variables) is not allowed. " + ALLOWED)
        else:
            out.append(c)
            i += 1
    return "".join(out), names


class _Checker:
    """Walks the syntax tree once: allowlist, bounds, and the kind of each value (bool, num, str, none, any)."""

    def __init__(self, text: str, where: str, names: dict):
        self.text, self.where, self.names, self.columns = text, where, names, []

    def fail(self, problem: str):
        raise _refuse(self.where, self.text, problem)

    def column(self, node: ast.Name) -> str:
        name = self.names.get(node.id, node.id)
        if name.startswith("__"):
            self.fail(f"names starting with '__' are not allowed (got {name!r}). " + ALLOWED)
        if name not in self.columns:
            self.columns.append(name)
        return "any"

    def constant(self, node) -> str:
        v = node.value
        if isinstance(v, bool):
            return "bool"
        if v is None:
            return "none"
        if isinstance(v, str):
            return "str"
        if isinstance(v, int):
            if abs(v) >= _INT_LIMIT:
                self.fail(f"the number {str(v)[:20]}... is out of range (integers must fit in 64 bits).")
            return "num"
        if isinstance(v, float):
            if not np.isfinite(v):
                self.fail("the number literal is out of range (it is not finite).")
            return "num"
        self.fail(f"{type(v).__name__} literals are not allowed. " + ALLOWED)

    def literal_list(self, node) -> None:
        for elt in node.elts:
            if isinstance(elt, ast.UnaryOp) and isinstance(elt.op, (ast.USub, ast.UAdd)):
                elt = elt.operand
                if not (isinstance(elt, ast.Constant) and self.constant(elt) == "num"):
                    self.fail("a list after 'in' may hold only literals (numbers, strings, True/False/None).")
            elif not isinstance(elt, ast.Constant):
                self.fail("a list after 'in' may hold only literals (numbers, strings, True/False/None).")
            else:
                self.constant(elt)

    def exponent(self, node) -> None:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            node, sign = node.operand, (-1 if isinstance(node.op, ast.USub) else 1)
        ok = (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
              and not isinstance(node.value, bool) and abs(node.value) <= MAX_EXPONENT)
        if not ok:
            self.fail(f"'**' needs a literal exponent between -{MAX_EXPONENT} and {MAX_EXPONENT} "
                      f"(got {ast.unparse(node)[:30] if sign > 0 else '-' + ast.unparse(node)[:30]}).")

    def visit(self, node, depth: int) -> str:
        if depth > MAX_DEPTH:
            self.fail(f"the rule is nested more than {MAX_DEPTH} levels deep; at most {MAX_DEPTH} are allowed.")
        d = depth + 1
        if isinstance(node, ast.Name):
            return self.column(node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Compare):
            if isinstance(node.left, (ast.List, ast.Tuple)):
                self.fail("a literal list may only follow 'in' / 'not in'.")
            self.visit(node.left, d)
            for k, (op, right) in enumerate(zip(node.ops, node.comparators)):
                if type(op) in (ast.In, ast.NotIn):
                    if not (isinstance(right, (ast.List, ast.Tuple)) and k == len(node.ops) - 1):
                        self.fail("'in' / 'not in' needs a literal list or tuple on its right, "
                                  "e.g. source in ['web', 'referral'].")
                    self.literal_list(right)
                elif type(op) in _COMPARE:
                    if isinstance(right, (ast.List, ast.Tuple)):
                        self.fail("a literal list may only follow 'in' / 'not in'.")
                    self.visit(right, d)
                else:
                    self.fail("'is' / 'is not' are not allowed (use == None, isna() or notna()). " + ALLOWED)
            return "bool"
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                if self.visit(v, d) not in ("bool", "any"):
                    self.fail("'and' / 'or' combine conditions (comparisons, isna(), boolean columns), "
                              f"not {ast.unparse(v)[:30]!r}.")
            return "bool"
        if isinstance(node, ast.UnaryOp):
            kind = self.visit(node.operand, d)
            if isinstance(node.op, (ast.Not, ast.Invert)):
                if kind not in ("bool", "any"):
                    self.fail("'not' / '~' apply to conditions, not to numbers or strings.")
                return "bool"
            if kind not in ("num", "any"):
                self.fail("unary '-' / '+' apply to numbers only.")
            return "num"
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _ARITH:
                self.fail(f"the operator {type(node.op).__name__} is not allowed. " + ALLOWED)
            for side in (node.left, node.right):  # visited first: depth-checked before anything else reads it
                if self.visit(side, d) not in ("num", "any", "bool"):
                    self.fail("arithmetic applies to numbers only (no strings or None).")
            if isinstance(node.op, ast.Pow):
                self.exponent(node.right)
            return "num"
        if isinstance(node, ast.Call) and self._is_missing_test(node):
            self.column(node.func.value)
            return "bool"
        what = _REFUSED.get(type(node), f"{type(node).__name__} expressions")
        if isinstance(node, (ast.List, ast.Tuple)):
            what = "a literal list outside 'in' / 'not in'"
        self.fail(f"{what} is not allowed. " + ALLOWED)

    @staticmethod
    def _is_missing_test(node: ast.Call) -> bool:
        f = node.func
        return (isinstance(f, ast.Attribute) and f.attr in _METHODS and isinstance(f.value, ast.Name)
                and not node.args and not node.keywords)


def check_callable_index(result, frame: pd.DataFrame, rule: str, frame_name: str = "frame") -> None:
    """A callable rule's Series must be indexed like the frame it was given: read by position, each row would get
    another row's answer. ``rule`` names the rule in the ValueError.

    >>> check_callable_index(pd.Series([True], index=[7]), pd.DataFrame({"a": [1]}), "rule 'x'")
    Traceback (most recent call last):
    ...
    crmml._expression.RuleError: rule 'x' (a callable) returned a Series with another index than the frame it was given; return one indexed like that frame (or an array).
    """
    if isinstance(result, pd.Series) and not result.index.equals(frame.index):
        raise RuleError(f"{rule} (a callable) returned a Series with another index than the {frame_name} it was "
                        "given; return one indexed like that frame (or an array).")


def parse_condition(text, where: str = "rule") -> "Condition":
    """Parse and check a rule condition; raise :class:`RuleError` on anything outside the language.

    Parameters
    ----------
    text : str
        The condition, e.g. ``"frequency >= 3 and recency <= 60"``.
    where : str, default="rule"
        How error messages name the rule (e.g. ``"RuleSegmenter rule 0 'vip'"``).

    Returns
    -------
    Condition

    Examples
    --------
    >>> parse_condition("1.5 < recency <= 30 and `order count` > 2").columns
    ('recency', 'order count')
    """
    if not isinstance(text, str):
        raise RuleError(f"{where}: a condition must be a str. Got {type(text).__name__} instead.")
    if len(text) > MAX_CHARS:
        raise _refuse(where, text, f"the rule is {len(text):,} characters long; at most {MAX_CHARS:,} are allowed.")
    source, names = _rewrite(text, where)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
        raise _refuse(where, text, f"not a valid condition ({detail}). " + ALLOWED) from None
    n_nodes = sum(1 for _ in ast.walk(tree))
    if n_nodes > MAX_NODES:
        raise _refuse(where, text, f"the rule has {n_nodes:,} syntax elements; at most {MAX_NODES:,} are allowed.")
    checker = _Checker(text, where, names)
    if checker.visit(tree.body, 1) not in ("bool", "any"):
        checker.fail("a rule must be a condition giving one boolean per row (a comparison such as "
                     "'x > 0', and/or/not, isna()), not arithmetic or a literal value.")
    return Condition(text, where, tree.body, names, tuple(checker.columns))


class Condition:
    """A checked rule condition; :meth:`evaluate` computes it on a frame. Build it with :func:`parse_condition`.

    Attributes
    ----------
    text : str
        The condition as written.
    columns : tuple of str
        The names it reads, in order of appearance.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_condition("x.isna() or x >= 2").evaluate(pd.DataFrame({"x": [1.0, None, 3.0]})).tolist()
    [False, True, True]
    """

    def __init__(self, text, where, body, names, columns):
        self.text, self.where, self._body, self._names, self.columns = text, where, body, names, columns

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"

    def evaluate(self, frame: pd.DataFrame, frame_name: str = "frame") -> np.ndarray:
        """One boolean per row of ``frame`` (missing results count as False).

        Raises
        ------
        SchemaError
            A column the rule names is missing (or appears twice); the message lists the available columns.
        RuleError
            The rule cannot be computed on these columns (e.g. ``and`` over a number, text compared with
            a number, arithmetic on text), or does not give booleans.
        """
        ev = _Evaluator(self, frame, frame_name)
        try:
            with np.errstate(all="ignore"):
                value = ev.compute(self._body)
        except (RuleError, SchemaError):
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise _refuse(self.where, self.text, f"could not be evaluated on the {frame_name}: "
                                                 f"{type(exc).__name__}: {exc}") from exc
        return ev.to_mask(value, len(frame))


def _literal(node):
    """The value of a checked list element: a constant, or a signed numeric constant."""
    if isinstance(node, ast.UnaryOp):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    return node.value


class _Evaluator:
    """Computes a checked syntax tree on one frame, with pandas operators on its columns (RangeIndex-aligned)."""

    def __init__(self, cond: Condition, frame: pd.DataFrame, frame_name: str):
        self.cond, self.frame, self.frame_name = cond, frame, frame_name

    def fail(self, problem: str):
        raise _refuse(self.cond.where, self.cond.text, problem)

    def column(self, node) -> pd.Series:
        name = self.cond._names.get(node.id, node.id)
        frame, rule = self.frame, _label(self.cond.where, self.cond.text)
        if name in frame.columns:
            s = frame[name]
            if isinstance(s, pd.DataFrame):
                raise SchemaError(self.frame_name, name, f"{rule} reads column {name!r}, which appears "
                                  f"{s.shape[1]} times in the frame; rename the duplicates.")
            return s.reset_index(drop=True)
        if name in [n for n in frame.index.names if n is not None]:
            return pd.Series(frame.index.get_level_values(name))
        cols = [str(c) for c in frame.columns]
        shown = cols if len(cols) <= 30 else cols[:30] + [f"... ({len(cols)} in all)"]
        raise SchemaError(self.frame_name, name, f"{rule} refers to a missing column {name!r}; "
                          f"columns available: {shown}")

    def compute(self, node):
        if isinstance(node, ast.Name):
            return self.column(node)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Compare):
            left, out = self.compute(node.left), None
            for op, right_node in zip(node.ops, node.comparators):
                if type(op) in (ast.In, ast.NotIn):
                    values = [_literal(e) for e in right_node.elts]
                    res = left.isin(values) if isinstance(left, pd.Series) else left in values
                    res = _not(res) if isinstance(op, ast.NotIn) else res
                else:
                    right = self.compute(right_node)
                    res = _COMPARE[type(op)](left, right)
                    left = right
                out = res if out is None else out & res
            return out
        if isinstance(node, ast.BoolOp):
            vals = [self.boolean(self.compute(v), v) for v in node.values]
            combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
            out = vals[0]
            for v in vals[1:]:
                out = combine(out, v)
            return out
        if isinstance(node, ast.UnaryOp):
            v = self.compute(node.operand)
            if isinstance(node.op, (ast.Not, ast.Invert)):
                return _not(self.boolean(v, node.operand))
            v = self.numeric(v, node.operand)
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BinOp):
            left = self.numeric(self.compute(node.left), node.left)
            right = self.numeric(self.compute(node.right), node.right)
            if not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
                left, right = np.float64(left), np.float64(right)  # constants: bounded float arithmetic
            return _ARITH[type(node.op)](left, right)
        s = self.column(node.func.value)  # the only call the checker lets through: col.isna() / col.notna()
        return s.isna() if _METHODS[node.func.attr] == "isna" else s.notna()

    def boolean(self, v, node):
        if isinstance(v, pd.Series) and is_bool_dtype(v.dtype) or isinstance(v, (bool, np.bool_)):
            return v
        got = f"dtype {v.dtype}" if isinstance(v, pd.Series) else repr(v)
        self.fail(f"'and' / 'or' / 'not' need conditions, but {ast.unparse(node)!r} gives {got}; "
                  f"compare it, e.g. {ast.unparse(node)} > 0.")

    def numeric(self, v, node):
        if isinstance(v, pd.Series) and is_numeric_dtype(v.dtype) or isinstance(v, (int, float, np.number)):
            return v
        got = f"dtype {v.dtype}" if isinstance(v, pd.Series) else repr(v)
        self.fail(f"arithmetic needs numbers, but {ast.unparse(node)!r} gives {got}.")

    def to_mask(self, value, n: int) -> np.ndarray:
        if isinstance(value, (bool, np.bool_)):
            return np.full(n, bool(value))
        if isinstance(value, pd.Series) and is_bool_dtype(value.dtype):
            return value.fillna(False).to_numpy(dtype=bool) if value.hasnans else value.to_numpy(dtype=bool)
        got = f"dtype {value.dtype}" if isinstance(value, pd.Series) else repr(value)
        self.fail(f"must give one boolean per row, but gives {got}; write a condition such as "
                  "'x > 0' or 'x == True'.")


def _not(v):
    return ~v if isinstance(v, pd.Series) else not v

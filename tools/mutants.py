"""Mutants of the solution code: one small change to the lines between the SOLUTION markers.

Each mutant changes exactly one place of one solution cell, found with `ast` and edited in the
cell's text (so every other character of the cell, markers and comments included, stays as it
was). Every mutant is checked before it is kept: the mutated cell must parse, its syntax tree
must be the original tree with exactly the intended change, and the text outside the solution
regions must be unchanged. The same notebook always gives the same mutants, in the same order,
with the same ids: `<grade_id>:<line>:<operator>:<n>` (the line is counted in the cell, `n`
numbers the mutants of one operator on one line).

The operators (`OPERATORS`, in the order they are tried at each place):

  arithmetic  + <-> -, * <-> /, // -> /, ** -> *, @ -> * (also in `+=`, `-=`, ...)
  comparison  < <-> <=, > <-> >=, == <-> !=, is <-> is not, in <-> not in
  boolean     and <-> or
  constant    n -> n+1 (0 -> 1, 1 -> 0), float x -> 1.1 x (0.0 -> 1.0), True <-> False
  negation    -x -> x, not x -> x, ~x -> x
  dtype       np.float32 <-> np.float64 ("float32" <-> "float64"), dtype= removed, .astype(...) removed
  copy        .copy() removed, np.array -> np.asarray, copy.deepcopy(x) / copy.copy(x) / np.copy(x) -> x
  axis        axis= / dim= 0 <-> 1, -1 <-> -2, None -> 0, a variable -> None; keepdims flipped
  return      return x -> return None
  statement   a statement replaced by `pass`
  reorder     two adjacent statements swapped (not when the swap provably changes nothing, see _independent)
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize
from dataclasses import dataclass
from typing import Callable

from tools.conventions import SOLUTION_MARKER_LINE, NotebookError, grade_id, is_solution, source_text

__all__ = ["OPERATORS", "Mutant", "cell_mutants", "notebook_mutants", "solution_regions"]

OPERATORS = (
    "arithmetic", "comparison", "boolean", "constant", "negation", "dtype", "copy", "axis",
    "return", "statement", "reorder",
)


@dataclass(frozen=True)
class Mutant:
    id: str  # <grade_id>:<line>:<operator>:<n>
    cell: str  # grade_id of the solution cell
    cell_index: int  # position of the cell in the notebook
    line: int  # 1-based line in the cell where the change starts
    operator: str
    diff: str  # the change on one line: "before -> after"
    source: str  # the whole mutated cell


def solution_regions(text: str) -> list[tuple[int, int]]:
    """(begin, end): 1-based line numbers of each BEGIN / END SOLUTION marker pair of a cell."""
    regions, begin = [], None
    for number, line in enumerate(text.split("\n"), start=1):
        match = SOLUTION_MARKER_LINE.match(line)
        if not match:
            continue
        if match.group(1) == "BEGIN":
            if begin is not None:
                raise NotebookError(f"line {number}: BEGIN SOLUTION inside another solution region")
            begin = number
        else:
            if begin is None:
                raise NotebookError(f"line {number}: END SOLUTION without a BEGIN SOLUTION")
            regions.append((begin, number))
            begin = None
    if begin is not None:
        raise NotebookError(f"line {begin}: BEGIN SOLUTION is never closed")
    return regions


def notebook_mutants(notebook: dict, operators=OPERATORS) -> list[Mutant]:
    """Every mutant of every solution cell, in notebook order."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") == "code" and is_solution(cell):
            found += cell_mutants(source_text(cell), grade_id(cell) or f"cell-{index}", index, operators)
    return found


def cell_mutants(text: str, cell_id: str, cell_index: int = 0, operators=OPERATORS) -> list[Mutant]:
    """The mutants of one solution cell's source (no mutant when it has no solution region)."""
    regions = solution_regions(text)
    if not regions:
        return []
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise NotebookError(f"solution cell {cell_id} is not valid Python: {error}") from error
    finder = _Finder(text, tree, regions)
    changes = [change for change in finder.changes() if change.operator in operators]
    changes.sort(key=lambda c: (c.line, c.col, OPERATORS.index(c.operator), c.order))
    seen, mutants, counts = {text}, [], {}
    outside = _outside_regions(text, regions)
    for change in changes:
        mutated = _realise(text, change)
        if mutated is None or mutated in seen:
            continue
        try:
            if _outside_regions(mutated, solution_regions(mutated)) != outside:
                continue
        except NotebookError:
            continue
        seen.add(mutated)
        key = (change.line, change.operator)
        counts[key] = counts.get(key, -1) + 1
        mutants.append(Mutant(
            f"{cell_id}:{change.line}:{change.operator}:{counts[key]}", cell_id, cell_index,
            change.line, change.operator, change.describe or one_line_diff(text, mutated), mutated,
        ))
    return mutants


def one_line_diff(before: str, after: str, width: int = 110) -> str:
    """The changed lines of a cell as `old -> new` on one line (stripped, ' / ' between lines)."""
    old_lines, new_lines = before.split("\n"), after.split("\n")
    old, new = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag != "equal":
            old += [line.strip() for line in old_lines[i1:i2]]
            new += [line.strip() for line in new_lines[j1:j2]]

    def short(lines):
        text = " / ".join(line for line in lines if line) or "(nothing)"
        return text if len(text) <= width else text[: width - 3] + "..."

    return f"{short(old)} -> {short(new)}"


# ---------------------------------------------------------------------------------------------
# Changes: text edits plus the same change applied to a fresh syntax tree, to check the edit.


@dataclass
class _Change:
    operator: str
    line: int
    col: int
    order: int
    edits: list  # (start offset, end offset, replacement) in the cell text, not overlapping
    apply: Callable  # apply(nodes, parents): make the same change in a fresh tree's walk order
    wrap: bool = False  # the single edit replaces an expression: retry it in parentheses
    describe: str | None = None  # the one-line diff, when a line diff would not show the change


def _realise(text: str, change: _Change) -> str | None:
    """The mutated text, or None when the edit does not give exactly the intended tree."""
    expected = ast.parse(text)
    nodes = list(ast.walk(expected))
    change.apply(nodes, _parents(expected))
    wanted = ast.dump(expected)
    attempts = [change.edits]
    if change.wrap:
        attempts.append([(start, end, f"({new})") for start, end, new in change.edits])
    for edits in attempts:
        mutated = text
        for start, end, new in sorted(edits, reverse=True):
            mutated = mutated[:start] + new + mutated[end:]
        try:
            if ast.dump(ast.parse(mutated)) == wanted:
                return mutated
        except SyntaxError:
            continue
    return None


def _outside_regions(text: str, regions) -> list[str]:
    lines = text.split("\n")
    inside = set()
    for begin, end in regions:
        inside.update(range(begin + 1, end))
    return [line for number, line in enumerate(lines, start=1) if number not in inside]


def _parents(tree: ast.AST) -> dict:
    return {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _replace_in_parent(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise ValueError("node not found in its parent")


def _number(value) -> ast.expr:
    """The tree of a number literal as Python parses it (a negative number is a unary minus)."""
    if value < 0 or (isinstance(value, float) and str(value).startswith("-")):
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _literal_number(node) -> int | float | None:
    """The value of `3`, `-1`, `2.5`, `-0.5` (never bools)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal_number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _changed_number(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return {0: 1, 1: 0}.get(value, value + 1)
    if value == 0:
        return 1.0
    changed = float(format(value * 1.1, ".6g"))
    return changed if changed != value else None


ARITHMETIC = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.MatMult: ast.Mult,
}
SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**",
    ast.MatMult: "@", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
    ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
    ast.And: "and", ast.Or: "or",
}
COMPARISON = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
AXIS_KEYWORDS = ("axis", "dim")
NUMPY = ("np", "numpy")
FLOAT_DTYPES = {"float32": "float64", "float64": "float32"}
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
BODY_FIELDS = ("body", "orelse", "finalbody")


class _Finder:
    """Walks one cell's tree and proposes every change inside its solution regions."""

    def __init__(self, text: str, tree: ast.Module, regions):
        self.text, self.tree, self.regions = text, tree, regions
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self.nodes = list(ast.walk(tree))
        self.index = {id(node): i for i, node in enumerate(self.nodes)}
        self.parent = _parents(tree)
        self.tokens = [
            (self.offset(*token.start, chars=True), self.offset(*token.end, chars=True), token.string)
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type in (tokenize.OP, tokenize.NAME)
        ]
        self.skipped = set()  # nodes never mutated: f-string parts and docstrings
        for node in self.nodes:
            if isinstance(node, ast.JoinedStr) or self.is_docstring(node):
                self.skipped.update(id(inner) for inner in ast.walk(node))
        self.found: list[_Change] = []

    # -- positions -------------------------------------------------------------------------

    def offset(self, lineno: int, col: int, chars: bool = False) -> int:
        """Text offset of (line, column); ast columns count UTF-8 bytes, tokenize's count characters."""
        line = self.lines[lineno - 1]
        if not chars:
            col = len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return self.starts[lineno - 1] + col

    def span(self, node) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def first_line(self, node) -> int:
        decorators = getattr(node, "decorator_list", None) or []
        return min([node.lineno] + [d.lineno for d in decorators])

    def in_region(self, node) -> bool:
        if not hasattr(node, "lineno") or id(node) in self.skipped:
            return False
        first, last = self.first_line(node), node.end_lineno
        return any(begin < first and last < end for begin, end in self.regions)

    def is_docstring(self, node) -> bool:
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return False
        parent = self.parent.get(id(node))
        return isinstance(parent, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and parent.body[0] is node

    def tokens_between(self, start: int, end: int, wanted=None) -> list:
        return [t for t in self.tokens if start <= t[0] and t[1] <= end and (wanted is None or t[2] in wanted)]

    # -- recording changes -----------------------------------------------------------------

    def add(self, operator, node, edits, apply, wrap=False, describe=None):
        self.found.append(
            _Change(operator, self.first_line(node), node.col_offset, len(self.found), edits, apply, wrap, describe)
        )

    def replace_expr(self, operator, node, new_text, build):
        """Replace expression `node` by `new_text`; `build(fresh_node)` gives the intended new node."""
        i = self.index[id(node)]

        def apply(nodes, parents):
            _replace_in_parent(parents[id(nodes[i])], nodes[i], build(nodes[i]))

        start, end = self.span(node)
        self.add(operator, node, [(start, end, new_text)], apply, wrap=True)

    def modify(self, operator, node, edits, change):
        """Edit tokens of `node`; `change(fresh_node)` makes the same change in place."""
        i = self.index[id(node)]
        self.add(operator, node, edits, lambda nodes, parents: change(nodes[i]))

    # -- the operators ---------------------------------------------------------------------

    def changes(self) -> list[_Change]:
        for node in self.nodes:
            if not self.in_region(node):
                continue
            for visit in (self.arithmetic, self.comparison, self.boolean, self.constant, self.negation,
                          self.dtype, self.copy, self.axis, self.returned, self.statement):
                visit(node)
        self.reorder()
        return self.found

    def operator_token(self, left, right, symbol):
        tokens = self.tokens_between(self.span(left)[1], self.span(right)[0], {symbol})
        return tokens[0] if tokens else None

    def arithmetic(self, node):
        if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
            token = self.operator_token(node.left, node.right, SYMBOLS[type(node.op)])
            new = ARITHMETIC[type(node.op)]
        elif isinstance(node, ast.AugAssign) and type(node.op) in ARITHMETIC:
            token = self.operator_token(node.target, node.value, SYMBOLS[type(node.op)] + "=")
            new = ARITHMETIC[type(node.op)]
        else:
            return
        if token:
            suffix = "=" if isinstance(node, ast.AugAssign) else ""
            self.modify("arithmetic", node, [(token[0], token[1], SYMBOLS[new] + suffix)],
                        lambda fresh: setattr(fresh, "op", new()))

    def comparison(self, node):
        if not isinstance(node, ast.Compare):
            return
        operands = [node.left] + node.comparators
        for position, op in enumerate(node.ops):
            if type(op) not in COMPARISON:
                continue
            words = set(SYMBOLS[type(op)].split())
            tokens = self.tokens_between(self.span(operands[position])[1], self.span(operands[position + 1])[0], words)
            if not tokens:
                continue
            new = COMPARISON[type(op)]

            def change(fresh, position=position, new=new):
                fresh.ops[position] = new()

            self.modify("comparison", node, [(tokens[0][0], tokens[-1][1], SYMBOLS[new])], change)

    def boolean(self, node):
        if not isinstance(node, ast.BoolOp):
            return
        old = SYMBOLS[type(node.op)]
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        edits = []
        for left, right in zip(node.values, node.values[1:], strict=False):
            tokens = self.tokens_between(self.span(left)[1], self.span(right)[0], {old})
            if not tokens:
                return
            edits.append((tokens[0][0], tokens[0][1], SYMBOLS[new]))
        self.modify("boolean", node, edits, lambda fresh: setattr(fresh, "op", new()))

    def keyword_of(self, node):
        parent = self.parent.get(id(node))
        return parent.arg if isinstance(parent, ast.keyword) else None

    def constant(self, node):
        if self.keyword_of(node) in AXIS_KEYWORDS + ("keepdims",):
            return  # the axis operator changes these
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            value = node.value
        else:
            value = _literal_number(node)
            parent = self.parent.get(id(node))
            if value is None or (isinstance(node, ast.Constant) and _literal_number(parent) is not None):
                return  # not a number, or the 1 of a -1 (the whole literal is changed instead)
        new = _changed_number(value)
        if new is None:
            return
        self.replace_expr("constant", node, repr(new), lambda fresh: _number(new) if not isinstance(new, bool)
                          else ast.Constant(new))

    def negation(self, node):
        if not isinstance(node, ast.UnaryOp) or not isinstance(node.op, (ast.USub, ast.Not, ast.Invert)):
            return
        if _literal_number(node) is not None:
            return  # -1 is a constant, changed by the constant operator
        self.replace_expr("negation", node, self.segment(node.operand), lambda fresh: fresh.operand)

    def dtype(self, node):
        if (isinstance(node, ast.Attribute) and node.attr in FLOAT_DTYPES and isinstance(node.value, ast.Name)
                and node.value.id in NUMPY):
            other = FLOAT_DTYPES[node.attr]
            self.replace_expr("dtype", node, f"{node.value.id}.{other}",
                              lambda fresh: ast.Attribute(fresh.value, other, ast.Load()))
        elif isinstance(node, ast.Constant) and node.value in FLOAT_DTYPES:
            other = FLOAT_DTYPES[node.value]
            self.replace_expr("dtype", node, repr(other), lambda fresh: ast.Constant(other))
        elif isinstance(node, ast.Call):
            for position, keyword in enumerate(node.keywords):
                if keyword.arg == "dtype":
                    self.remove_keyword(node, position)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "astype":
                self.replace_expr("dtype", node, self.segment(node.func.value), lambda fresh: fresh.func.value)

    def remove_keyword(self, call, position):
        keyword = call.keywords[position]
        arguments = sorted(call.args + call.keywords, key=lambda n: (n.lineno, n.col_offset))
        where = next(i for i, n in enumerate(arguments) if n is keyword)
        start, end = self.span(keyword)
        if where > 0:
            start = self.span(arguments[where - 1])[1]
        elif len(arguments) > 1:
            end = self.span(arguments[1])[0]

        def change(fresh):
            del fresh.keywords[position]

        self.modify("dtype", call, [(start, end, "")], change)

    def copy(self, node):
        if not isinstance(node, ast.Call):
            return
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "copy" and not node.args and not node.keywords:
            self.replace_expr("copy", node, self.segment(func.value), lambda fresh: fresh.func.value)
        elif isinstance(func, ast.Attribute) and func.attr == "array" and isinstance(func.value, ast.Name) \
                and func.value.id in NUMPY:
            self.replace_expr("copy", func, f"{func.value.id}.asarray",
                              lambda fresh: ast.Attribute(fresh.value, "asarray", ast.Load()))
        elif len(node.args) == 1 and not node.keywords and not isinstance(node.args[0], ast.Starred) and (
            (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
             and (func.value.id, func.attr) in {("copy", "deepcopy"), ("copy", "copy"), ("np", "copy"), ("numpy", "copy")})
            or (isinstance(func, ast.Name) and func.id == "deepcopy")
        ):
            self.replace_expr("copy", node, self.segment(node.args[0]), lambda fresh: fresh.args[0])

    def axis(self, node):
        if not isinstance(node, ast.keyword) or node.arg not in AXIS_KEYWORDS + ("keepdims",):
            return
        value = node.value
        if node.arg == "keepdims":
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                new_text, build = repr(not value.value), (lambda fresh: ast.Constant(not fresh.value))
            else:
                new_text, build = f"not {self.segment(value)}", (lambda fresh: ast.UnaryOp(ast.Not(), fresh))
        else:
            number = _literal_number(value)
            if isinstance(value, ast.Constant) and value.value is None:
                new = 0
            elif isinstance(number, int):
                new = {0: 1, 1: 0, -1: -2, -2: -1}.get(number, 0)
            elif isinstance(value, ast.Constant):
                return
            else:
                new = None
            new_text = repr(new)
            build = (lambda fresh: ast.Constant(None)) if new is None else (lambda fresh: _number(new))
        self.replace_expr("axis", value, new_text, build)

    def returned(self, node):
        if isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None
        ):
            self.replace_expr("return", node.value, "None", lambda fresh: ast.Constant(None))

    def statement(self, node):
        if not isinstance(node, ast.stmt) or isinstance(node, (ast.Pass, ast.Global, ast.Nonlocal)):
            return
        if isinstance(node, ast.Return) and node.value is not None:
            return  # the return operator covers it
        start = self.offset(self.first_line(node), node.col_offset)
        end = self.span(node)[1]
        i = self.index[id(node)]

        def apply(nodes, parents):
            _replace_in_parent(parents[id(nodes[i])], nodes[i], ast.Pass())

        self.add("statement", node, [(start, end, "pass")], apply)

    # -- reordering --------------------------------------------------------------------------

    def owns_lines(self, node) -> bool:
        """Only whitespace before the statement on its first line, only a comment after it."""
        first = self.lines[self.first_line(node) - 1]
        before = first[: len(first.encode("utf-8")[: node.col_offset].decode("utf-8", errors="ignore"))]
        last = self.lines[node.end_lineno - 1]
        after = last[len(last.encode("utf-8")[: node.end_col_offset].decode("utf-8", errors="ignore")):]
        return not before.strip() and (not after.strip() or after.strip().startswith("#"))

    def reorder(self):
        for parent in self.nodes:
            bodies = [(name, None, getattr(parent, name, None)) for name in BODY_FIELDS]
            bodies += [(None, k, handler.body) for k, handler in enumerate(getattr(parent, "handlers", []))]
            for name, handler, body in bodies:
                if not isinstance(body, list):
                    continue
                for position in range(len(body) - 1):
                    first, second = body[position], body[position + 1]
                    if not all(isinstance(s, ast.stmt) and self.in_region(s) and self.owns_lines(s) for s in (first, second)):
                        continue
                    if not _independent(first, second):
                        self.swap(parent, name, handler, body, position)

    def swap(self, parent, name, handler, body, position):
        first, second = body[position], body[position + 1]
        a, b = self.first_line(first) - 1, first.end_lineno  # self.lines[a:b] hold the first statement
        c, d = self.first_line(second) - 1, second.end_lineno
        block = self.lines[c:d] + self.lines[b:c] + self.lines[a:b]
        i = self.index[id(parent)]

        def apply(nodes, parents):
            fresh = getattr(nodes[i], name) if name else nodes[i].handlers[handler].body
            fresh[position], fresh[position + 1] = fresh[position + 1], fresh[position]

        describe = f"swapped: {self.lines[a].strip()} <-> {self.lines[c].strip()}"
        self.add("reorder", first, [(self.starts[a], self.starts[d] - 1, "\n".join(block))], apply, describe=describe)


def _bound_names(node) -> set[str]:
    names = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, (ast.Store, ast.Del)):
            names.add(inner.id)
        elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and inner is node:
            names.add(inner.name)
        elif isinstance(inner, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in inner.names)
    return names


def _mentioned_names(node) -> set[str]:
    return {inner.id for inner in ast.walk(node) if isinstance(inner, ast.Name)}


def _pure_assignment(node) -> bool:
    """`name = expression` (or `+=`) without calls: swapping two unrelated ones changes nothing."""
    if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not all(isinstance(t, ast.Name) for target in targets for t in ast.walk(target)
               if isinstance(t, (ast.Name, ast.Attribute, ast.Subscript, ast.Starred))):
        return False
    return not any(isinstance(inner, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr))
                   for inner in ast.walk(node))


def _inert_assignment(node) -> bool:
    """`name = other.attribute` (names, attributes, constants, tuples of them): it can neither fail nor act."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return all(isinstance(t, (ast.Name, ast.Tuple, ast.List, ast.expr_context)) for target in targets for t in ast.walk(target)) \
        and all(isinstance(v, (ast.Name, ast.Attribute, ast.Constant, ast.Tuple, ast.List, ast.expr_context))
                for v in ast.walk(node.value))


def _stored_attributes(node) -> set[str]:
    return {inner.attr for inner in ast.walk(node) if isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Store)}


def _read_attributes(node) -> set[str]:
    return {inner.attr for inner in ast.walk(node) if isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Load)}


def _independent(first, second) -> bool:
    """Swapping cannot change behaviour: two unrelated definitions, two unrelated pure assignments,
    or an inert assignment next to a statement that neither uses its name nor rebinds what it reads."""
    first_bound, second_bound = _bound_names(first), _bound_names(second)
    unrelated = not (first_bound & (_mentioned_names(second) | second_bound)) and not (second_bound & _mentioned_names(first))
    if not unrelated:
        return False
    if isinstance(first, DEFINITIONS) and isinstance(second, DEFINITIONS):
        return True
    if _pure_assignment(first) and _pure_assignment(second):
        return True
    for inert, other in ((first, second), (second, first)):
        if _inert_assignment(inert) and not _read_attributes(inert) & _stored_attributes(other):
            return True
    return False

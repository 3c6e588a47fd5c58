"""docs/course.md ("How TinyTorch fits together") agrees with the repository.

The page's dependency table, milestone table and Mermaid diagram are compared with the real imports:
the AST of every file under tinytorch/ and of every milestone notebook, with package modules mapped to
course modules by the export directives of source/*/*.ipynb (`#| default_exp`, and `#| export core.x`
for the files a notebook exports besides its own). The page must also name every module folder under
source/ and every notebook under notebooks/, and the files, make targets and anchors it cites must exist.

A course module or milestone that the page describes before it is in the repository (a module folder
under source/ or a notebook under notebooks/ that does not exist yet) is left out of the comparison;
once it exists, its rows are checked like every other.
"""

import ast
import re
from functools import cache

import pytest

from tools import bundle
from tools import conventions as cv
from tools.conventions import ROOT, source_text
from tools.notebooks import read

PAGE = ROOT / "docs" / "course.md"
PACKAGE_DIR = ROOT / cv.PACKAGE
NONE = "—"  # an empty cell of the page's tables

DEPENDENCY_HEADER = "| package file | built in | imports from | imported by | milestones |"
COLUMNS = ("built in", "imports from", "imported by", "milestones")
MILESTONE_HEADER = "| milestone | what it shows | runs after |"
NUMBER = re.compile(r"\b(\d\d)\b")
NAMED_MODULE = re.compile(r"\b(\d\d)_[a-z][a-z0-9_]*\b")


# ---------------------------------------------------------------------------------------------
# The repository: course modules, package files, milestones and their imports.

@cache
def course_modules() -> dict[str, str]:
    """Module number -> folder ("01" -> "01_tensor") for every module folder under source/."""
    return {name[:2]: name for name in cv.module_names()}


@cache
def milestones() -> dict[str, str]:
    """Milestone number -> name ("01" -> "01_perceptron_1957") for every notebook under notebooks/."""
    return {path.stem[:2]: path.stem for path in bundle.milestone_notebooks()}


def dotted_of(path) -> str:
    """tinytorch/core/tensor.py -> "core.tensor"; tinytorch/__init__.py -> "" (the package itself)."""
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def file_of(dotted: str) -> str:
    """The file of a package module: core.tensor -> tinytorch/core/tensor.py, nn -> tinytorch/nn/__init__.py."""
    return package_files()[dotted].relative_to(ROOT).as_posix()


@cache
def package_files() -> dict:
    return {dotted_of(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


@cache
def owners() -> dict[str, str]:
    """Package module -> number of the course module whose notebook exports it ("core.batching" -> "07")."""
    return {dotted: module[:2] for dotted, module in bundle.owners().items()}


def imported_modules(tree: ast.AST) -> set[str]:
    """The package modules (below tinytorch; "" for tinytorch itself) that a piece of code imports."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from tinytorch import nn` imports the sub-package nn, `from tinytorch import Tensor` the package.
            below = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name for name in below if name.split(".", 1)[1] in package_files()] or [node.module]
        else:
            continue
        for name in names:
            if name == cv.PACKAGE:
                found.add("")
            elif name.startswith(cv.PACKAGE + "."):
                found.add(name.split(".", 1)[1])
    return found


@cache
def file_imports() -> dict[str, frozenset]:
    """Package module -> the package modules its file imports (anywhere in it, lazy imports included)."""
    return {dotted: frozenset(imported_modules(ast.parse(path.read_text(encoding="utf-8"))) - {dotted})
            for dotted, path in package_files().items()}


def course_modules_behind(dotted: str, seen: frozenset = frozenset()) -> set[str]:
    """The course modules that importing `dotted` brings in: its owner, or, for a namespace file (tinytorch,
    tinytorch.nn, ...), the course modules behind everything it imports."""
    if dotted in owners():
        return {owners()[dotted]}
    found = set()
    for imported in file_imports()[dotted] - seen:
        found |= course_modules_behind(imported, seen | {dotted})
    return found


@cache
def milestone_imports() -> dict[str, frozenset]:
    """Milestone number -> the package modules its code cells import."""
    found = {}
    for number, name in milestones().items():
        cells = read(ROOT / "notebooks" / f"{name}.ipynb")["cells"]
        found[number] = frozenset().union(*(imported_modules(ast.parse(source_text(c))) for c in cells
                                            if c["cell_type"] == "code"))
    return found


def listed() -> list[str]:
    """The package files the dependency table must list: every file a course module exports, and every
    namespace file that imports something (tinytorch, nn, nn.functional, optim)."""
    return [dotted for dotted in package_files() if dotted in owners() or file_imports()[dotted]]


def expected_row(dotted: str) -> dict[str, set[str]]:
    own = owners().get(dotted)
    imports = set().union(*(course_modules_behind(d) for d in file_imports()[dotted])) - {own}
    # tinytorch/testing.py (module 01's file of test helpers) counts as a user of nothing: its lazy imports of
    # the Tensor and autograd serve module 05's test cells, not module 01's framework.
    imported_by = {owners()[other] for other, theirs in file_imports().items()
                   if dotted in theirs and other in owners() and other != cv.TEST_HELPERS} - {own}
    used_by_milestones = {number for number, theirs in milestone_imports().items() if dotted in theirs}
    return {"built in": {own} if own else set(), "imports from": imports, "imported by": imported_by,
            "milestones": used_by_milestones}


def module_graph() -> dict[str, set[str]]:
    """Course module -> the earlier course modules its package files import (tinytorch/testing.py left out:
    it holds the test helpers every module's test cells import, not module 01's framework code)."""
    graph = {number: set() for number in course_modules()}
    for dotted, imports in file_imports().items():
        if dotted in owners() and dotted != cv.TEST_HELPERS:
            graph[owners()[dotted]] |= {owners()[d] for d in imports if d in owners()} - {owners()[dotted]}
    return graph


def reachable(graph: dict[str, set[str]], start: str, skipped_edge=None) -> set[str]:
    seen, todo = set(), [n for n in graph[start] if (start, n) != skipped_edge]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def transitive_reduction(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The edges (earlier, later) that no longer path implies: the unique smallest drawing of a DAG."""
    return {(earlier, later) for later, needs in graph.items() for earlier in needs
            if earlier not in reachable(graph, later, skipped_edge=(later, earlier))}


# ---------------------------------------------------------------------------------------------
# The page.

@cache
def page() -> str:
    assert PAGE.exists(), f"{PAGE.relative_to(ROOT)} is missing"
    return PAGE.read_text(encoding="utf-8")


def table(header: str) -> list[list[str]]:
    """The rows (lists of cell texts) of the page's table that starts with `header`."""
    lines = page().splitlines()
    assert header in lines, f"docs/course.md has no table with the header {header!r}"
    rows = []
    for line in lines[lines.index(header) + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def numbers(cell: str) -> set[str]:
    return set() if cell == NONE else set(NUMBER.findall(cell))


def documented_rows() -> dict[str, dict[str, set[str]]]:
    rows = {}
    for cells in table(DEPENDENCY_HEADER):
        assert len(cells) == 5, f"dependency table row {cells} should have 5 cells"
        file = re.fullmatch(r"`(tinytorch/[a-z_/]+\.py)`", cells[0])
        assert file, f"dependency table: {cells[0]!r} should be a package file in backticks, e.g. `tinytorch/core/tensor.py`"
        assert file[1] not in rows, f"dependency table lists {file[1]} twice"
        rows[file[1]] = dict(zip(COLUMNS, map(numbers, cells[1:]), strict=True))
    return rows


def documented_milestones() -> dict[str, str]:
    """Notebook name -> the course module after which the page says it runs, from the milestone table."""
    documented = {}
    for cells in table(MILESTONE_HEADER):
        name = re.search(r"`(\d\d_[a-z0-9_]+)`", cells[0])
        after = NAMED_MODULE.search(cells[-1])
        assert name and after, f"milestone table row {cells}: name the notebook and the module, e.g. `04_cnn_1998` ... 09_spatial"
        documented[name[1]] = after[0]
    return documented


def pending() -> tuple[set[str], set[str]]:
    """Numbers of the course modules and of the milestones the page describes that are not in the repository
    yet: module folders it names (NN_name) that source/ lacks, and milestone table rows that notebooks/ lacks."""
    planned_milestones = set(documented_milestones())
    named = set(m[0] for m in NAMED_MODULE.finditer(page())) - planned_milestones - set(course_modules().values())
    modules = {name[:2] for name in named} - set(course_modules())
    return modules, {name[:2] for name in planned_milestones} - set(milestones())


def present(file: str, row: dict[str, set[str]]) -> dict[str, set[str]]:
    """A documented row without the course modules and milestones that are still to come."""
    pending_modules, pending_milestones = pending()
    kept = {}
    for column, values in row.items():
        known, to_come = (milestones(), pending_milestones) if column == "milestones" else (course_modules(), pending_modules)
        unknown = values - set(known) - to_come
        assert not unknown, (f"dependency row of {file}, {column}: {sorted(unknown)} is neither in the repository "
                             "nor named on the page")
        kept[column] = values & set(known)
    return kept


def mermaid_edges() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(module -> module edges, module -.-> milestone edges) of the page's Mermaid diagram."""
    blocks = re.findall(r"```mermaid\n(.*?)```", page(), re.S)
    assert len(blocks) == 1 and blocks[0].startswith("graph LR"), "docs/course.md needs one ```mermaid block: graph LR"
    modules = {(a, b) for a, b in re.findall(r"\bm(\d\d)\b[^\n]*?-->\s*m(\d\d)\b", blocks[0])}
    unlocks = {(a, b) for a, b in re.findall(r"\bm(\d\d)\b[^\n]*?-\.->\s*ms(\d\d)\b", blocks[0])}
    return modules, unlocks


# ---------------------------------------------------------------------------------------------
# The checks.

def test_page_names_every_module_folder_and_every_milestone():
    missing = [name for name in list(course_modules().values()) + list(milestones().values()) if name not in page()]
    assert not missing, f"docs/course.md never names {missing}: add them to the arc and the tables"


def test_dependency_table_lists_every_package_file_once():
    documented = documented_rows()
    files = {file_of(dotted) for dotted in listed()}
    missing = sorted(files - set(documented))
    assert not missing, f"the dependency table of docs/course.md has no row for {missing}"
    # A row for a file that does not exist is allowed only while the course module it names is still to come.
    for file, row in documented.items():
        if (ROOT / file).exists():
            continue
        assert row["built in"] and row["built in"] <= pending()[0], (
            f"the dependency table lists {file}, which does not exist, as built in {sorted(row['built in'])}")


def _render(row: dict[str, set[str]]) -> str:
    return " | ".join(" ".join(sorted(values)) or NONE for values in row.values())


@pytest.mark.parametrize("dotted", listed())
def test_dependency_row_matches_the_imports(dotted):
    file = file_of(dotted)
    row = documented_rows().get(file)
    assert row is not None, f"the dependency table has no row for {file}"
    expected, found = expected_row(dotted), present(file, row)
    wrong = [f"{column}: the page says {sorted(found[column]) or NONE}, the code says {sorted(expected[column]) or NONE}"
             for column in expected if found[column] != expected[column]]
    assert not wrong, (f"docs/course.md, dependency row of {file} is wrong ({'; '.join(wrong)}); "
                       f"from the code: | `{file}` | {_render(expected)} |")


def test_milestone_table_says_after_which_module_each_milestone_runs():
    documented = documented_milestones()
    for name in milestones().values():
        needed = bundle.last_module_needed(ROOT / "notebooks" / f"{name}.ipynb")
        assert documented.get(name) == needed, (
            f"docs/course.md: {name} imports modules up to {needed} (tools.bundle.last_module_needed), "
            f"the milestone table says {documented.get(name)}")


def test_mermaid_diagram_draws_the_module_dependencies():
    drawn, unlocks = mermaid_edges()
    modules = set(course_modules())
    drawn_here = {(a, b) for a, b in drawn if a in modules and b in modules}
    unknown = sorted(edge for edge in drawn - drawn_here if not set(edge) & pending()[0])
    assert not unknown, f"the diagram draws edges between modules that are neither in source/ nor named on the page: {unknown}"
    graph = module_graph()
    needed = transitive_reduction(graph)
    assert drawn_here == needed, (
        "docs/course.md's diagram should draw exactly the module dependencies no other path implies "
        f"(an arrow earlier --> later); missing {sorted(needed - drawn_here)}, not needed or wrong "
        f"{sorted(drawn_here - needed)}")
    for number, name in milestones().items():
        after = bundle.last_module_needed(ROOT / "notebooks" / f"{name}.ipynb")[:2]
        assert {a for a, b in unlocks if b == number} == {after}, (
            f"the diagram should unlock milestone {name} from module {after} only (m{after} -.-> ms{number})")


def test_cited_files_make_targets_and_anchors_exist():
    cited = set(re.findall(r"`((?:tests|tools|benchmarks|docs)/[\w./-]+)", page()))
    missing = sorted(path for path in cited if not (ROOT / path.rstrip("/")).exists())
    assert not missing, f"docs/course.md cites files that do not exist: {missing}"
    targets = set(re.findall(r"^([a-z0-9-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))
    unknown = sorted(set(re.findall(r"`make ([a-z0-9-]+)", page())) - targets)
    assert not unknown, f"docs/course.md cites make targets the Makefile does not have: {unknown}"
    for target, anchor in re.findall(r"\]\(((?:\.\./README|design)\.md|)#([a-z0-9-]+)\)", page()):
        text = (PAGE.parent / target).read_text(encoding="utf-8") if target else page()
        headings = re.findall(r"^#+ (.+)$", text, re.M)
        anchors = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
        assert anchor in anchors, f"docs/course.md links to {target or 'itself'}#{anchor}, which has no such heading"

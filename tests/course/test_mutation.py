"""Mutation testing (tools/mutants.py, tools/mutate.py): the operators on a small cell, the runner on
a small synthetic module, and a bounded sample of a real module."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import nbformat
import pytest

from tools.conventions import ROOT, NotebookError, find_cell, grade_id, is_graded, module_notebook
from tools.mutants import OPERATORS, cell_mutants, notebook_mutants, solution_regions
from tools.mutate import load_equivalents, module_report, run_notebook, select_mutants, skippable_demo_cells
from tools.notebooks import read, write

CELL = '''\
#| export
import copy
import numpy as np

LIMIT = 3  # outside the solution: never mutated


def compute(a, b, flag=True):
    """Outside the solution too."""
    ### BEGIN SOLUTION
    total = a + b * 2
    total -= 1.5
    if total < 0 and flag:
        total = -total
    if not flag or total == 3:
        return None
    shift = -(a + b) * 2
    width = len("±√") + 1  # non-ASCII text before the change
    values = np.array([total, shift, width], dtype=np.float32).astype(np.float64)
    kept = copy.deepcopy(values.copy())
    reduced = np.sum(kept, axis=0, keepdims=True)
    scale = 1
    offset = 0
    return reduced * scale + offset
    ### END SOLUTION


def untouched(x):
    return -x + 1 < LIMIT and x is not None
'''


def mutants_by_diff(mutants):
    return {(m.operator, m.diff): m for m in mutants}


def test_every_operator_makes_valid_distinct_mutants_that_leave_everything_else_alone():
    mutants = cell_mutants(CELL, "compute-cell", 4)
    assert {m.operator for m in mutants} == set(OPERATORS)
    (begin, end), = solution_regions(CELL)
    lines = CELL.split("\n")
    sources = [m.source for m in mutants]
    assert len(set(sources)) == len(sources) and CELL not in sources
    for mutant in mutants:
        ast.parse(mutant.source)
        changed = mutant.source.split("\n")
        assert changed[:begin] == lines[:begin], f"{mutant.id} changed the cell before the solution"
        assert changed[len(changed) - (len(lines) - end + 1):] == lines[end - 1:], f"{mutant.id} changed the cell after it"
        assert re.fullmatch(r"compute-cell:\d+:[a-z]+:\d+", mutant.id) and mutant.cell_index == 4
        assert begin < mutant.line < end


def test_operators_make_the_documented_changes():
    found = mutants_by_diff(cell_mutants(CELL, "compute-cell"))
    expected = [
        ("arithmetic", "total = a + b * 2 -> total = a - b * 2"),
        ("arithmetic", "total = a + b * 2 -> total = a + b / 2"),
        ("arithmetic", "total -= 1.5 -> total += 1.5"),
        ("comparison", "if total < 0 and flag: -> if total <= 0 and flag:"),
        ("comparison", "if not flag or total == 3: -> if not flag or total != 3:"),
        ("boolean", "if total < 0 and flag: -> if total < 0 or flag:"),
        ("constant", "total = a + b * 2 -> total = a + b * 3"),
        ("constant", "total -= 1.5 -> total -= 1.65"),
        ("constant", "scale = 1 -> scale = 0"),
        ("constant", "offset = 0 -> offset = 1"),
        ("constant", 'width = len("±√") + 1  # non-ASCII text before the change -> '
                     'width = len("±√") + 0  # non-ASCII text before the change'),
        ("negation", "total = -total -> total = total"),
        ("negation", "if not flag or total == 3: -> if flag or total == 3:"),
        ("negation", "shift = -(a + b) * 2 -> shift = (a + b) * 2"),  # parentheses kept where needed
        ("dtype", "values = np.array([total, shift, width], dtype=np.float32).astype(np.float64) -> "
                  "values = np.array([total, shift, width], dtype=np.float64).astype(np.float64)"),
        ("dtype", "values = np.array([total, shift, width], dtype=np.float32).astype(np.float64) -> "
                  "values = np.array([total, shift, width]).astype(np.float64)"),
        ("dtype", "values = np.array([total, shift, width], dtype=np.float32).astype(np.float64) -> "
                  "values = np.array([total, shift, width], dtype=np.float32)"),
        ("copy", "values = np.array([total, shift, width], dtype=np.float32).astype(np.float64) -> "
                 "values = np.asarray([total, shift, width], dtype=np.float32).astype(np.float64)"),
        ("copy", "kept = copy.deepcopy(values.copy()) -> kept = values.copy()"),
        ("copy", "kept = copy.deepcopy(values.copy()) -> kept = copy.deepcopy(values)"),
        ("axis", "reduced = np.sum(kept, axis=0, keepdims=True) -> reduced = np.sum(kept, axis=1, keepdims=True)"),
        ("axis", "reduced = np.sum(kept, axis=0, keepdims=True) -> reduced = np.sum(kept, axis=0, keepdims=False)"),
        ("return", "return reduced * scale + offset -> return None"),
        ("statement", "total -= 1.5 -> pass"),
        ("statement", "if total < 0 and flag: / total = -total -> pass"),
        ("reorder", "swapped: kept = copy.deepcopy(values.copy()) <-> reduced = np.sum(kept, axis=0, keepdims=True)"),
        ("reorder", "swapped: total -= 1.5 <-> if total < 0 and flag:"),
    ]
    missing = [change for change in expected if change not in found]
    assert not missing, f"missing mutants: {missing}\nfound: {sorted(found)}"
    # Provably harmless changes are not made: `return None` stays, two unrelated constants keep their order.
    assert not any(m.operator == "return" and "return None ->" in m.diff for m in found.values())
    assert ("reorder", "swapped: scale = 1 <-> offset = 0") not in found


def test_mutants_are_deterministic_and_numbered_per_line_and_operator():
    first, second = cell_mutants(CELL, "compute-cell"), cell_mutants(CELL, "compute-cell")
    assert first == second
    ids = [m.id for m in first]
    assert len(set(ids)) == len(ids)
    assert [m.id for m in first if m.id.startswith("compute-cell:11:arithmetic:")] == [
        "compute-cell:11:arithmetic:0", "compute-cell:11:arithmetic:1",
    ]
    lines = [m.line for m in first]
    assert lines == sorted(lines), "mutants come in line order"


def test_only_solution_cells_are_mutated_and_markers_must_pair():
    notebook = synthetic_notebook()
    mutants = notebook_mutants(notebook)
    solution_ids = {"relu", "countdown"}
    assert {m.cell for m in mutants} == solution_ids
    assert cell_mutants("x = 1 + 2\n", "plain") == []
    for broken in ("### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n",
                   "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"):
        with pytest.raises(NotebookError):
            solution_regions(broken)


# ---------------------------------------------------------------------------------------------
# The runner on a synthetic module.


def cell(source, kind, cell_id=None, points=0):
    meta = {"grade": kind == "graded", "grade_id": cell_id, "locked": kind in ("graded", "locked"),
            "schema_version": 3, "solution": kind == "solution", "task": False}
    if kind == "graded":
        meta["points"] = points
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta} if cell_id else {})


def synthetic_notebook():
    cells = [
        cell("import numpy as np", "locked", "setup"),
        cell("def relu(x):\n    ### BEGIN SOLUTION\n    return np.where(x >= 0, x, 0.0)\n    ### END SOLUTION\n\n\n"
             "### BEGIN SOLUTION\nready = True\nassert ready\n### END SOLUTION\n", "solution", "relu"),
        cell("import builtins\nbuiltins.READY = True  # a side effect that relu-test needs", "demo"),
        cell("assert READY\nassert np.array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])",
             "graded", "relu-test", 1),
        cell("print(relu(np.array([-1.0, 2.0])))  # a demo nothing needs", "demo"),
        cell("def countdown(n):\n    ### BEGIN SOLUTION\n    steps = 0\n    while n > 0:\n        n -= 1\n"
             "        steps += 1\n    return steps\n    ### END SOLUTION\n", "solution", "countdown"),
        cell("HELPER = 5", "demo"),
        cell("### BEGIN HIDDEN TESTS\nassert countdown(HELPER) == 5\nassert countdown(0) == 0\n### END HIDDEN TESTS",
             "graded", "countdown-test", 2),
    ]
    return nbformat.v4.new_notebook(cells=cells)


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("mutants") / "99_synthetic" / "99_synthetic.ipynb"
    write(synthetic_notebook(), path)
    mutants = notebook_mutants(read(path))
    raw = run_notebook(path, mutants, jobs=2, timeout=3)
    return mutants, raw


def outcome(run, operator, diff_part):
    mutants, raw = run
    matching = [m for m in mutants if m.operator == operator and diff_part in m.diff]
    assert len(matching) == 1, f"expected one {operator} mutant with {diff_part!r}: {[m.diff for m in matching]}"
    return matching[0], raw["mutants"][matching[0].id]


def test_demo_cells_are_skipped_unless_the_baseline_needs_them(synthetic_run):
    _, raw = synthetic_run
    assert raw["baseline_failures"] == {}
    # HELPER's cell is needed by name; the side-effect cell was put back when relu-test failed without it.
    assert raw["skipped_cells"] == [4]
    notebook = synthetic_notebook()
    cells = [{"kind": "demo" if not c.metadata else "x", "source": c.source} for c in notebook.cells]
    assert {2, 4} <= skippable_demo_cells(cells) and 6 not in skippable_demo_cells(cells)


def test_a_mutant_that_breaks_a_tested_behaviour_is_killed_by_that_test(synthetic_run):
    _, result = outcome(synthetic_run, "return", "np.where")
    assert (result["status"], result["killed_by"]) == ("killed", "relu-test")
    assert result["message"].startswith("AttributeError") or result["message"].startswith("AssertionError")
    _, result = outcome(synthetic_run, "arithmetic", "steps += 1 -> steps -= 1")
    assert (result["status"], result["killed_by"]) == ("killed", "countdown-test")  # a hidden test counts
    _, result = outcome(synthetic_run, "constant", "-> return np.where(x >= 0, x, 1.0)")
    assert (result["status"], result["killed_by"]) == ("killed", "relu-test")


def test_an_equivalent_mutant_survives(synthetic_run):
    _, result = outcome(synthetic_run, "comparison", "-> return np.where(x > 0, x, 0.0)")
    assert (result["status"], result["killed_by"]) == ("survived", None)


def test_an_error_in_the_mutated_cell_alone_does_not_kill(synthetic_run):
    _, result = outcome(synthetic_run, "constant", "ready = True -> ready = False")
    assert result["status"] == "survived"
    assert result["cell_error"].startswith("AssertionError")


def test_an_endless_loop_times_out_and_counts_as_killed(synthetic_run):
    _, result = outcome(synthetic_run, "arithmetic", "n -= 1 -> n += 1")
    assert result["status"] == "timeout"
    assert 3 <= result["seconds"] < 10


def test_report_counts_equivalents_apart(synthetic_run):
    mutants, raw = synthetic_run
    survivor, _ = outcome(synthetic_run, "comparison", "-> return np.where(x > 0, x, 0.0)")
    reason = "at 0 both branches give 0"
    report = module_report("99_synthetic", mutants, mutants, raw, {survivor.id: reason, "gone:1:constant:0": "stale"})
    statuses = [row["status"] for row in report["mutants"]]
    assert report["run"] == len(mutants) and "not run" not in statuses
    assert report["equivalent"] == 1 and report["timeouts"] == statuses.count("timeout") >= 1
    assert report["killed"] == statuses.count("killed") + statuses.count("timeout") + statuses.count("crashed")
    assert report["survived"] == statuses.count("survived") >= 1  # the mutated `ready` is not tested
    assert report["percent_killed"] == round(100 * report["killed"] / (len(mutants) - 1), 1)
    assert report["stale_equivalents"] == ["gone:1:constant:0"]
    row = next(r for r in report["mutants"] if r["id"] == survivor.id)
    assert (row["status"], row["reason"]) == ("equivalent", reason)


def test_equivalents_file_is_valid_and_sampling_is_seeded(tmp_path):
    assert isinstance(load_equivalents(), dict)
    listed = tmp_path / "equivalent.toml"
    listed.write_text('# comment\n[01_tensor]\n"a:1:constant:0" = "same value"\n', encoding="utf-8")
    assert load_equivalents(listed) == {"01_tensor": {"a:1:constant:0": "same value"}}
    listed.write_text('[01_tensor]\n"a:1:constant:0" = ""\n', encoding="utf-8")
    with pytest.raises(NotebookError):
        load_equivalents(listed)
    mutants = cell_mutants(CELL, "compute-cell")
    sample = select_mutants(mutants, 5, seed=3)
    assert sample == select_mutants(mutants, 5, seed=3) and len(sample) == 5
    assert [m for m in mutants if m in sample] == sample, "a sample keeps the mutants' order"
    assert select_mutants(mutants, 5, seed=4) != sample


# ---------------------------------------------------------------------------------------------
# A real module: a bounded sample through the command line, and one mutant whose killer is known.


def test_sample_of_a_real_module(tmp_path):
    report_path = tmp_path / "mutants.json"
    command = [sys.executable, "-m", "tools.mutate", "01_tensor", "--limit", "15", "--seed", "0",
               "--jobs", "1", "--json", str(report_path), "--min-killed", "101"]
    process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert process.returncode == 1, f"below 101% must fail:\n{process.stdout}{process.stderr}"
    report, = json.loads(report_path.read_text(encoding="utf-8"))["modules"]
    assert report["baseline_failures"] == {} and report["run"] == 15 and report["generated"] > 15
    notebook = read(module_notebook("01_tensor"))
    positions = {grade_id(c): i for i, c in enumerate(notebook.cells) if grade_id(c)}
    graded = {grade_id(c) for c in notebook.cells if is_graded(c)}
    for row in report["mutants"]:
        assert row["status"] in ("killed", "survived", "timeout", "crashed", "equivalent"), row
        if row["status"] == "killed":
            assert row["killed_by"] in graded and positions[row["killed_by"]] > positions[row["cell"]], row
            assert row["message"], row
    assert report["killed"] >= 12, f"the 01_tensor tests should kill most sampled mutants:\n{process.stdout}"
    assert "01_tensor: 15 of" in process.stdout and "% killed" in process.stdout
    assert set(report["skipped_cells"]) <= {i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and not c.metadata}


def test_real_mutant_is_killed_by_the_test_of_its_piece():
    path = module_notebook("01_tensor")
    mutants = notebook_mutants(read(path))
    chosen = [m for m in mutants if m.cell == "tensor-reductions" and m.operator == "return"][:1]
    chosen += [m for m in mutants if m.cell == "tensor-class" and m.diff.endswith("-> pass")][:1]
    assert len(chosen) == 2
    raw = run_notebook(path, chosen, jobs=2)
    assert raw["mutants"][chosen[0].id]["killed_by"] == "tensor-reductions-test"
    assert raw["mutants"][chosen[1].id]["status"] == "killed"
    find_cell(read(path), "tensor-reductions-test")  # the killer is a real graded cell

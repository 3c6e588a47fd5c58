"""Sample submissions for the grading round trip: planted bugs and misbehaving notebooks.

Each module lists, in tests/course/planted/NN_name.py, bugs that a plausible learner writes: the visible tests still pass, and
the named hidden integration cells must catch them. Every hidden cell of every module must
be named by at least one bug (tests/course/test_grading.py checks this).
"""

from __future__ import annotations

import copy
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from tools.conventions import find_cell, grade_id, is_graded, is_solution, source_text


@dataclass(frozen=True)
class PlantedBug:
    name: str
    cell: str  # grade_id of the solution cell to change
    find: str  # text that occurs exactly once in that cell
    replace: str
    fails: frozenset  # hidden cells that must drop to 0; every other cell keeps full points


def bug(name, cell, find, replace, *fails):
    return PlantedBug(name, cell, find, replace, frozenset(fails))


def _load_planted_bugs() -> dict[str, list[PlantedBug]]:
    """tests/course/planted/NN_name.py holds BUGS, the planted bugs of module NN_name."""
    found = {}
    for path in sorted(Path(__file__).with_name("planted").glob("[0-9][0-9]_*.py")):
        spec = importlib.util.spec_from_file_location(f"planted_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found[path.stem] = module.BUGS
    return found


PLANTED_BUGS = _load_planted_bugs()


def grade_ids(notebook: dict, kind: str) -> list[str]:
    """grade_ids of the solution cells (kind='solution') or graded test cells (kind='grade')."""
    wanted = {"solution": is_solution, "grade": is_graded}[kind]
    return [grade_id(cell) for cell in notebook["cells"] if wanted(cell)]


def edited(notebook: dict, cell_id: str, change) -> dict:
    """A copy of the notebook with `change(source) -> new source` applied to one cell."""
    result = copy.deepcopy(notebook)
    cell = find_cell(result, cell_id)
    cell["source"] = change(source_text(cell))
    return result


def plant(notebook: dict, planted: PlantedBug) -> dict:
    def change(source):
        count = source.count(planted.find)
        assert count == 1, f"bug {planted.name}: {planted.find!r} occurs {count} times in cell {planted.cell}"
        return source.replace(planted.find, planted.replace)

    return edited(notebook, planted.cell, change)


def without_cell(notebook: dict, cell_id: str) -> dict:
    result = copy.deepcopy(notebook)
    result["cells"] = [c for c in result["cells"] if grade_id(c) != cell_id]
    return result


def with_cell_after_setup(notebook: dict, code: str) -> dict:
    """Insert a plain code cell (the learner's own) right after the first locked setup cell."""
    result = copy.deepcopy(notebook)
    cell = {"cell_type": "code", "metadata": {}, "source": code, "outputs": [], "execution_count": None}
    first_code = next(i for i, c in enumerate(result["cells"]) if c["cell_type"] == "code")
    result["cells"].insert(first_code + 1, cell)
    return result


CHEAT = """\
# A learner trying to fool the checks instead of solving the tasks.
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
def assert_close(*args, **kwargs): pass
def assert_equal(*args, **kwargs): pass
def assert_raises_with(*args, **kwargs): pass
"""
ENDLESS_LOOP = "while True:\n    pass\n"
DEAD_KERNEL = "import os\nos._exit(1)\n"
HUGE_OUTPUT = "\nfor line_number in range(100_000):\n    print('flooding the output', line_number)\n"
SYNTAX_ERROR = "def broken(:\n    pass\n"
FAKE_TEST = "print('all tests passed')\n"


def robustness_sample(modules: list[str]) -> set[str]:
    """The modules whose grading run also gets the submissions that probe nbgrader itself: an endless
    loop, a dead kernel, an output flood, a syntax error, edited test cells and a deleted test cell in an
    unsolved notebook.

    How nbgrader survives those is a property of nbgrader_config.py (timeout, LimitOutput) and of
    nbgrader (locked cells restored by checksum, errors recorded per cell), not of a module's content,
    and each costs a notebook run (the loop also the cell timeout); the first, middle and last module
    prove it (the class-grading test adds sandboxed versions on module 01). What does depend on a
    module's cells, a deleted test cell restored into a solved notebook and a cheater, runs on every module.
    """
    return {modules[0], modules[len(modules) // 2], modules[-1]} if modules else set()


def build_submissions(module: str, source: dict, release: dict, robustness: bool = True) -> dict[str, dict]:
    """Every sample submission for one module, by student id (`robustness`: with the submissions that
    probe nbgrader itself, see `robustness_sample`)."""
    last_solution = grade_ids(source, "solution")[-1]
    first_test = grade_ids(source, "grade")[0]
    submissions = {
        "solution": source,
        "release": release,
        "deleted-test-solution": without_cell(source, first_test),
        "cheater": with_cell_after_setup(release, CHEAT),
    }
    if robustness:
        faked = release
        for test_id in grade_ids(release, "grade"):
            faked = edited(faked, test_id, lambda s: FAKE_TEST)
        submissions["edited-tests"] = faked
        submissions["deleted-test-release"] = without_cell(release, first_test)
        submissions["syntax-error"] = edited(source, last_solution, lambda s: SYNTAX_ERROR)
        submissions["endless-loop"] = edited(source, last_solution, lambda s: ENDLESS_LOOP + s)
        submissions["dead-kernel"] = edited(source, last_solution, lambda s: DEAD_KERNEL + s)
        submissions["huge-output"] = edited(source, last_solution, lambda s: s + HUGE_OUTPUT)
    for planted in PLANTED_BUGS.get(module, []):
        submissions[f"bug-{planted.name}"] = plant(source, planted)
    return submissions

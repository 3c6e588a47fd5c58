"""The grading round trip, with real nbgrader, for every module in source/.

For each module: generate the assignment in a scratch course, submit a set of sample
notebooks (the solution, the untouched release, planted bugs, an endless loop, a syntax
error, a dead kernel, a flood of output, edited and deleted test cells, a cheater), grade
them all in one `nbgrader autograde` run, and generate feedback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from tests.course.nbgrader_course import (
    Course,
    graded_cells,
    hidden_test_lines,
    load_notebook,
    module_names,
    visible_text,
)
from tests.course.submissions import PLANTED_BUGS, build_submissions, grade_ids, robustness_sample
from tools import conventions
from tools.conventions import find_cell, has_hidden_tests, source_text

CELL_TIMEOUT = 30  # seconds per cell while grading the samples
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TRACEBACK_FRAME = re.compile(r"Cell In\[\d+\], line \d+")


@dataclass
class GradingRun:
    module: str
    course: Course
    source: dict
    students: list[str]
    autograde_log: str

    def scores(self, student):
        return self.course.scores(self.module, student)

    @property
    def full_marks(self):
        return {cell.grade_id: cell.points for cell in graded_cells(self.source)}


@pytest.fixture(scope="class")
def run(request, tmp_path_factory) -> GradingRun:
    """One real grading run per module, shared by the checks of that module's class."""
    module = request.cls.module
    course = Course(tmp_path_factory.mktemp(f"grading-{module}"))
    course.generate(module)
    source = load_notebook("source", module)
    release = json.loads((course.root / "release" / module / f"{module}.ipynb").read_text(encoding="utf-8"))
    submissions = build_submissions(module, source, release, robustness=request.cls.robustness)
    for student, notebook in submissions.items():
        course.submit(module, student, notebook)
    result = course.autograde(module, CELL_TIMEOUT)
    feedback = course.feedback(module)
    assert feedback.returncode == 0, f"generate_feedback failed:\n{feedback.stdout}{feedback.stderr}"
    return GradingRun(module, course, source, sorted(submissions), result.stdout + result.stderr)


def cells_before_and_after(run, solution_cell):
    """Graded cells before a solution cell, and the first graded cell after it."""
    cells = run.source["cells"]
    index = next(i for i, cell in enumerate(cells) if conventions.grade_id(cell) == solution_cell)
    before = [conventions.grade_id(cell) for cell in cells[:index] if conventions.is_graded(cell)]
    after = next(conventions.grade_id(cell) for cell in cells[index:] if conventions.is_graded(cell))
    return before, after


def describe(scores, expected):
    return "\n".join(
        f"  {grade_id}: got {scores.get(grade_id)}, expected {points}"
        for grade_id, points in expected.items()
        if scores.get(grade_id) != points
    )


def assert_scores(run, student, expected):
    scores = run.scores(student)
    assert scores, f"{run.module}/{student} was not graded at all. nbgrader said:\n{run.autograde_log[-3000:]}"
    assert scores == expected, f"{run.module}/{student} scored wrongly:\n{describe(scores, expected)}"


class GradingChecks:
    """The checks of one module's grading run; one subclass per module (below) keeps each run on
    one xdist worker (`--dist loadscope` groups tests by class)."""

    module = None
    robustness = False  # the sampled modules also get RobustnessChecks (below)

    def test_solution_scores_full_marks(self, run):
        assert_scores(run, "solution", run.full_marks)

    def test_release_scores_zero_on_every_graded_cell(self, run):
        assert_scores(run, "release", {grade_id: 0.0 for grade_id in run.full_marks})

    def test_hidden_integration_cells_carry_most_points(self, run):
        cells = graded_cells(run.source)
        hidden = sum(c.points for c in cells if c.hidden)
        visible = sum(c.points for c in cells if not c.hidden)
        assert hidden > visible, f"{run.module}: hidden cells give {hidden} points, visible cells {visible}"

    def test_each_planted_bug_loses_exactly_its_hidden_points(self, run):
        bugs = PLANTED_BUGS.get(run.module, [])
        assert bugs, f"{run.module} has no planted bugs in tests/course/planted/{run.module}.py"
        for planted in bugs:
            expected = dict(run.full_marks)
            for grade_id in planted.fails:
                assert grade_id in expected, f"bug {planted.name} names unknown cell {grade_id}"
                expected[grade_id] = 0.0
            assert_scores(run, f"bug-{planted.name}", expected)

    def test_every_hidden_cell_catches_a_planted_bug(self, run):
        hidden = {cell.grade_id for cell in graded_cells(run.source) if cell.hidden}
        caught = set().union(*(planted.fails for planted in PLANTED_BUGS.get(run.module, [])))
        assert hidden <= caught, f"{run.module}: no planted bug shows that {sorted(hidden - caught)} can fail"

    def test_deleted_test_cell_is_restored_and_run(self, run):
        # a module's own matter: the restored cell must pass without names from the cells around it
        assert_scores(run, "deleted-test-solution", run.full_marks)

    def test_patching_numpy_or_helpers_scores_nothing(self, run):
        assert_scores(run, "cheater", {grade_id: 0.0 for grade_id in run.full_marks})

    def test_feedback_shows_no_hidden_test_text(self, run):
        hidden_lines = hidden_test_lines(run.source)
        assert hidden_lines, f"{run.module} has no hidden test lines to look for"
        # A notebook whose kernel died has no autograded result, hence no feedback page.
        for student in [s for s in run.students if s != "dead-kernel"]:
            page = run.course.feedback_page(run.module, student)
            text = visible_text(page)
            leaked = [line for line in hidden_lines if line in text]
            assert not leaked, f"feedback for {student} shows hidden test code: {leaked[:3]}"
            assert "BEGIN HIDDEN TESTS" not in text
        solution_text = visible_text(run.course.feedback_page(run.module, "solution"))
        assert "All checks in this cell passed." in solution_text
        release_text = visible_text(run.course.feedback_page(run.module, "release"))
        assert "did not all pass" in release_text

    def test_feedback_explains_failed_hidden_tests_without_code_or_traceback(self, run):
        """A planted bug's feedback names its score and the failed assertion's message, and nothing more."""
        hidden_lines = hidden_test_lines(run.source)
        messages_checked = pages_without_traceback = 0
        for planted in PLANTED_BUGS.get(run.module, []):
            student = f"bug-{planted.name}"
            text = visible_text(run.course.feedback_page(run.module, student))
            graded = run.course.autograded_notebook(run.module, student)
            for grade_id in sorted(planted.fails):
                errors = [o for o in find_cell(graded, grade_id)["outputs"] if o.get("output_type") == "error"]
                assert errors, f"{student}: hidden cell {grade_id} scored 0 without an error output"
                for error in errors:
                    first_line = error["evalue"].strip().splitlines()[0][:200] if error["evalue"].strip() else ""
                    assert first_line in text, f"{student}: feedback lacks the failure message of {grade_id}: {first_line!r}"
                    if error["ename"] != "AssertionError":
                        assert error["ename"] in text, f"{student}: feedback lacks the error class of {grade_id}"
                    messages_checked += bool(first_line)
                points = run.full_marks[grade_id]
                assert f"Score: 0 / {points:g}. This cell's tests did not all pass." in text, (
                    f"{student}: feedback does not show the score of {grade_id}"
                )
            leaked = [line for line in hidden_lines if line in text]
            assert not leaked, f"feedback for {student} shows hidden test code: {leaked[:3]}"
            hidden_frames = []  # the hidden cells' own traceback frames, e.g. "Cell In[27], line 13"
            for grade_id in planted.fails:
                cell = find_cell(graded, grade_id)
                for output in cell["outputs"]:
                    frames = TRACEBACK_FRAME.findall(ANSI.sub("", "\n".join(output.get("traceback", []))))
                    hidden_frames += [frame for frame in frames if frame.startswith(f"Cell In[{cell['execution_count']}]")]
            shown = [frame for frame in hidden_frames if frame in text]
            assert not shown, f"feedback for {student} shows the traceback of a hidden test: {shown}"
            if not any(output.get("output_type") == "error" for cell in graded["cells"] if not has_hidden_tests(cell)
                       for output in cell.get("outputs", [])):
                # Only hidden tests failed, so the page must hold no traceback at all.
                for trace in ("Traceback", "Cell In[", "most recent call last", "---->"):
                    assert trace not in text, f"feedback for {student} shows a traceback ({trace!r})"
                pages_without_traceback += 1
        assert messages_checked, f"{run.module}: no planted bug fails a hidden test with a message"
        assert pages_without_traceback, f"{run.module}: every planted bug also breaks a visible cell"


class RobustnessChecks:
    """nbgrader's own guarantees, on the sampled modules: a kernel that loops, dies or floods its output,
    a syntax error or tampered test cells cost that student points, never the batch, and never gain any."""

    def test_syntax_error_costs_only_the_tests_after_it(self, run):
        assert_broken_cell_costs_only_the_tests_after_it(run, "syntax-error")

    def test_edited_test_cells_are_restored(self, run):
        assert_scores(run, "edited-tests", {grade_id: 0.0 for grade_id in run.full_marks})
        graded = run.course.autograded_notebook(run.module, "edited-tests")
        for grade_id in run.full_marks:
            restored = source_text(find_cell(graded, grade_id))
            original = source_text(find_cell(run.source, grade_id))
            assert restored == original, f"locked cell {grade_id} was not restored from the gradebook"

    def test_deleted_test_cell_of_an_unsolved_notebook_scores_nothing(self, run):
        assert_scores(run, "deleted-test-release", {grade_id: 0.0 for grade_id in run.full_marks})

    def test_endless_loop_costs_only_the_tests_after_it(self, run):
        assert_broken_cell_costs_only_the_tests_after_it(run, "endless-loop")

    def test_dead_kernel_scores_zero_without_stopping_the_batch(self, run):
        # nbgrader cannot finish a notebook whose kernel died: every cell is recorded as 0 and
        # the error is in the autograde log, while the rest of the batch is graded as usual.
        assert_scores(run, "dead-kernel", {grade_id: 0.0 for grade_id in run.full_marks})
        assert "dead-kernel" in run.autograde_log
        assert run.scores("solution") == run.full_marks

    def test_huge_output_is_cut_and_still_graded(self, run):
        assert_scores(run, "huge-output", run.full_marks)
        size = (run.course.root / "autograded" / "huge-output" / run.module / f"{run.module}.ipynb").stat().st_size
        assert size < 2_000_000, f"the autograded notebook kept {size} bytes of output: LimitOutput is not applied"


def assert_broken_cell_costs_only_the_tests_after_it(run, student):
    last_solution = grade_ids(run.source, "solution")[-1]
    before, after = cells_before_and_after(run, last_solution)
    scores = run.scores(student)
    assert scores, f"{run.module}/{student} was not graded. nbgrader said:\n{run.autograde_log[-3000:]}"
    assert {g: scores[g] for g in before} == {g: run.full_marks[g] for g in before}, (
        f"{student}: the cells before the broken one should keep their points: {scores}"
    )
    assert scores[after] == 0.0, f"{student}: {after} runs the broken code and should score 0, got {scores[after]}"


_SAMPLED = robustness_sample(module_names())
for _module in module_names():
    _name = "TestGrading_" + _module
    _bases = (GradingChecks, RobustnessChecks) if _module in _SAMPLED else (GradingChecks,)
    globals()[_name] = type(_name, _bases, {"module": _module, "robustness": _module in _SAMPLED})

"""HideHiddenTests on single cells (test_grading.py checks it end to end with real nbgrader runs)."""

from nbformat.v4 import new_code_cell, new_output

from tools.feedback import HideHiddenTests

SOURCE = (
    "from tinytorch.testing import assert_close\n"
    "assert_close(double(1), 2)\n"
    "### BEGIN HIDDEN TESTS\n"
    "assert double(-7) == -14, 'double(-7) should be -14'\n"
    "### END HIDDEN TESTS\n"
)
TRACEBACK = ["\x1b[0;31mAssertionError\x1b[0m Traceback (most recent call last)", "----> 4 assert double(-7) == -14"]


def graded_cell(outputs, score):
    cell = new_code_cell(SOURCE, outputs=outputs)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "hidden-double", "locked": True, "points": 3,
                                 "score": score, "schema_version": 3, "solution": False, "task": False}
    return cell


def feedback_for(cell):
    cell, _ = HideHiddenTests().preprocess_cell(cell, {}, 0)
    return cell


def test_failed_assertion_shows_score_and_message_only():
    error = new_output("error", ename="AssertionError", evalue="double(-7) should be -14, got 14", traceback=TRACEBACK)
    cell = feedback_for(graded_cell([error], 0.0))
    assert "BEGIN HIDDEN" not in cell.source and "double(-7) == -14" not in cell.source
    assert "assert_close(double(1), 2)" in cell.source, "the visible part of the cell stays"
    [output] = cell.outputs
    assert output.output_type == "stream"
    assert output.text.startswith("Score: 0 / 3. This cell's tests did not all pass.\n    double(-7) should be -14, got 14\n")
    assert "Traceback" not in output.text and "---->" not in output.text


def test_other_errors_show_their_class_and_message():
    error = new_output("error", ename="ValueError", evalue="shapes (2,) and (3,) differ", traceback=TRACEBACK)
    text = feedback_for(graded_cell([error], 0.0)).outputs[0].text
    assert "    ValueError: shapes (2,) and (3,) differ\n" in text and "Traceback" not in text


def test_assertion_without_message_says_so():
    error = new_output("error", ename="AssertionError", evalue="", traceback=TRACEBACK)
    assert "An assertion failed (it has no message)." in feedback_for(graded_cell([error], 0.0)).outputs[0].text


def test_passed_cell_shows_full_score():
    printed = new_output("stream", name="stdout", text="debug output of the hidden tests\n")
    cell = feedback_for(graded_cell([printed], 3.0))
    assert [o.text for o in cell.outputs] == ["Score: 3 / 3. All checks in this cell passed.\n"]


def test_cells_without_hidden_tests_are_left_alone():
    error = new_output("error", ename="AssertionError", evalue="visible", traceback=TRACEBACK)
    cell = graded_cell([error], 0.0)
    cell.source = "assert_close(double(1), 2)"
    assert feedback_for(cell).outputs == [error]

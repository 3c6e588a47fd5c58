"""Feedback without hidden tests: a preprocessor for `nbgrader generate_feedback`.

`HideHiddenTests` is nbgrader's own `ClearHiddenTests` (the preprocessor that strips hidden
tests from the release) run on the graded notebook, plus one step: a cell whose hidden tests
were removed gets its outputs replaced by a short report, its score and, when it failed, the
failure's message. An AssertionError shows only its message (the checks in
`tinytorch.testing` write what was expected and what the code produced); any other error
shows its class name and message. The hidden code and the traceback (which would quote it)
never reach the feedback page.

nbgrader_config.py enables it: `c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, ...]`
(after GetGrades, which stores each cell's score in its metadata).
"""

from __future__ import annotations

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests

from tools.conventions import nbgrader_metadata

MAX_MESSAGE = 2000  # characters of an error message shown in feedback
PASSED = "All checks in this cell passed."
FAILED = "This cell's tests did not all pass."
ADVICE = "Its hidden checks are not shown: re-read the task, run the visible tests, and try the cases they do not cover."


def failure_message(output: dict) -> str:
    """What feedback may show of an error output: never its traceback."""
    name, value = output.get("ename", "Error"), str(output.get("evalue", "")).strip()
    if len(value) > MAX_MESSAGE:
        value = value[:MAX_MESSAGE] + " ..."
    if name == "AssertionError":
        return value or "An assertion failed (it has no message)."
    return f"{name}: {value}" if value else name


def _number(value) -> str:
    return f"{float(value):g}" if value is not None else "?"


def hidden_cell_report(cell: NotebookNode) -> str:
    meta = nbgrader_metadata(cell)
    score = f"Score: {_number(meta.get('score'))} / {_number(meta.get('points'))}."
    errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    if not errors:
        return f"{score} {PASSED}\n"
    messages = "\n".join("    " + line for error in errors for line in failure_message(error).splitlines())
    return f"{score} {FAILED}\n{messages}\n{ADVICE}\n"


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for feedback: the score and failure message replace the cell's outputs."""

    def preprocess_cell(self, cell, resources, cell_index):
        had_hidden_tests = cell.cell_type == "code" and self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if had_hidden_tests:
            cell.source = cell.source.rstrip("\n") + "\n# (hidden tests ran here; their code is not shown)"
            cell.outputs = [new_output("stream", name="stdout", text=hidden_cell_report(cell))]
        return cell, resources

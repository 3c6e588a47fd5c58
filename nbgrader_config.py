"""nbgrader configuration for the TinyTorch course.

Every path is relative to this file, so the course works from any clone and any
working directory. The gradebook and the exchange live inside the course folder
(both git-ignored). Run nbgrader commands from this folder.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "tinytorch"
c.CourseDirectory.root = COURSE_ROOT
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(COURSE_ROOT, "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
c.Exchange.root = os.path.join(COURSE_ROOT, "exchange")

# The stub a learner sees in place of each solution.
c.ClearSolutions.code_stub = {
    "python": (
        "# YOUR CODE HERE: follow the TODO above, then delete the line below.\n"
        'raise NotImplementedError("Not written yet: replace this line with your solution.")'
    )
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding: a stuck cell is interrupted after this many seconds and scores 0;
# the rest of the notebook (and every other submission) is still graded.
c.Execute.timeout = 60
c.Execute.execute_retries = 0
# A deleted test cell comes back (and runs), so deleting a test never hides it.
c.OverwriteCells.add_missing_cells = True
# Huge outputs are cut, so one student's print loop cannot bloat the gradebook.
c.LimitOutput.max_lines = 500
c.LimitOutput.max_traceback = 50


class HideHiddenTests(NbGraderPreprocessor):  # enabled by default, unlike a bare nbconvert Preprocessor
    """Feedback shows the score of a cell with hidden tests, never their code or tracebacks."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or HIDDEN_BEGIN not in cell.source:
            return cell, resources
        kept, hidden = [], False
        for line in cell.source.split("\n"):
            if HIDDEN_BEGIN in line:
                hidden = True
                kept.append(line[: len(line) - len(line.lstrip())] + "# (hidden tests ran here)")
            elif HIDDEN_END in line:
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "\n".join(kept)
        failed = [out.get("ename", "Error") for out in cell.outputs if out.get("output_type") == "error"]
        message = (
            f"This cell's tests did not all pass ({failed[0]}). Its hidden checks are not shown; "
            "re-read the task, run the visible tests, and try the cases they do not cover.\n"
            if failed
            else "All checks in this cell passed.\n"
        )
        cell.outputs = [{"output_type": "stream", "name": "stdout", "text": message}]
        return cell, resources


c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

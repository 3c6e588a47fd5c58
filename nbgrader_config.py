"""nbgrader configuration for the TinyTorch course.

Every path is relative to this file, so the course works from any clone and any
working directory. The gradebook and the exchange live inside the course folder
(both git-ignored). Run nbgrader commands from this folder.

It imports the course's conventions and the feedback preprocessor from `tools/`, which
`pip install -e .` (run by `make install`) makes importable wherever nbgrader runs.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from tools import conventions
from tools.feedback import HideHiddenTests
from tools.sandbox import SANDBOXED_GRADING_ONLY

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "tinytorch"
c.CourseDirectory.root = COURSE_ROOT
# sqlite for one instructor; a PostgreSQL URL (e.g. postgresql+psycopg2://user@/gradebook?host=/run/postgresql)
# for a class graded in parallel (`python -m tools.grade_class`). course_id above must stay set: nbgrader
# creates the course row only for a non-empty id, and PostgreSQL enforces that foreign key.
c.CourseDirectory.db_url = os.environ.get("TINYTORCH_DB_URL") or "sqlite:///" + os.path.join(COURSE_ROOT, "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
# The exchange: inside the course folder for one instructor; a shared folder on a hub (tools/hub sets it).
c.Exchange.root = os.environ.get("TINYTORCH_EXCHANGE_ROOT") or os.path.join(COURSE_ROOT, "exchange")

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
# Where formgrader runs as the grader next to the gradebook (the hub sets this), no kernel starts: student code
# is graded only sandboxed, by `python -m tools.grade_class`, which clears the variable for its runs.
if os.environ.get(SANDBOXED_GRADING_ONLY):
    c.Execute.kernel_manager_class = "tools.sandbox.UnsandboxedKernelRefused"
# A deleted test cell comes back (and runs), so deleting a test never hides it.
c.OverwriteCells.add_missing_cells = True
# Huge outputs are cut, so one student's print loop cannot bloat the gradebook.
c.LimitOutput.max_lines = 500
c.LimitOutput.max_traceback = 50


# The markers, shared with the exporter and the tests (tools/conventions.py).
c.ClearSolutions.begin_solution_delimeter = conventions.SOLUTION_BEGIN
c.ClearSolutions.end_solution_delimeter = conventions.SOLUTION_END
c.ClearHiddenTests.begin_test_delimeter = conventions.HIDDEN_BEGIN  # HideHiddenTests inherits these
c.ClearHiddenTests.end_test_delimeter = conventions.HIDDEN_END

# Feedback shows each hidden-test cell's score and failure message, never its code or traceback.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

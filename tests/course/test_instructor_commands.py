"""The README's instructor commands, run as written on the sample course, with a student in between:
on the default sqlite gradebook, and on a PostgreSQL server (TINYTORCH_DB_URL) that the test starts."""

import csv
import getpass
import json
import re
import shlex
import shutil

import pytest

from tests.course.class_run import require_postgres_and_sandbox
from tests.course.nbgrader_course import ROOT, Course, load_notebook
from tools.postgres import TemporaryPostgres

MODULE = "01_tensor"


def readme_instructor_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Instructor guide", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)[1]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.startswith("nbgrader ")]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    if request.param == "sqlite":
        yield None  # nbgrader_config.py's default: gradebook.db in the course folder
    else:
        require_postgres_and_sandbox(sandboxed=False)
        with TemporaryPostgres() as server:
            yield server.db_url


def test_readme_instructor_commands_work_as_written(tmp_path, db_url):
    course = Course(tmp_path)
    if db_url:
        course.env["TINYTORCH_DB_URL"] = db_url
    student_dir = tmp_path / "student"
    student_dir.mkdir()
    # The student's side of the exchange: the same course id and exchange folder.
    (student_dir / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'tinytorch'\n"
        f"c.Exchange.root = {str(course.root / 'exchange')!r}\n"
    )

    def student(*args):
        result = course.nbgrader(*args, cwd=student_dir)
        assert result.returncode == 0, f"student `nbgrader {' '.join(args)}` failed:\n{result.stdout}{result.stderr}"
        return result

    commands = readme_instructor_commands()
    assert [c.split()[1] for c in commands] == [
        "generate_assignment", "release_assignment", "collect", "autograde",
        "generate_feedback", "release_feedback", "export",
    ], f"the README's instructor commands changed: {commands}"
    for command in commands:
        args = shlex.split(command)[1:]
        if args[0] == "collect":
            # A student fetches the assignment, solves it (here: the instructor's solution), submits.
            student("fetch_assignment", MODULE)
            solved = student_dir / MODULE / f"{MODULE}.ipynb"
            assert solved.exists(), "fetch_assignment did not deliver the notebook"
            solved.write_text(json.dumps(load_notebook("source", MODULE)), encoding="utf-8")
            student("submit", MODULE)
        result = course.nbgrader(*args)
        assert result.returncode == 0, f"`{command}` failed:\n{result.stdout}{result.stderr}"
    student("fetch_feedback", MODULE)
    assert list((student_dir / MODULE / "feedback").rglob(f"{MODULE}.html")), "the student received no feedback"
    with open(course.root / "grades.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["student_id"] == getpass.getuser()]
    assert rows and float(rows[0]["score"]) == float(rows[0]["max_score"]) > 0, f"grades.csv: {rows}"
    assert (course.root / "gradebook.db").exists() == (db_url is None), "the gradebook went to the wrong database"
    shutil.rmtree(course.root / "exchange")

"""Grade one assignment for a whole class: sandboxed, in parallel, on one shared gradebook.

    python -m tools.grade_class 01_tensor --workers 4 [--db-url URL] [--course DIR]

Every student with `submitted/<student>/<assignment>/` is graded by its own
`nbgrader autograde <assignment> --student <student>` process; N of them run at a time, all
writing to the gradebook named by --db-url (default: the course's db_url, which honours
TINYTORCH_DB_URL). Student code runs in sandboxed kernels (tools/sandbox.py); the command stops
with a clear error where the machine cannot sandbox, unless --no-sandbox says to trust the code.

sqlite allows one writer at a time, so with a sqlite gradebook the class is graded by one worker
and asking for more is an error; use PostgreSQL to grade in parallel.

The summary lists every student as graded, zero-scored (with the reason: the first error in the
graded notebook, or nbgrader's error for a kernel that died) or failed (no score recorded, with
nbgrader's last error). Each student's nbgrader log is kept in logs/grade_class/<assignment>/.
The exit status is 1 when a student failed, else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from tools.sandbox import SANDBOXED_GRADING_ONLY, SandboxUnavailable, check_platform

SANDBOX_MANAGER = "tools.sandbox.SandboxedKernelManager"
COURSE_ID = "tinytorch"


class GradingError(RuntimeError):
    pass


@dataclass
class StudentResult:
    student: str
    status: str  # "graded", "zero-scored" or "failed"
    score: float | None
    max_score: float | None
    reason: str
    seconds: float


def configured_db_url(course: Path) -> str:
    """The db_url nbgrader_config.py gives for this course (the environment included)."""
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return config.CourseDirectory.db_url


def submitted_students(course: Path, assignment: str) -> list[str]:
    return sorted(folder.parent.name for folder in (course / "submitted").glob(f"*/{assignment}") if folder.is_dir())


EXCEPTION_LINE = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception|Interrupt)): (.*)$", re.M)


def last_error(log: str) -> str:
    """Why nbgrader could not finish: a timed-out cell, and the exception that ended the run."""
    parts = []
    timeout = re.search(r"Timeout waiting for execute reply \((\d+)s\)", log)
    if timeout:
        parts.append(f"a cell ran past the {timeout[1]} s limit")
    exceptions = EXCEPTION_LINE.findall(log)
    if exceptions:
        name, message = exceptions[-1]
        parts.append(f"{name.rsplit('.', 1)[-1]}: {message.strip()[:200]}")
    return "; ".join(parts) or "nbgrader failed without an error message (see its log)"


def first_notebook_error(course: Path, assignment: str, student: str) -> str:
    """The first error output in a student's graded notebooks ('' when there is none)."""
    for path in sorted((course / "autograded" / student / assignment).glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    return f"{output.get('ename')}: {str(output.get('evalue', '')).strip()[:200]}"
    return ""


def grade_student(course: Path, assignment: str, student: str, db_url: str, sandbox: bool, timeout: float,
                  log_dir: Path, cell_timeout: int | None = None) -> tuple[int | None, str, float]:
    """One `nbgrader autograde` process for one student: (exit code or None on timeout, log, seconds)."""
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student, "--create", "--force",
               f"--CourseDirectory.db_url={db_url}", f"--CourseDirectory.course_id={COURSE_ID}"]
    env = dict(os.environ)
    if sandbox:
        command.append(f"--Execute.kernel_manager_class={SANDBOX_MANAGER}")
        env.pop(SANDBOXED_GRADING_ONLY, None)  # it refuses unsandboxed kernels; these are sandboxed
    if cell_timeout is not None:
        command.append(f"--Execute.timeout={cell_timeout}")
    start = time.monotonic()
    try:
        result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=timeout)
        code, log = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired as expired:
        code = None
        log = f"{expired.stdout or ''}{expired.stderr or ''}\nERROR: grading took longer than {timeout:g} s and was stopped"
    (log_dir / f"{student}.log").write_text(log if isinstance(log, str) else log.decode(errors="replace"),
                                             encoding="utf-8")
    return code, log, time.monotonic() - start


def recorded_scores(db_url: str, assignment: str) -> dict[str, tuple[float, float]]:
    """(score, max_score) of every student the gradebook has a graded submission for."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id=COURSE_ID) as gradebook:
        return {s.student.id: (float(s.score), float(s.max_score)) for s in gradebook.assignment_submissions(assignment)}


def prepare_gradebook(db_url: str, assignment: str, students: list[str]) -> None:
    """Check the assignment is known and add every student up front, so the workers never race to create rows."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id=COURSE_ID) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(f"the gradebook at {db_url} does not know {assignment}: run "
                               f"`nbgrader generate_assignment {assignment}` with this db_url first") from None
        for student in students:
            gradebook.update_or_create_student(student)


def choose_workers(db_url: str, requested: int | None) -> int:
    if db_url.startswith("sqlite"):
        if requested not in (None, 1):
            raise GradingError(f"a sqlite gradebook ({db_url}) allows one writer at a time, so --workers {requested} "
                               "would fail with 'database is locked': use --workers 1, or a PostgreSQL --db-url "
                               "(or TINYTORCH_DB_URL) to grade in parallel")
        return 1
    return requested or os.cpu_count() or 1


def grade_class(course: Path, assignment: str, *, workers: int | None = None, db_url: str | None = None,
                sandbox: bool = True, timeout: float = 3600, cell_timeout: int | None = None,
                progress: bool = True) -> list[StudentResult]:
    course = course.resolve()
    db_url = db_url or configured_db_url(course)
    workers = choose_workers(db_url, workers)
    if sandbox:
        check_platform()
    students = submitted_students(course, assignment)
    if not students:
        raise GradingError(f"nobody submitted {assignment}: no folder matches {course}/submitted/*/{assignment}")
    prepare_gradebook(db_url, assignment, students)
    log_dir = course / "logs" / "grade_class" / assignment
    log_dir.mkdir(parents=True, exist_ok=True)
    runs = {}
    with ThreadPoolExecutor(max_workers=workers) as pool, \
            tqdm(total=len(students), desc=f"grading {assignment}", unit="student", disable=not progress) as bar:
        futures = {pool.submit(grade_student, course, assignment, s, db_url, sandbox, timeout, log_dir, cell_timeout): s
                   for s in students}
        for future in as_completed(futures):
            runs[futures[future]] = future.result()
            bar.update()
    scores = recorded_scores(db_url, assignment)
    results = []
    for student in students:
        code, log, seconds = runs[student]
        if student not in scores:
            reason = last_error(log) if code is not None else f"stopped after {timeout:g} s"
            results.append(StudentResult(student, "failed", None, None, reason, seconds))
            continue
        score, max_score = scores[student]
        if score > 0:
            results.append(StudentResult(student, "graded", score, max_score, "", seconds))
        else:
            reason = last_error(log) if code != 0 else first_notebook_error(course, assignment, student)
            results.append(StudentResult(student, "zero-scored", score, max_score, reason or "no test passed", seconds))
    return results


def summary(results: list[StudentResult]) -> str:
    counts = {status: sum(r.status == status for r in results) for status in ("graded", "zero-scored", "failed")}
    lines = [f"{len(results)} students: {counts['graded']} graded, {counts['zero-scored']} zero-scored, "
             f"{counts['failed']} failed"]
    for status in ("zero-scored", "failed"):
        for result in results:
            if result.status == status:
                lines.append(f"  {status}: {result.student}: {result.reason}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.grade_class", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--workers", type=int, default=None,
                        help="students graded at once (default: the number of CPUs; 1 with sqlite)")
    parser.add_argument("--db-url", default=None, help="gradebook URL (default: the course's db_url)")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="course folder (default: here)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one student's grading may take")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help="seconds a cell may run (default: c.Execute.timeout of nbgrader_config.py)")
    parser.add_argument("--no-sandbox", action="store_true", help="run student code with your rights (trusted code only)")
    args = parser.parse_args(argv)
    try:
        results = grade_class(args.course, args.assignment, workers=args.workers, db_url=args.db_url,
                              sandbox=not args.no_sandbox, timeout=args.timeout, cell_timeout=args.cell_timeout)
    except (GradingError, SandboxUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary(results))
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""A simulated class, graded for real: correct, partly wrong and hostile submissions of one module.

Used by tests/course/test_class_grading.py (a small class in `make test`) and by `make class-200`:

    python -m tests.course.class_run --students 200 --workers 4 [--module 01_tensor] [--no-serial]

which grades 200 submissions on a throwaway PostgreSQL server with N workers, checks every score,
the exported CSV and the feedback, checks that no hostile submission did harm, then (unless
--no-serial) grades the same class again with one worker and compares, and prints both wall times.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.course.hostile import HARM, KERNEL_SURVIVES, SELF_DESTRUCTIVE, hostile_submissions
from tests.course.nbgrader_course import Course, graded_cells, load_notebook
from tests.course.submissions import PLANTED_BUGS, grade_ids, plant
from tools.grade_class import COURSE_ID, grade_class, summary
from tools.sandbox import UID_BASE

VICTIM = "victim"


class Listener:
    """A TCP server on 127.0.0.1 that records every connection (none may come from a sandbox)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                connection, address = self.server.accept()
                self.connections.append(address)
                connection.close()
            except OSError:
                continue

    def close(self):
        self._stop.set()
        self._thread.join()
        self.server.close()


@dataclass
class SimulatedClass:
    module: str
    course: Course
    source: dict
    kinds: dict[str, str] = field(default_factory=dict)  # student -> kind (solution, release, bug-..., hostile-...)

    @property
    def full_marks(self) -> dict[str, float]:
        return {cell.grade_id: cell.points for cell in graded_cells(self.source)}

    def expected(self, student: str) -> dict[str, float] | None:
        """The exact per-cell scores of a student, or None where only a rule is known (a kernel that survives
        a broken last solution cell: the memory hog, the endless loop)."""
        kind = self.kinds[student]
        if kind == "release" or kind.removeprefix("hostile-") in set(SELF_DESTRUCTIVE) - KERNEL_SURVIVES:
            return dict.fromkeys(self.full_marks, 0.0)
        if kind.startswith("bug-"):
            planted = next(b for b in PLANTED_BUGS[self.module] if f"bug-{b.name}" == kind)
            return {g: 0.0 if g in planted.fails else p for g, p in self.full_marks.items()}
        if kind.removeprefix("hostile-") in KERNEL_SURVIVES:
            return None
        return dict(self.full_marks)  # the solution, and every snooping attack on top of a solution


def build_class(where: Path, module: str, students: int, port: int, db_url: str) -> SimulatedClass:
    """`students` submissions: the victim (a solution that attacks target), then a repeating mix of
    solutions, releases, planted bugs and every hostile submission."""
    course = Course(where)
    course.env["TINYTORCH_DB_URL"] = db_url
    course.generate(module)
    source = load_notebook("source", module)
    release = json.loads((course.root / "release" / module / f"{module}.ipynb").read_text(encoding="utf-8"))
    templates = {"solution": source, "release": release}
    templates.update({f"bug-{b.name}": b for b in PLANTED_BUGS.get(module, [])[:3]})
    templates.update(hostile_submissions(source, module, str(course.root), VICTIM, port))
    simulated = SimulatedClass(module, course, source, {VICTIM: "solution"})
    course.submit(module, VICTIM, source)
    kinds = list(templates)
    for index in range(students - 1):
        kind = kinds[index % len(kinds)]
        student = f"{kind}-{index:03d}" if students > len(kinds) + 1 else kind
        notebook = templates[kind]
        course.submit(module, student, plant(source, notebook) if kind.startswith("bug-") else notebook)
        simulated.kinds[student] = kind
    return simulated


def cell_scores(db_url: str, module: str) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id=COURSE_ID) as gradebook:
        return {submission.student.id: {grade.name: float(grade.score) for notebook in submission.notebooks
                                        for grade in notebook.grades if grade.cell.cell_type == "code"}
                for submission in gradebook.assignment_submissions(module)}


def stream_outputs(notebook: dict) -> str:
    return "".join("".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", [])
                   if o.get("output_type") == "stream")


def harm_found(simulated: SimulatedClass, listener: Listener, victim_before: bytes) -> list[str]:
    """Every sign that a hostile submission reached past its own folder."""
    root, module = simulated.course.root, simulated.module
    harm = []
    for path in root.glob(f"autograded/*/{module}/{module}.ipynb"):
        if HARM in stream_outputs(json.loads(path.read_text(encoding="utf-8"))):
            harm.append(f"{path.parent.parent.name}'s output says {HARM}")
    victim = root / "submitted" / VICTIM / module / f"{module}.ipynb"
    if victim.read_bytes() != victim_before:
        harm.append("the victim's submission changed")
    for folder in ("exchange", "feedback"):
        if (root / folder).exists():
            harm.append(f"{folder}/ exists before anyone generated it")
    if listener.connections:
        harm.append(f"the listener on 127.0.0.1:{listener.port} was reached from {listener.connections}")
    if os.path.exists("/usr/evil"):
        harm.append("/usr/evil was written")
    # A sandbox uid is UID_BASE + the pid of the nbgrader process that started it: a process of that uid
    # whose grading process has ended outlived its grading. (Other gradings may be running meanwhile.)
    left = [line for line in os.popen("ps -eo uid=,pid=,args=").read().splitlines()
            if int(line.split()[0]) >= UID_BASE and not os.path.exists(f"/proc/{int(line.split()[0]) - UID_BASE}")]
    if left:
        harm.append(f"sandboxed processes outlived their grading: {left[:5]}")
    return harm


def check_class(simulated: SimulatedClass, db_url: str) -> list[str]:
    """Every student scored exactly as expected; memory hogs and endless loops by their rule."""
    problems = []
    scores = cell_scores(db_url, simulated.module)
    for student in simulated.kinds:
        got = scores.get(student)
        if not got:
            problems.append(f"{student} has no scores")
            continue
        expected = simulated.expected(student)
        if expected is None:  # the cells before the broken last solution keep their points, the next one fails
            last_solution = grade_ids(simulated.source, "solution")[-1]
            cells = simulated.source["cells"]
            index = next(i for i, c in enumerate(cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                         == last_solution)
            graded_before = [g for g in grade_ids({"cells": cells[:index]}, "grade")]
            first_after = grade_ids({"cells": cells[index:]}, "grade")[0]
            if any(got[g] != simulated.full_marks[g] for g in graded_before) or got[first_after] != 0:
                problems.append(f"{student} ({simulated.kinds[student]}) scored {got}")
        elif got != expected:
            wrong = {g: (got.get(g), p) for g, p in expected.items() if got.get(g) != p}
            problems.append(f"{student} ({simulated.kinds[student]}) scored wrongly (got, expected): {wrong}")
    return problems


def check_export_and_feedback(simulated: SimulatedClass) -> list[str]:
    course, module = simulated.course, simulated.module
    problems = []
    for args in (("export", "--to", "grades.csv"), ("generate_feedback", module, "--force")):
        result = course.nbgrader(*args)
        if result.returncode != 0:
            problems.append(f"nbgrader {args[0]} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    with open(course.root / "grades.csv", newline="") as handle:
        exported = {row["student_id"] for row in csv.DictReader(handle) if row["assignment"] == module}
    if exported != set(simulated.kinds):
        problems.append(f"grades.csv misses {sorted(set(simulated.kinds) - exported)}")
    graded = {p.parent.parent.name for p in course.root.glob(f"autograded/*/{module}/{module}.ipynb")}
    with_feedback = {p.parent.parent.name for p in course.root.glob(f"feedback/*/{module}/{module}.html")}
    if graded != with_feedback:
        problems.append(f"no feedback for {sorted(graded - with_feedback)}")
    return problems


def main(argv=None) -> int:
    from tools.postgres import TemporaryPostgres

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--module", default="01_tensor")
    parser.add_argument("--cell-timeout", type=int, default=20)
    parser.add_argument("--no-serial", action="store_true")
    parser.add_argument("--where", type=Path, default=None)
    args = parser.parse_args(argv)
    import tempfile

    where = args.where or Path(tempfile.mkdtemp(prefix="tinytorch-class-"))
    listener = Listener()
    problems, times = [], {}
    with TemporaryPostgres() as server:
        simulated = build_class(where, args.module, args.students, listener.port, server.db_url)
        os.environ.update(simulated.course.env)
        victim_before = (simulated.course.root / "submitted" / VICTIM / args.module / f"{args.module}.ipynb").read_bytes()
        start = time.monotonic()
        results = grade_class(simulated.course.root, args.module, workers=args.workers, db_url=server.db_url,
                              cell_timeout=args.cell_timeout)
        times["parallel"] = time.monotonic() - start
        print(summary(results))
        problems += check_class(simulated, server.db_url)
        problems += harm_found(simulated, listener, victim_before)
        problems += check_export_and_feedback(simulated)
        if not args.no_serial:
            parallel_scores = cell_scores(server.db_url, args.module)
            from tools.postgres import TemporaryPostgres as Second

            with Second() as serial_server:
                serial = build_class(where / "serial", args.module, args.students, listener.port, serial_server.db_url)
                os.environ.update(serial.course.env)
                start = time.monotonic()
                grade_class(serial.course.root, args.module, workers=1, db_url=serial_server.db_url,
                            cell_timeout=args.cell_timeout)
                times["serial"] = time.monotonic() - start
                if cell_scores(serial_server.db_url, args.module) != parallel_scores:
                    problems.append("the serial run's scores differ from the parallel run's")
    listener.close()
    print(f"{args.students} students, module {args.module}, cell timeout {args.cell_timeout} s: "
          + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in times.items())
          + (f", ratio {times['serial'] / times['parallel']:.2f}x with {args.workers} workers" if len(times) == 2 else ""))
    print("\n".join(problems) or "every check passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())


def require_postgres_and_sandbox(sandboxed: bool = True) -> None:
    """Skip (with the reason) where this machine cannot start PostgreSQL or sandbox kernels, as on a laptop
    without root; under CI (`CI` set, as `.ci/run` does) the same reason is a failure."""
    from tools import sandbox
    from tools.postgres import PostgresUnavailable, _tool

    try:
        _tool("initdb")
        if sandboxed:
            sandbox.check_platform()
    except (PostgresUnavailable, sandbox.SandboxUnavailable) as reason:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"class grading cannot run here: {str(reason).splitlines()[-1].lstrip('- ')}")

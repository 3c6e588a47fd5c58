"""Class grading for real: a small simulated class of 01_tensor (one of each kind of submission,
hostile ones included) graded by `tools.grade_class` with 2 workers on a PostgreSQL server that the
test starts, then by one worker on sqlite; `make class-200` runs the same checks on 200 students."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.course import class_run
from tests.course.class_run import Listener, build_class, cell_scores, harm_found
from tests.course.hostile import HARM, SELF_DESTRUCTIVE, hostile_submissions
from tools import grade_class, sandbox
from tools.postgres import TemporaryPostgres

MODULE = "01_tensor"
CELL_TIMEOUT = 10
STUDENTS = 15  # the victim and one of each kind: solution, release, 3 planted bugs, 8 hostile, an endless loop


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once with 2 workers on PostgreSQL: (class, db_url, results, harm found)."""
    class_run.require_postgres_and_sandbox()
    listener = Listener()
    with TemporaryPostgres() as server:
        simulated = build_class(tmp_path_factory.mktemp("class"), MODULE, STUDENTS, listener.port, server.db_url)
        victim = simulated.course.root / "submitted" / class_run.VICTIM / MODULE / f"{MODULE}.ipynb"
        before = victim.read_bytes()
        with pytest.MonkeyPatch.context() as patch:
            # As on the hub: unsandboxed kernels are refused there, and grade_class's sandboxed ones still start.
            patch.setenv(sandbox.SANDBOXED_GRADING_ONLY, "1")
            results = grade_class.grade_class(simulated.course.root, MODULE, workers=2, db_url=server.db_url,
                                              cell_timeout=CELL_TIMEOUT, progress=False)
        harm = harm_found(simulated, listener, before)
        yield simulated, server.db_url, results, harm
    listener.close()


class TestClassGrading:
    """One class, so that `--dist loadscope` keeps the whole run on one worker."""

    def test_every_student_has_exactly_the_expected_scores(self, graded):
        simulated, db_url, results, _ = graded
        assert len(results) == STUDENTS and {r.student for r in results} == set(simulated.kinds)
        problems = class_run.check_class(simulated, db_url)
        assert not problems, "\n".join(problems)

    def test_no_hostile_submission_did_harm(self, graded):
        simulated, _, _, harm = graded
        assert not harm, "\n".join(harm)
        for student, kind in simulated.kinds.items():
            if kind in ("hostile-deletes-gradebook", "hostile-reads-solutions", "hostile-writes-elsewhere",
                        "hostile-opens-socket"):
                output = class_run.stream_outputs(simulated.course.autograded_notebook(MODULE, student))
                assert "blocked:" in output and HARM not in output, f"{student} printed:\n{output}"

    def test_summary_gives_each_zero_score_its_reason(self, graded):
        simulated, _, results, _ = graded
        by_kind = {simulated.kinds[r.student]: r for r in results}
        assert not [r for r in results if r.status == "failed"], grade_class.summary(results)
        assert "NotImplementedError" in by_kind["release"].reason
        for name in ("fork-bomb", "ignores-sigint"):
            result = by_kind[f"hostile-{name}"]
            assert result.status == "zero-scored" and f"past the {CELL_TIMEOUT} s limit" in result.reason, result
        assert "DeadKernelError" in by_kind["hostile-kills-kernel"].reason
        # A MemoryError or an interrupted loop breaks one cell; the rest of the notebook still counts.
        assert by_kind["hostile-memory-hog"].status == by_kind["endless-loop"].status == "graded"
        assert set(SELF_DESTRUCTIVE) <= {k.removeprefix("hostile-") for k in by_kind}
        text = grade_class.summary(results)
        assert f"{STUDENTS} students: 11 graded, 4 zero-scored, 0 failed" in text, text

    def test_export_and_feedback_cover_the_class(self, graded):
        simulated, db_url, _, _ = graded
        simulated.course.env["TINYTORCH_DB_URL"] = db_url
        problems = class_run.check_export_and_feedback(simulated)
        assert not problems, "\n".join(problems)

    def test_a_serial_run_on_sqlite_gives_the_same_scores(self, graded, tmp_path):
        simulated, db_url, _, _ = graded
        listener = Listener()
        serial = build_class(tmp_path, MODULE, STUDENTS, listener.port, "")
        del serial.course.env["TINYTORCH_DB_URL"]  # the course's own sqlite gradebook.db, a file the attacks target
        sqlite_url = f"sqlite:///{serial.course.root / 'gradebook.db'}"
        results = grade_class.grade_class(serial.course.root, MODULE, db_url=sqlite_url, cell_timeout=CELL_TIMEOUT,
                                          progress=False)
        listener.close()
        assert all(r.status != "failed" for r in results), grade_class.summary(results)
        assert cell_scores(sqlite_url, MODULE) == cell_scores(db_url, MODULE)


def test_the_harm_checks_see_harm_when_nothing_is_sandboxed(tmp_path):
    """Without the sandbox the same attacks succeed, so the checks above can fail."""
    listener = Listener()
    source = class_run.load_notebook("source", MODULE)
    simulated = build_class(tmp_path, MODULE, 1, listener.port, "")  # the victim only
    del simulated.course.env["TINYTORCH_DB_URL"]
    attacks = hostile_submissions(source, MODULE, str(simulated.course.root), class_run.VICTIM, listener.port)
    for kind in ("hostile-reads-solutions", "hostile-opens-socket"):
        simulated.course.submit(MODULE, kind, attacks[kind])
        simulated.kinds[kind] = kind
    victim = simulated.course.root / "submitted" / class_run.VICTIM / MODULE / f"{MODULE}.ipynb"
    sqlite_url = f"sqlite:///{simulated.course.root / 'gradebook.db'}"
    grade_class.grade_class(simulated.course.root, MODULE, db_url=sqlite_url, sandbox=False, progress=False)
    listener.close()
    harm = "\n".join(harm_found(simulated, listener, victim.read_bytes()))
    assert "hostile-reads-solutions's output says" in harm and "the listener on 127.0.0.1" in harm, harm


def test_sqlite_refuses_parallel_workers_with_a_clear_error():
    with pytest.raises(grade_class.GradingError, match="sqlite gradebook .* one writer at a time.*PostgreSQL"):
        grade_class.choose_workers("sqlite:///gradebook.db", 4)
    assert grade_class.choose_workers("sqlite:///gradebook.db", None) == 1
    assert grade_class.choose_workers("postgresql+psycopg2://u@/gradebook?host=/tmp/x", 3) == 3


def test_platform_problems_name_what_is_missing(monkeypatch, tmp_path):
    assert sandbox.platform_problems() == [], "this machine (root, bwrap installed) should sandbox"
    monkeypatch.setattr(sandbox.shutil, "which", lambda tool: None if tool == "bwrap" else f"/usr/bin/{tool}")
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    problems = "\n".join(sandbox.platform_problems())
    assert "must run as root" in problems and "uid 1000" in problems, problems
    assert "`bwrap` is not installed: `apt-get install -y bubblewrap`" in problems, problems
    monkeypatch.setattr(sandbox, "platform_problems", lambda: ["no bwrap"])
    with pytest.raises(sandbox.SandboxUnavailable, match="Cannot sandbox student code on this machine:\n- no bwrap"):
        sandbox.check_platform()


def test_a_private_interpreter_folder_is_named(monkeypatch):
    private = Path(tempfile.mkdtemp(prefix="tinytorch-private-"))  # mkdtemp makes it 0700
    try:
        monkeypatch.setattr(sandbox, "interpreter_dirs", lambda: [private])
        problems = "\n".join(sandbox.platform_problems())
        assert f"the sandbox user cannot use {private} (mode drwx------)" in problems, problems
        assert f"`chmod o+rx {private}`" in problems, problems
        private.chmod(0o755)
        assert sandbox.platform_problems() == []
    finally:
        shutil.rmtree(private)


def test_reclaim_removes_what_could_redirect_the_graders_writes(tmp_path):
    folder = tmp_path / "autograded" / "student" / MODULE
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "weights.npy").write_bytes(b"kept")
    victim = tmp_path / "victim.ipynb"
    victim.write_text("the victim's notebook")
    (folder / f"{MODULE}.ipynb").symlink_to(victim)
    os.mkfifo(folder / "pipe")
    sandbox.make_private(folder, sandbox.UID_BASE + 1)
    assert (folder / "data" / "weights.npy").stat().st_uid == sandbox.UID_BASE + 1
    removed = sandbox.reclaim(folder)
    assert sorted(Path(p).name for p in removed) == sorted([f"{MODULE}.ipynb", "pipe"])
    assert (folder / "data" / "weights.npy").read_bytes() == b"kept" and victim.read_text() == "the victim's notebook"
    assert {p.stat().st_uid for p in [folder, *folder.rglob("*")]} == {os.getuid()}

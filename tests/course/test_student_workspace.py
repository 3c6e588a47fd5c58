"""`make work` gives students a git-ignored copy of each module that later updates never overwrite."""

import shutil
import subprocess

from tests.course.nbgrader_course import ROOT


def test_make_work_copies_modules_once_and_keeps_student_edits(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copytree(ROOT / "release", tmp_path / "release")
    modules = sorted(p.name for p in (tmp_path / "release").iterdir())
    subprocess.run(["make", "-s", "work"], cwd=tmp_path, check=True, capture_output=True)
    for module in modules:
        assert (tmp_path / "work" / module / f"{module}.ipynb").read_bytes() == (
            tmp_path / "release" / module / f"{module}.ipynb"
        ).read_bytes()
    edited = tmp_path / "work" / modules[0] / f"{modules[0]}.ipynb"
    edited.write_text("my work in progress")
    result = subprocess.run(["make", "-s", "work"], cwd=tmp_path, check=True, capture_output=True, text=True)
    assert edited.read_text() == "my work in progress", "make work overwrote a student's notebook"
    assert f"keeping your work/{modules[0]}" in result.stdout
    ignored = subprocess.run(["git", "check-ignore", "work/x.ipynb"], cwd=ROOT, capture_output=True, text=True)
    assert ignored.returncode == 0, "work/ must be git-ignored so a pull never touches it"

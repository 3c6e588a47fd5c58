"""`make check-my-framework`: a bug or an unfinished module in the learner's notebooks is named.

Each test builds a learner's package from release notebooks solved with the reference solutions,
plants one problem, and checks that the check blames the right module (a separate file from
test_learner.py so that the two run on different workers).
"""

from __future__ import annotations

import shutil

import pytest

from tests.course.solved import learner, write_work
from tools import conventions
from tools.conventions import ROOT, NotebookError
from tools.learner import build


def test_a_bug_in_one_module_is_reported_by_name(tmp_path):
    modules = conventions.module_names()
    buggy = "03_layers"
    wrong_sign = ("out if self.bias is None else out + self.bias", "out if self.bias is None else out - self.bias")

    def plant(module, notebook):
        if module != buggy:
            return
        cells = [cell for cell in notebook["cells"] if wrong_sign[0] in conventions.source_text(cell)]
        assert len(cells) == 1, f"the Linear forward of {buggy} changed: update this planted bug"
        cells[0]["source"] = conventions.source_text(cells[0]).replace(*wrong_sign)

    write_work(tmp_path / "work", modules, plant)
    built = learner("build", "--work", str(tmp_path / "work"), "--into", str(tmp_path / "build"))
    assert built.returncode == 0, built.stdout + built.stderr
    result = learner("check", "--work", str(tmp_path / "work"), "--into", str(tmp_path / "build"))
    assert result.returncode == 1, f"a Linear that subtracts its bias passed the check:\n{result.stdout}{result.stderr}"
    assert f"Your module {buggy} fails its package tests" in result.stdout, result.stdout
    assert f"{buggy}: " in result.stdout and not any(f"  {m}: " in result.stdout for m in modules[: modules.index(buggy)]), (
        f"only {buggy} and the modules after it may be blamed:\n{result.stdout}"
    )


def test_a_stub_is_blamed_where_it_raises_not_where_it_is_called(tmp_path):
    """A learner who solved 01-04 and not yet 05: Tensor tests that take gradients fail inside 05's stubs."""
    modules = conventions.module_names()
    unsolved = "05_autograd"
    write_work(tmp_path / "work", modules[: modules.index(unsolved)])
    shutil.copytree(conventions.module_notebook(unsolved, "release").parent, tmp_path / "work" / unsolved)
    assert learner("build", "--work", str(tmp_path / "work"), "--into", str(tmp_path / "build")).returncode == 0
    result = learner("check", "--work", str(tmp_path / "work"), "--into", str(tmp_path / "build"))
    assert result.returncode == 1 and f"Your module {unsolved} fails its package tests" in result.stdout, result.stdout
    assert "01_tensor: " not in result.stdout, f"the Tensor's tests fail in {unsolved}'s stubs, not in 01:\n{result.stdout}"
    assert f"Not in work/ yet, so not in your package: {', '.join(modules[modules.index(unsolved) + 1:])}" in result.stdout


def test_a_module_that_breaks_the_import_is_reported_by_name(tmp_path):
    modules = conventions.module_names()
    buggy = modules[1]

    def plant(module, notebook):
        if module == buggy:  # a stray line in the first exported cell: importing the package fails there
            cell = next(c for c in notebook["cells"]
                        if c["cell_type"] == "code" and "#| export" in conventions.source_text(c))
            cell["source"] = conventions.source_text(cell) + "\nundefined_name_in_the_learners_cell\n"

    write_work(tmp_path / "work", modules[:3], plant)
    assert learner("build", "--work", str(tmp_path / "work"), "--into", str(tmp_path / "build")).returncode == 0
    result = learner("check", "--work", str(tmp_path / "work"), "--into", str(tmp_path / "build"))
    assert result.returncode == 2 and f"Your module {buggy} breaks the import of your package" in result.stderr, (
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "undefined_name_in_the_learners_cell" in result.stderr, "the check should show the learner the error"


def test_never_overwrites_the_reference_package(tmp_path):
    write_work(tmp_path / "work", conventions.module_names()[:1])
    with pytest.raises(NotebookError, match="reference package"):
        build(tmp_path / "work", ROOT)

"""The learner's own framework: `make my-framework` exports work/ with the course's directives.

Release notebooks filled with the reference solutions (a learner who got everything right) must
export to the reference package itself, pass the package tests (run on that package, in a
subprocess that imports it first) and run every milestone, switched on by TINYTORCH_PATH or by
USE_MY_FRAMEWORK. Planted bugs, named by the check, are in test_learner_check.py.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.course.nbgrader_course import load_notebook
from tests.course.solved import learner, write_work
from tools import conventions
from tools.conventions import ROOT

MILESTONES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def solved_framework(tmp_path_factory):
    """(work folder, package folder) of a learner who solved every module on disk."""
    where = tmp_path_factory.mktemp("learner")
    write_work(where / "work", conventions.module_names())
    result = learner("build", "--work", str(where / "work"), "--into", str(where / "build"))
    assert result.returncode == 0, f"make my-framework failed:\n{result.stdout}{result.stderr}"
    return where / "work", where / "build"


def test_solved_notebooks_export_the_reference_package(solved_framework):
    _, into = solved_framework
    reference = {p.relative_to(ROOT): p for p in (ROOT / "tinytorch").rglob("*.py")}
    built = {p.relative_to(into): p for p in (into / "tinytorch").rglob("*.py")}
    assert sorted(built) == sorted(reference), f"files differ: {sorted(set(built) ^ set(reference))}"
    for relative, path in built.items():
        expected = reference[relative].read_text(encoding="utf-8").replace("from source/", "from work/")
        assert path.read_text(encoding="utf-8") == expected, f"{relative} differs from the reference build"


def test_solved_framework_passes_the_package_tests(solved_framework):
    work, into = solved_framework
    result = learner("check", "--work", str(work), "--into", str(into))
    assert result.returncode == 0, f"the package tests fail on the solved framework:\n{result.stdout}{result.stderr}"
    assert " passed" in result.stdout and "failed" not in result.stdout, result.stdout


@pytest.mark.parametrize("milestone", MILESTONES, ids=lambda path: path.stem)
def test_every_milestone_runs_on_the_learners_framework(solved_framework, milestone):
    _, into = solved_framework
    notebook = nbformat.read(milestone, as_version=4)
    env = dict(os.environ, TINYTORCH_PATH=str(into))
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(milestone.parent)}}).execute(env=env)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    printed = "".join(output.get("text", "") for output in first.outputs)
    assert f"tinytorch from {into / 'tinytorch'}" in printed, f"{milestone.stem} did not use the learner's package: {printed}"


def test_use_my_framework_switch_reads_build_learner(solved_framework, tmp_path):
    """USE_MY_FRAMEWORK = True in a milestone's first cell means ../build/learner, as `make my-framework` leaves it."""
    _, into = solved_framework
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "learner").symlink_to(into, target_is_directory=True)
    (tmp_path / "notebooks").mkdir()
    notebook = nbformat.read(MILESTONES[0], as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "USE_MY_FRAMEWORK = False" in first.source
    first.source = first.source.replace("USE_MY_FRAMEWORK = False", "USE_MY_FRAMEWORK = True")
    env = {key: value for key, value in os.environ.items() if key != "TINYTORCH_PATH"}
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path / "notebooks")}}).execute(env=env)
    printed = "".join(output.get("text", "") for output in first.outputs)
    assert f"tinytorch from {tmp_path / 'build' / 'learner' / 'tinytorch'}" in printed, printed


@pytest.mark.parametrize("module", conventions.module_names())
def test_release_notebooks_say_what_their_export_lines_do(module):
    overview = conventions.source_text(load_notebook("release", module)["cells"][0])
    for promise in ("#| export", "make my-framework", "build/learner", "USE_MY_FRAMEWORK"):
        assert promise in overview, (
            f"the overview of release/{module} should explain the export lines and the learner's framework "
            f"(mention {promise!r}); copy the paragraph from source/01_tensor"
        )

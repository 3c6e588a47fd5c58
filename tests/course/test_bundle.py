"""`make bundle UPTO=NN`: what students get while module NN is open, and nothing of NN's answers.

Module NN's notebook, solved as a student would solve it, runs on the bundle's own package; the
package installs with pip; the bundled milestones run on it and the others cannot; and no line of
a solution of module NN or later appears anywhere in the bundle.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbclient import NotebookClient

from tests.course.nbgrader_course import load_notebook
from tests.course.solved import solved_release, write_work
from tools import conventions
from tools.bundle import PACKAGE_FOLDER, imported_package_modules, last_module_needed, milestone_notebooks, owners
from tools.conventions import ROOT, SOLUTION_BEGIN, SOLUTION_END, module_names, source_text

MODULES = module_names()
SOLUTION_BLOCK = re.compile(re.escape(SOLUTION_BEGIN) + r"\n(.*?)" + re.escape(SOLUTION_END), re.S)
# Open modules to bundle for: the first, one in the middle, the last.
OPEN = sorted({MODULES[0], MODULES[len(MODULES) // 2], MODULES[-1]}, key=MODULES.index)
# A first cell for kernels that must see only a bundle's packages: the course's own editable install would
# quietly supply any module they lack.
WITHOUT_THE_COURSES_INSTALL = ("import sys\nsys.meta_path[:] = [finder for finder in sys.meta_path\n"
                               "                 if not getattr(finder, '__module__', '').startswith('__editable__')]\n")


def make_bundle(upto: str, into) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "tools.bundle", upto.split("_")[0], "--into", str(into)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"make bundle UPTO={upto} failed:\n{result.stdout}{result.stderr}"
    return result


def notebook_text(folder: str, module: str) -> str:
    return "\n".join(source_text(cell) for cell in load_notebook(folder, module)["cells"])


def solution_lines(module: str, min_length: int = 25) -> set[str]:
    """Distinctive lines of a module's solutions: long, and in no student-visible text of any module."""
    lines = {line.strip() for cell in load_notebook("source", module)["cells"] if conventions.is_solution(cell)
             for block in SOLUTION_BLOCK.findall(source_text(cell)) for line in block.splitlines()}
    return {line for line in lines if len(line) >= min_length}


def secrets_from(upto: str) -> set[str]:
    """Solution lines of `upto` and every later module that no earlier module and no release notebook shows."""
    index = MODULES.index(upto)
    allowed = "\n".join([notebook_text("release", m) for m in MODULES] + [notebook_text("source", m) for m in MODULES[:index]])
    return {line for module in MODULES[index:] for line in solution_lines(module) if line not in allowed}


def bundle_text(bundle) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in sorted(bundle.rglob("*"))
                     if path.is_file() and "__pycache__" not in path.parts)


@pytest.mark.parametrize("upto", OPEN)
def test_bundle_holds_no_solution_of_the_open_module_or_later(tmp_path, upto):
    bundle = tmp_path / "bundle"
    make_bundle(upto, bundle)
    secrets = secrets_from(upto)
    reference = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "tinytorch").rglob("*.py"))
    assert any(secret in reference for secret in secrets), "no solution line of the open module found in tinytorch/"
    text = bundle_text(bundle)
    leaked = sorted(secret for secret in secrets if secret in text)
    assert not leaked, f"the bundle for {upto} shows solution lines of {upto} or later: {leaked[:5]}"
    released = sorted(path.name for path in (bundle / "release").iterdir())
    assert released == MODULES[: MODULES.index(upto) + 1], f"released {released}"
    exported = {dotted for dotted, module in owners().items() if module in MODULES[: MODULES.index(upto)]}
    exported.add(conventions.TEST_HELPERS)
    packaged = {path.relative_to(bundle / PACKAGE_FOLDER / "tinytorch").with_suffix("").as_posix().replace("/", ".")
                for path in (bundle / PACKAGE_FOLDER / "tinytorch").rglob("*.py")}
    assert {d for d in packaged if d in owners()} == exported, (
        f"the package of the bundle for {upto} should hold the modules before it and the test helpers: {sorted(packaged)}"
    )


def test_the_test_helpers_hold_no_solution():
    """They go to students with the first module open: every cell exporting them is locked course code."""
    first = load_notebook("source", MODULES[0])["cells"]
    exporting = [cell for cell in first if cell["cell_type"] == "code"
                 and any(name in ("export", "exporti") and arg == conventions.TEST_HELPERS
                         for name, arg in conventions.split_directives(source_text(cell))[0])]
    assert exporting, f"no cell of {MODULES[0]} exports tinytorch.{conventions.TEST_HELPERS}"
    for cell in exporting:
        grading = cell["metadata"].get("nbgrader", {})
        assert grading.get("locked") and not grading.get("solution"), (
            f"{grading.get('grade_id')}: the test helpers must be a locked cell without a solution")


def run_solved_on(bundle, upto: str, package) -> None:
    """Module `upto`, solved the way a student would, runs on the bundle's package (first cell checks which one)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(package), os.environ.get("PYTHONPATH", "")]))
    notebook = nbformat.reads(json.dumps(solved_release(upto)), as_version=4)
    guard = (f"{WITHOUT_THE_COURSES_INSTALL}import tinytorch\nassert tinytorch.__file__.startswith({str(package)!r}), "
             "f'tinytorch comes from {tinytorch.__file__}'")
    notebook.cells.insert(0, nbformat.v4.new_code_cell(guard))
    folder = bundle / "release" / upto
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute(env=env)


def test_the_first_module_runs_on_its_bundle(tmp_path):
    """With module 01 open, its test cells find their helpers in a package that has no Tensor yet."""
    upto = MODULES[0]
    bundle = tmp_path / "bundle"
    make_bundle(upto, bundle)
    package = bundle / PACKAGE_FOLDER
    assert not (package / "tinytorch" / "core").exists(), "the bundle for the first module must not ship its answers"
    run_solved_on(bundle, upto, package)


def test_the_open_module_runs_on_the_bundle_and_the_package_installs(tmp_path):
    upto = MODULES[-1]
    bundle = tmp_path / "bundle"
    make_bundle(upto, bundle)
    package = bundle / PACKAGE_FOLDER

    # pip accepts the folder: it builds a wheel holding tinytorch and nothing else.
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheels), str(package)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, f"pip cannot build {PACKAGE_FOLDER}/:\n{built.stdout}{built.stderr}"
    (wheel,) = wheels.glob("tinytorch-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"tinytorch"}, tops

    run_solved_on(bundle, upto, package)

    # Bundled milestones import only what the package has; the others need a module it lacks.
    packaged = {path.relative_to(package / "tinytorch").with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
                for path in (package / "tinytorch").rglob("*.py")}
    bundled = {path.name for path in (bundle / "notebooks").glob("*.ipynb")}
    for milestone in milestone_notebooks():
        needs = imported_package_modules(milestone)
        if milestone.name in bundled:
            assert needs <= packaged, f"{milestone.stem} is bundled but needs {sorted(needs - packaged)}"
        else:
            assert needs - packaged, f"{milestone.stem} could run on the bundle for {upto} but was left out"


def test_a_learner_builds_their_own_framework_in_a_bundle_and_a_milestone_runs_on_it(tmp_path):
    """The bundle's Makefile and tools export the learner's notebooks in work/, as in the course repository."""
    milestone = milestone_notebooks()[0]
    upto = MODULES[MODULES.index(last_module_needed(milestone)) + 1]  # the first bundle holding the milestone
    bundle = tmp_path / "bundle"
    make_bundle(upto, bundle)
    env = {key: value for key, value in os.environ.items() if key not in ("TINYTORCH_PATH", "PYTHONPATH")}
    made = subprocess.run(["make", "work"], cwd=bundle, capture_output=True, text=True, timeout=60, env=env)
    assert made.returncode == 0 and sorted(p.name for p in (bundle / "work").iterdir()) == MODULES[: MODULES.index(upto) + 1]
    write_work(bundle / "work", MODULES[: MODULES.index(upto) + 1])  # solved, as the learner would leave them
    built = subprocess.run(["make", "my-framework", f"PYTHON={sys.executable}"], cwd=bundle, capture_output=True,
                           text=True, timeout=300, env=env)
    assert built.returncode == 0, f"make my-framework in the bundle:\n{built.stdout}{built.stderr}"
    assert str(bundle / "tools" / "learner.py") in subprocess.run(
        [sys.executable, "-c", "import tools.learner; print(tools.learner.__file__)"], cwd=bundle, env=env,
        capture_output=True, text=True).stdout, "the bundle's own tools must do the build"
    checked = subprocess.run(["make", "check-my-framework", f"PYTHON={sys.executable}"], cwd=bundle,
                             capture_output=True, text=True, timeout=300, env=env)
    assert checked.returncode != 0 and "a student bundle leaves them out" in checked.stderr, checked.stderr

    notebook = nbformat.read(bundle / "notebooks" / milestone.name, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    first.source = first.source.replace("USE_MY_FRAMEWORK = False", "USE_MY_FRAMEWORK = True")
    notebook.cells.insert(0, nbformat.v4.new_code_cell(WITHOUT_THE_COURSES_INSTALL))
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(bundle / "notebooks")}}).execute(env=env)
    printed = "".join(output.get("text", "") for output in first.outputs)
    assert f"tinytorch from {bundle / 'build' / 'learner' / 'tinytorch'}" in printed, printed


@pytest.mark.parametrize("code, needs", [
    ("from tinytorch import Tensor", "01_tensor"),
    ("import tinytorch.core.layers as layers", "03_layers"),
    ("from tinytorch import nn", "13_transformers"),  # the namespace re-exports the layers of modules up to 13
    ("from tinytorch import optim", "07_training"),
    ("from tinytorch import Tensor, no_grad", "05_autograd"),
    ("from tinytorch import capstone", "20_capstone"),
])
def test_a_milestone_needs_the_modules_its_imports_name(tmp_path, code, needs):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(f"import numpy as np\n{code}")]
    path = tmp_path / "99_milestone.ipynb"
    nbformat.write(notebook, path)
    assert last_module_needed(path) == needs, f"{code!r}: the last module it needs"

"""The learner's own framework: their notebooks in work/, exported with the same directives as the reference.

    python -m tools.learner build [--work work] [--into build/learner]   what `make my-framework` runs
    python -m tools.learner check [--into build/learner]                 what `make check-my-framework` runs

`build` reads `work/NN_name/NN_name.ipynb` (the notebooks `make work` copied for the learner) and
writes `<into>/tinytorch/` with `tools/export.py`, exactly as `make build` writes the reference
`tinytorch/` from `source/`. It refuses to write over the reference package.

`check` runs the package tests (tests/core) on that package in a subprocess that imports
`tinytorch` from `<into>` first, blames each failure on a module (the one whose code raised it,
else the one whose tests failed) and names the first such module in course order: later modules
build on it, so that is where to start.

Milestones run on the learner's package when their first cell's `USE_MY_FRAMEWORK` is True (it
reads `build/learner/`), or with `TINYTORCH_PATH=<folder holding tinytorch/>` in the environment.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from tools import conventions as cv
from tools import export

DEFAULT_WORK = cv.ROOT / "work"
DEFAULT_INTO = cv.ROOT / "build" / "learner"
PACKAGE_TESTS = cv.ROOT / "tests"
WHOLE_PACKAGE = "the whole package"  # tests of no single module: the op catalogue, ...


def work_notebooks(work: Path) -> list[Path]:
    """work/NN_name/NN_name.ipynb for every module folder the learner has, in module order."""
    if not work.is_dir():
        raise cv.NotebookError(f"{work}: no such folder (run `make work` to copy the released modules there)")
    found = [folder / f"{folder.name}.ipynb" for folder in sorted(work.iterdir())
             if folder.is_dir() and cv.MODULE_FOLDER.match(folder.name)]
    return [path for path in found if path.exists()]


def build(work: Path = DEFAULT_WORK, into: Path = DEFAULT_INTO) -> list[str]:
    """Export the learner's notebooks to `<into>/tinytorch/`; return the modules exported (NN_name)."""
    target = (into / cv.PACKAGE).resolve()
    if target == (cv.ROOT / cv.PACKAGE).resolve():
        raise cv.NotebookError(f"{target} is the reference package: build the learner's package somewhere else")
    notebooks = work_notebooks(work)
    if not notebooks:
        raise cv.NotebookError(f"{work}: no module notebooks (run `make work` first)")
    shutil.rmtree(target, ignore_errors=True)  # a module removed from work/ must not linger
    export.build_package(notebooks, work.parent, into, learner_version())
    return [path.parent.name for path in notebooks]


def learner_version() -> str:
    """The course's version: from pyproject.toml in the course repository, from the reference package's in a bundle."""
    course = cv.ROOT / "pyproject.toml"
    return export.project_version(course if course.exists() else cv.ROOT / cv.REFERENCE_FOLDER / "pyproject.toml")


def package_modules_by_notebook(notebooks: list[Path], root: Path) -> dict[str, list[str]]:
    """NN_name -> the package modules (e.g. core.layers) its export cells write."""
    owners: dict[str, list[str]] = {path.parent.name: [] for path in notebooks}
    for dotted, module in export.collect(notebooks, root).items():
        for notebook in module.notebooks:
            owners[Path(notebook).parent.name].append(dotted)
    return owners


def tests_for(dotted: str, tests: Path = PACKAGE_TESTS) -> Path | None:
    """tests/core/test_layers.py for core.layers: the package tests mirror the package."""
    *folders, name = dotted.split(".")
    path = tests.joinpath(*folders, f"test_{name}.py")
    return path if path.exists() else None


def learner_env(into: Path) -> dict[str, str]:
    """This environment with the learner's package first on the path (the course's `tests` package after it)."""
    env = dict(os.environ)
    paths = [str(into.resolve()), str(cv.ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def imported_from(into: Path, owners: dict[str, list[str]]) -> Path:
    """Where `tinytorch` comes from in the learner's environment (the check refuses any other package).

    A package that does not even import is reported by the module whose file raised, the deepest
    package file in the traceback.
    """
    result = subprocess.run([sys.executable, "-c", "import tinytorch; print(tinytorch.__file__)"],
                            env=learner_env(into), cwd=into, capture_output=True, text=True)
    if result.returncode != 0:
        files = re.findall(rf'File "{re.escape(str(into.resolve()))}/{cv.PACKAGE}/(\S+)\.py"', result.stderr)
        dotted = files[-1].replace("/", ".") if files else None
        culprit = next((module for module, names in owners.items() if dotted in names), None)
        where = (f"Your module {culprit} breaks the import of your package (in {cv.PACKAGE}/{files[-1]}.py): "
                 f"fix work/{culprit}/{culprit}.ipynb, then run `make my-framework` again"
                 if culprit else "Your package does not import")
        raise cv.NotebookError(f"{where}.\n{result.stderr.strip()[-2000:]}")
    return Path(result.stdout.strip()).resolve()


def run_tests(into: Path, files: list[Path], junit: Path) -> subprocess.CompletedProcess:
    # importlib mode: pytest puts no test folder in front of the path, so `tinytorch` stays the learner's.
    command = [sys.executable, "-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider", "-p", "no:xdist",
               "--import-mode=importlib", f"--rootdir={cv.ROOT}", "-c", str(cv.ROOT / "pyproject.toml"),
               f"--junitxml={junit}", *map(str, files)]
    return subprocess.run(command, env=learner_env(into), cwd=into, capture_output=True, text=True)


@dataclass
class Failure:
    test: str  # tests/core/test_layers.py::test_linear_matches_numpy
    test_file: Path
    raised_in: str | None  # the package module of the deepest package frame, e.g. core.autograd


def failures(junit: Path) -> list[Failure]:
    """The failed and erroring tests of a pytest JUnit report, each with where in the package it raised."""
    found = []
    for case in ElementTree.parse(junit).iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is None:
            continue
        parts = case.get("classname", "").split(".")
        test_file = next((cv.ROOT.joinpath(*parts[:n]).with_suffix(".py") for n in range(len(parts), 0, -1)
                          if cv.ROOT.joinpath(*parts[:n]).with_suffix(".py").exists()), cv.ROOT)
        frames = re.findall(rf"(?:^|[\s/]){cv.PACKAGE}/([\w/]+)\.py:\d+", problem.text or "", re.M)
        message = problem.get("message") or ""
        # A wrong value fails a check (an assertion, in the test or a testing helper): the tested module is to blame.
        # Any other exception was raised by the code it passed through: the deepest package frame is.
        checked = message.startswith(("assert", "AssertionError", "Failed", "DID NOT RAISE")) or "\nE   AssertionError" in (
            problem.text or "")
        test = f"{test_file.relative_to(cv.ROOT).as_posix()}::{case.get('name')}"
        found.append(Failure(test, test_file, None if checked or not frames else frames[-1].replace("/", ".")))
    return found


def check(work: Path = DEFAULT_WORK, into: Path = DEFAULT_INTO, out=print) -> str | None:
    """Run the package tests on the learner's package; return the first module (in course order) to blame, or None.

    A failure is blamed on the module whose code raised it (the deepest frame in the learner's
    package: a stub of module 05 that raises inside a Tensor test is module 05's), else on the
    module whose tests failed (a wrong value).
    """
    if not (PACKAGE_TESTS / "core").is_dir():
        raise cv.NotebookError(f"the package tests ({PACKAGE_TESTS / 'core'}) are not here: a student bundle leaves "
                               "them out, so check your framework in a clone of the course repository, or run a "
                               "milestone on it (USE_MY_FRAMEWORK = True)")
    notebooks = work_notebooks(work)
    owners = package_modules_by_notebook(notebooks, work.parent)
    origin = imported_from(into, owners)
    if not origin.is_relative_to((into / cv.PACKAGE).resolve()):
        raise cv.NotebookError(f"tinytorch comes from {origin}, not from your package in {into}")
    order = list(owners)
    tested = {path: module for module, names in owners.items() for path in map(tests_for, names) if path is not None}
    missing = [name for name in cv.module_names() if name not in owners]
    files = set(tested)
    if not missing:  # tests of the whole package (the op catalogue, ...) once every module is there
        files |= set((PACKAGE_TESTS / "core").glob("test_*.py"))
        order.append(WHOLE_PACKAGE)
    if not files:
        out("No package tests for your modules yet.")
        return None
    with tempfile.TemporaryDirectory(prefix="tinytorch-check-") as scratch:
        junit = Path(scratch) / "report.xml"
        result = run_tests(into, sorted(files), junit)
        failed = failures(junit) if junit.exists() else []
    summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    if result.returncode == 0:
        out(f"Your framework passes the package tests of {', '.join(order)} ({summary}).")
        if missing:
            out(f"Not in work/ yet, so not in your package: {', '.join(missing)}")
        return None
    if not failed:
        out(result.stdout[-3000:] + result.stderr[-2000:])
        return WHOLE_PACKAGE
    exported_by = {dotted: module for module, names in owners.items() for dotted in names}
    blamed: dict[str, list[Failure]] = {}
    for failure in failed:
        module = exported_by.get(failure.raised_in) or tested.get(failure.test_file, WHOLE_PACKAGE)
        blamed.setdefault(module, []).append(failure)
    culprit = min(blamed, key=lambda module: order.index(module) if module in order else len(order))
    out(f"Package tests: {summary}")
    for module in order:
        if module in blamed:
            out(f"  {module}: {len(blamed[module])} failing")
    if culprit == WHOLE_PACKAGE:
        out("Tests of the whole package fail (first failures below).")
    else:
        out(f"Your module {culprit} fails its package tests: fix work/{culprit}/{culprit}.ipynb, then run "
            "`make my-framework` and `make check-my-framework` again. Later modules build on it, so start there.")
    out("First failures:\n  " + "\n  ".join(failure.test for failure in blamed[culprit][:5]))
    if missing:
        out(f"Not in work/ yet, so not in your package: {', '.join(missing)}")
    return culprit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.learner", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "check"])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="the learner's notebooks (default: work/)")
    parser.add_argument("--into", type=Path, default=DEFAULT_INTO, help="where tinytorch/ goes (default: build/learner/)")
    args = parser.parse_args(argv)
    work, into = args.work.resolve(), args.into.resolve()
    try:
        if args.command == "build":
            modules = build(work, into)
            print(f"Your framework: {into / cv.PACKAGE} from {', '.join(modules)}.")
            check_it = "Check it with `make check-my-framework`; run" if (PACKAGE_TESTS / "core").is_dir() else "Run"
            print(f"{check_it} a milestone on it with USE_MY_FRAMEWORK = True in its first cell.")
            return 0
        return 1 if check(work, into) else 0
    except cv.NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

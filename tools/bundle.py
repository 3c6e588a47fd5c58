"""What students get when modules up to NN are released: notebooks without solutions, and a package without them.

    python -m tools.bundle NN [--into build/student-NN]     what `make bundle UPTO=NN` runs

The course repository holds every module's reference solution (`source/`, and `tinytorch/` built
from it), so an instructor never hands it to students while a module is open. The bundle is what
goes to them instead (a public student repository, or a JupyterHub image):

    release/01_.../  ...  release/NN_.../   the student notebooks of modules 01..NN (no solutions, no hidden tests)
    notebooks/                               the milestones unlocked so far
    tinytorch-reference/                     the reference package of modules 01..NN-1 only: `pip install ./tinytorch-reference`
    Makefile, tools/                         `make work`, `make my-framework` (the learner's own package), nothing else
    requirements.txt, README.md

Module NN's notebook imports the earlier modules from that package, exactly as in the course.

**Which milestone is unlocked.** A milestone needs every course module whose package module it
imports (`from tinytorch.core.training import Trainer` needs 07_training, which itself builds on
01-06). It is unlocked, and bundled, once all of them are in the bundle's package, that is once
they come before NN. `python -m tools.bundle --milestones` lists each milestone's last module.

The package always holds `tinytorch.testing`, the checks every test cell imports: they are locked
course code in module 01 (no solution), so the bundle for 01 is its notebook and a package of the
checks alone.
"""

from __future__ import annotations

import argparse
import ast
import functools
import shutil
import sys
import textwrap
from pathlib import Path

from tools import conventions as cv
from tools import export
from tools.conventions import ROOT, NotebookError, source_text
from tools.notebooks import read

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PACKAGE_FOLDER = cv.REFERENCE_FOLDER
# The course tools a bundle carries so that learners can build their own package (`make my-framework`).
LEARNER_TOOLS = ("__init__.py", "conventions.py", "notebooks.py", "export.py", "learner.py")


def owners(root: Path = ROOT) -> dict[str, str]:
    """Package module (e.g. core.layers) -> the course module whose notebook exports it (03_layers)."""
    found = {}
    for dotted, module in export.collect(cv.module_notebooks(root), root).items():
        for notebook in module.notebooks:
            found.setdefault(dotted, Path(notebook).parent.name)
    return found


def milestone_notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@functools.cache
def package_modules(root: Path = ROOT) -> frozenset[str]:
    """Every module below tinytorch that a notebook exports or that is generated (nn, nn.functional, optim)."""
    return frozenset(owners(root)) | {namespace.dotted for namespace in cv.NAMESPACES}


def imported_package_modules(notebook: Path, root: Path = ROOT) -> set[str]:
    """The tinytorch modules a notebook imports, below the package (`tinytorch` itself counts as its top level)."""
    found = set()
    for cell in read(notebook)["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(source_text(cell))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            if isinstance(node, ast.ImportFrom) and node.module == cv.PACKAGE:
                # `from tinytorch import nn, no_grad` also needs the module nn and the module behind no_grad.
                names += [f"{cv.PACKAGE}.{alias.name}" for alias in node.names if alias.name in package_modules(root)]
                names += [f"{cv.PACKAGE}.{dotted}" for dotted, offered in cv.TOP_LEVEL_NAMES.items()
                          if any(alias.name in offered for alias in node.names)]
            for name in names:
                if name == cv.PACKAGE:
                    found.update(cv.TOP_LEVEL)
                elif name.startswith(cv.PACKAGE + "."):
                    found.add(name.split(".", 1)[1])
    return found


def last_module_needed(notebook: Path, root: Path = ROOT) -> str:
    """The last course module (in course order) whose package module the milestone imports."""
    exported_by, order = owners(root), cv.module_names(root)
    needed = set()
    for dotted in imported_package_modules(notebook):
        # tinytorch.nn and tinytorch.optim are namespaces: they need the modules they re-export.
        sources = next((ns.sources for ns in cv.NAMESPACES if ns.dotted == dotted), (dotted,))
        needed.update(exported_by[source] for source in sources if source in exported_by)
    if not needed:
        raise NotebookError(f"{notebook.name} imports no module of the package")
    return max(needed, key=order.index)


def unlocked_milestones(upto: str, root: Path = ROOT) -> list[Path]:
    """Milestones whose every needed module comes before `upto` (so is in the bundle's package)."""
    order = cv.module_names(root)
    return [path for path in milestone_notebooks(root) if order.index(last_module_needed(path, root)) < order.index(upto)]


def package_project(version: str) -> str:
    """pyproject.toml of the bundle's package: the course's name, version and dependencies, tinytorch only."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = ", ".join(f'"{d}"' for d in project.get("dependencies", []))
    return textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{project['name']}"
        version = "{version}"
        description = "The TinyTorch reference package, up to the modules released so far."
        requires-python = "{project.get('requires-python', '>=3.10')}"
        dependencies = [{dependencies}]

        [tool.setuptools.packages.find]
        include = ["tinytorch*"]
        """)


BUNDLE_MAKEFILE = """\
# The learner's commands in a student bundle (the course repository's Makefile has the same ones).
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: work my-framework check-my-framework

# Copy the released notebooks to work/, keeping any module already there (your edits).
work:
\t@mkdir -p work
\t@for m in release/*/; do name=$$(basename $$m); \\
\t  if [ -e work/$$name ]; then echo "keeping your work/$$name"; \\
\t  else cp -r $$m work/$$name && echo "created work/$$name"; fi; done

# Your own framework: the #| export cells of your notebooks in work/, in build/learner/tinytorch.
my-framework:
\t$(PYTHON) -m tools.learner build

check-my-framework:
\t$(PYTHON) -m tools.learner check
"""


def readme(upto: str, modules: list[str], milestones: list[Path]) -> str:
    before = modules[: modules.index(upto)]
    listed = ", ".join(path.stem for path in milestones) or "none yet"
    package = (f"the reference `tinytorch` of the modules before {upto} ({', '.join(before)}). Each module "
               "imports the earlier ones from it, so a bug in an earlier module never costs you points in a later "
               "one." if before else "`tinytorch.testing` only, the checks your notebook's test cells import.")
    return textwrap.dedent(f"""\
        # TinyTorch: modules {modules[0]} to {upto}

        ```bash
        python -m venv .venv && . .venv/bin/activate
        pip install -r requirements.txt ./{PACKAGE_FOLDER}
        jupyter lab
        ```

        - `release/`: one notebook per module. Work in a copy (`make work` copies it to `work/`) so
          that an update of this folder never touches your edits.
        - `{PACKAGE_FOLDER}/`: {package}
        - `notebooks/`: the milestones you can run so far ({listed}).
        - `make my-framework` exports the `#| export` cells of your notebooks in `work/` into your own
          `tinytorch` (`build/learner/`); a milestone runs on it with `USE_MY_FRAMEWORK = True` in its
          first cell. `make check-my-framework` needs the course's package tests, which a bundle
          leaves out.
        """)


def build(upto: str, into: Path, root: Path = ROOT) -> dict[str, list[str]]:
    """Write the bundle for modules up to `upto` into `into` (replaced); return what went in."""
    modules = cv.module_names(root)
    matches = [name for name in modules if name == upto or name.split("_", 1)[0] == upto.zfill(2)]
    if len(matches) != 1:
        raise NotebookError(f"no module {upto!r}: expected one of {', '.join(modules)} (or its number)")
    upto = matches[0]
    if into.resolve() in (root.resolve(), *root.resolve().parents):
        raise NotebookError(f"{into}: the bundle needs a folder of its own (it is replaced)")
    released = modules[: modules.index(upto) + 1]
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    for module in released:
        shutil.copytree(root / "release" / module, into / "release" / module,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    milestones = unlocked_milestones(upto, root)
    for path in milestones:
        (into / "notebooks").mkdir(exist_ok=True)
        shutil.copy(path, into / "notebooks" / path.name)
    in_package = [root / "source" / module / f"{module}.ipynb" for module in released[:-1]]
    version = export.project_version(root / "pyproject.toml")
    files = export.build_reference_package(in_package, root, into / PACKAGE_FOLDER, version)
    (into / PACKAGE_FOLDER / "pyproject.toml").write_text(package_project(version), encoding="utf-8")
    shutil.copy(root / "requirements.txt", into / "requirements.txt")
    (into / "tools").mkdir()
    for name in LEARNER_TOOLS:
        shutil.copy(root / "tools" / name, into / "tools" / name)
    (into / "Makefile").write_text(BUNDLE_MAKEFILE, encoding="utf-8")
    (into / "README.md").write_text(readme(upto, modules, milestones), encoding="utf-8")
    return {"release": released, "package": [m.parent.name for m in in_package],
            "milestones": [p.stem for p in milestones], "files": [f.as_posix() for f in files]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("upto", nargs="?", help="the last released module, e.g. 03 or 03_layers")
    parser.add_argument("--into", type=Path, help="the bundle's folder (default: build/student-NN)")
    parser.add_argument("--milestones", action="store_true", help="list each milestone's last needed module")
    args = parser.parse_args(argv)
    try:
        if args.milestones:
            for path in milestone_notebooks():
                print(f"{path.stem}: needs modules up to {last_module_needed(path)}")
            return 0
        if not args.upto:
            parser.error("name the last released module, e.g. `make bundle UPTO=03`")
        into = args.into or ROOT / "build" / f"student-{args.upto.split('_', 1)[0].zfill(2)}"
        made = build(args.upto, into.resolve())
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Bundle in {into}:")
    print(f"  release/: {', '.join(made['release'])}")
    print(f"  {PACKAGE_FOLDER}/ (pip install): tinytorch of {', '.join(made['package']) or 'no module yet'}, "
          "with the test helpers (tinytorch.testing)")
    print(f"  notebooks/: {', '.join(made['milestones']) or 'no milestone unlocked yet'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

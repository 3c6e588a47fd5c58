"""Rebuild everything generated from `source/`: the `tinytorch/` package and `release/`.

    python -m tools.generate           normalise notebooks, regenerate tinytorch/ and release/
    python -m tools.generate --check   rebuild in a temporary folder and report any drift (exit 1)

`release/` is made by real `nbgrader generate_assignment` runs in a throwaway copy of
the course, so the instructor's gradebook is never touched. Both outputs are
deterministic: building twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import export, notebooks
from tools.conventions import ROOT, module_notebooks
from tools.lab import isolated_jupyter_env

GENERATED = ("tinytorch", "release")
COMMITTED_NOTEBOOKS = ("source/*/*.ipynb", "notebooks/*.ipynb")


def normalize_committed_notebooks(root: Path) -> list[Path]:
    """Strip outputs and unstable metadata from source/ and notebooks/ in place."""
    changed = []
    for pattern in COMMITTED_NOTEBOOKS:
        for path in sorted(root.glob(pattern)):
            if notebooks.write(notebooks.read(path), path):
                changed.append(path.relative_to(root))
    return changed


def generate_release(root: Path, out: Path) -> None:
    """Run nbgrader generate_assignment for every module in a scratch course; copy release/ to out."""
    with tempfile.TemporaryDirectory(prefix="tinytorch-release-") as scratch:
        course = Path(scratch) / "course"
        shutil.copytree(root / "source", course / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
        env = isolated_jupyter_env(Path(scratch) / "home")
        for notebook in module_notebooks(root):
            assignment = notebook.parent.name
            result = subprocess.run(
                [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
                cwd=course, env=env, capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n{result.stdout}{result.stderr}")
        for path in sorted((course / "release").glob("*/*.ipynb")):
            target = out / "release" / path.relative_to(course / "release")
            notebooks.write(notebooks.read(path), target)


def build_into(root: Path, out: Path) -> None:
    export.build_package(module_notebooks(root), root, out)
    generate_release(root, out)


def differences(left: Path, right: Path) -> list[str]:
    """Files that differ, or exist on one side only, between two folders."""
    found = []
    left_files = {p.relative_to(left) for p in left.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    right_files = {p.relative_to(right) for p in right.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    for relative in sorted(left_files | right_files):
        if relative not in left_files or relative not in right_files:
            found.append(f"{relative} (only in {'built' if relative in left_files else 'committed'})")
        elif not filecmp.cmp(left / relative, right / relative, shallow=False):
            found.append(f"{relative} (content differs)")
    return found


def drift(root: Path = ROOT) -> list[str]:
    """What `make build` would change: generated files out of date, notebooks not normalised."""
    found = []
    for pattern in COMMITTED_NOTEBOOKS:
        for path in sorted(root.glob(pattern)):
            if notebooks.dumps(notebooks.normalize(notebooks.read(path))) != path.read_text(encoding="utf-8"):
                found.append(f"{path.relative_to(root).as_posix()} (not normalised)")
    with tempfile.TemporaryDirectory(prefix="tinytorch-build-") as scratch:
        out = Path(scratch)
        build_into(root, out)
        for name in GENERATED:
            found += [f"{name}/{d}" for d in differences(out / name, root / name)]
    return found


def build(root: Path = ROOT) -> None:
    for path in normalize_committed_notebooks(root):
        print(f"normalised {path}")
    with tempfile.TemporaryDirectory(prefix="tinytorch-build-") as scratch:
        out = Path(scratch)
        build_into(root, out)
        for name in GENERATED:
            for change in differences(out / name, root / name):
                print(f"updated {name}/{change}")
            shutil.rmtree(root / name, ignore_errors=True)
            shutil.copytree(out / name, root / name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report drift instead of rebuilding")
    args = parser.parse_args(argv)
    try:
        if args.check:
            found = drift()
            for line in found:
                print(f"out of date: {line}")
            if found:
                print("Run `make build` and commit the result.")
            return 1 if found else 0
        build()
    except notebooks.NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Release notebooks as a learner who has solved them leaves them: each solution cell holds the reference solution."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.course.nbgrader_course import load_notebook
from tools import conventions
from tools.conventions import ROOT


def solved_release(module: str) -> dict:
    """The release notebook of `module` with every solution cell replaced by the source's cell of the same grade_id."""
    solutions = {conventions.grade_id(cell): cell["source"] for cell in load_notebook("source", module)["cells"]
                 if conventions.is_solution(cell)}
    notebook = load_notebook("release", module)
    for cell in notebook["cells"]:
        if conventions.is_solution(cell):
            cell["source"] = solutions[conventions.grade_id(cell)]
    return notebook


def write_work(work: Path, modules: list[str], change=None) -> None:
    """work/NN_name/NN_name.ipynb for each module, solved; `change(module, notebook)` may plant a bug first."""
    for module in modules:
        notebook = solved_release(module)
        if change is not None:
            change(module, notebook)
        (work / module).mkdir(parents=True, exist_ok=True)
        (work / module / f"{module}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")


def learner(*args: str) -> subprocess.CompletedProcess:
    """`python -m tools.learner ARGS` (what `make my-framework` and `make check-my-framework` run)."""
    return subprocess.run([sys.executable, "-m", "tools.learner", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)

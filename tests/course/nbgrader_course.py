"""A throwaway copy of the course in which tests run nbgrader for real."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tools import conventions
from tools.conventions import ROOT, module_names, source_text
from tools.lab import isolated_jupyter_env

__all__ = ["ROOT", "Course", "GradedCell", "cell_source", "graded_cells", "hidden_test_lines", "load_notebook",
           "module_names", "visible_text"]

cell_source = source_text


def load_notebook(folder: str, module: str) -> dict:
    return json.loads(conventions.module_notebook(module, folder).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class GradedCell:
    grade_id: str
    points: float
    hidden: bool


def graded_cells(notebook: dict) -> list[GradedCell]:
    return [
        GradedCell(conventions.grade_id(cell), conventions.points(cell), conventions.has_hidden_tests(cell))
        for cell in notebook["cells"]
        if conventions.is_graded(cell)
    ]


def hidden_test_lines(notebook: dict, min_length: int = 20) -> list[str]:
    """Distinctive lines of hidden-test code: none may appear in feedback.

    A line that also stands in the visible part of the notebook (an import the setup cell
    has too, say) is no secret, so it is left out.
    """
    texts = [cell_source(cell) for cell in notebook["cells"]]
    visible = "\n".join(conventions.without_hidden_tests(text) for text in texts)
    lines = []
    for text in texts:
        for block in conventions.hidden_test_blocks(text):
            lines += [line.strip() for line in block.splitlines() if len(line.strip()) >= min_length]
    return [line for line in lines if line not in visible]


def visible_text(page: str) -> str:
    """The text a reader sees in an HTML page: tags removed, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


class Course:
    """source/ and nbgrader_config.py copied to `where`, with Jupyter isolated under it."""

    def __init__(self, where: Path):
        self.root = where / "course"
        shutil.copytree(ROOT / "source", self.root / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        shutil.copy(ROOT / "nbgrader_config.py", self.root)
        self.env = isolated_jupyter_env(where / "home")
        self.env.pop("TINYTORCH_DB_URL", None)  # the course's own sqlite gradebook unless a test chooses otherwise

    def nbgrader(self, *args: str, timeout: float = 900, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd or self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def generate(self, module: str) -> None:
        result = self.nbgrader("generate_assignment", module, "--force")
        assert result.returncode == 0, f"generate_assignment {module} failed:\n{result.stdout}{result.stderr}"

    def submit(self, module: str, student: str, notebook: dict) -> None:
        folder = self.root / "submitted" / student / module
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{module}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")

    def autograde(self, module: str, cell_timeout: int) -> subprocess.CompletedProcess:
        """Grade every submission of `module` in one nbgrader run, like an instructor would."""
        return self.nbgrader("autograde", module, "--create", "--force", f"--Execute.timeout={cell_timeout}")

    def scores(self, module: str, student: str) -> dict[str, float]:
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            try:
                notebook = gradebook.find_submission_notebook(module, module, student)
            except MissingEntry:
                return {}
            return {grade.name: float(grade.score) for grade in notebook.grades if grade.cell.cell_type == "code"}

    def autograded_notebook(self, module: str, student: str) -> dict:
        path = self.root / "autograded" / student / module / f"{module}.ipynb"
        return json.loads(path.read_text(encoding="utf-8"))

    def feedback(self, module: str) -> subprocess.CompletedProcess:
        return self.nbgrader("generate_feedback", module, "--force")

    def feedback_page(self, module: str, student: str) -> str:
        return (self.root / "feedback" / student / module / f"{module}.html").read_text(encoding="utf-8")

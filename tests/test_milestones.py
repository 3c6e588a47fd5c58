"""Milestone notebooks (notebooks/): what nbval alone does not check.

nbval runs every milestone headless (see pyproject.toml); these tests make sure each one
exists, imports only the finished package plus the plotting and data libraries, and ends
with assertions that check its claim, so a broken claim fails CI instead of printing a
low number.
"""

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
MILESTONES = ["01_perceptron_1957", "02_xor_1969", "03_mlp_digits_1986", "05_gpt_2017"]
ALLOWED_IMPORTS = {"tinytorch", "numpy", "matplotlib", "sklearn", "time", "os", "tempfile"}


def code_cells(name):
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    sources = [cell["source"] for cell in notebook["cells"] if cell["cell_type"] == "code"]
    return ["".join(source) if isinstance(source, list) else source for source in sources]


@pytest.mark.parametrize("name", MILESTONES)
def test_milestone_uses_only_the_package_and_plain_libraries(name):
    imported = set()
    for source in code_cells(name):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split(".")[0])
    assert "tinytorch" in imported, f"{name} does not use tinytorch"
    assert imported <= ALLOWED_IMPORTS, f"{name} imports {sorted(imported - ALLOWED_IMPORTS)}"


@pytest.mark.parametrize("name", MILESTONES)
def test_milestone_ends_by_asserting_its_claim(name):
    last = ast.parse(code_cells(name)[-1])
    asserts = [node for node in ast.walk(last) if isinstance(node, ast.Assert)]
    assert asserts, f"the last code cell of {name} should assert the milestone's claim"
    assert any("accuracy" in ast.unparse(node.test) for node in asserts), f"{name} should assert an accuracy"

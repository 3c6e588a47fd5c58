"""Editing notebooks as text is lossless: notebook -> percent script -> notebook gives the normalised notebook."""

import subprocess
import sys

import pytest

from tools import notebooks, percent
from tools.conventions import ROOT

COMMITTED = sorted(ROOT.glob("source/*/*.ipynb")) + sorted(ROOT.glob("notebooks/*.ipynb"))


def _cell(kind, source, **metadata):
    cell = {"cell_type": kind, "metadata": metadata, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _nbgrader(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


SYNTHETIC = {
    "cells": [
        _cell("markdown", "# Title\n\nSome *text*, a list:\n\n- one\n- two\n\n```python\nx = 1\n```"),
        _cell("raw", "raw text, kept as is\n# %% not a cell header inside a raw cell?"),
        _cell("code", "#| default_exp core.x\nimport numpy as np", nbgrader=_nbgrader("setup", locked=True)),
        _cell("code", "%matplotlib inline\nx = 1  # a magic and code", tags=["keep", "plot"]),
        _cell("code", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
              nbgrader=_nbgrader("f-solution", solution=True)),
        # an autograded answer: the learner writes it, and it is graded by itself
        _cell("code", "answer = 42", nbgrader=_nbgrader("answer", grade=True, solution=True, points=1)),
        # a manually graded written answer
        _cell("markdown", "YOUR ANSWER HERE", nbgrader=_nbgrader("why", grade=True, solution=True, points=3)),
        _cell("markdown", "A read-only instruction.", nbgrader=_nbgrader("instruction", locked=True), deletable=False),
        _cell("code", "assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f() + 1 == 2\n### END HIDDEN TESTS",
              nbgrader=_nbgrader("f-test", grade=True, locked=True, points=2), editable=False, deletable=False),
        _cell("code", "", tags=["empty"]),
        _cell("code", "print('trailing blank lines')\n\n\n"),
        _cell("markdown", "last"),
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}, "widgets": {}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def assert_round_trip(notebook):
    expected = notebooks.dumps(notebooks.normalize(notebook))
    script = percent.to_script(notebook)
    assert notebooks.dumps(percent.from_script(script)) == expected, "the text round trip changed the notebook"
    return script


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_committed_notebooks_round_trip_through_text(path):
    assert_round_trip(notebooks.read(path))


def test_every_kind_of_cell_round_trips_through_text():
    script = assert_round_trip(SYNTHETIC)
    assert "# %% [raw]\n" in script and '# %% tags=["keep", "plot"]\n' in script
    assert '# %% [markdown] nbgrader={"grade": true, "grade_id": "why"' in script


def test_command_line_round_trip(tmp_path):
    source = ROOT / "source" / "01_tensor" / "01_tensor.ipynb"
    script = subprocess.run([sys.executable, "-m", "tools.percent", "to-py", str(source)],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    (tmp_path / "01.py").write_text(script)
    subprocess.run([sys.executable, "-m", "tools.percent", "to-ipynb", str(tmp_path / "01.py"), str(tmp_path / "01.ipynb")],
                   cwd=ROOT, check=True)
    assert (tmp_path / "01.ipynb").read_text() == source.read_text()

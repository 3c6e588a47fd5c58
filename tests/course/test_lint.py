"""The Python (tooling, tests, benchmarks, config and the package exported from source/) passes ruff."""

import subprocess
import sys

from tests.course.nbgrader_course import ROOT


def test_ruff_is_clean():
    # What is checked (everything but the notebooks) is set in pyproject.toml, shared with `make lint`.
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

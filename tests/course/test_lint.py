"""The hand-written Python (tooling, tests, benchmarks, config) passes ruff with the project's settings."""

import subprocess
import sys

from nbgrader_course import ROOT


def test_ruff_is_clean():
    paths = ["tools", "tests", "benchmarks", "conftest.py", "nbgrader_config.py"]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

"""Fixtures shared by the course-tooling tests."""

import subprocess
import sys

import pytest

from tools.conventions import ROOT


@pytest.fixture(scope="session")
def build_check() -> subprocess.CompletedProcess:
    """`python -m tools.generate --check`, run once per session: a full build in a scratch folder, then a diff."""
    return subprocess.run([sys.executable, "-m", "tools.generate", "--check"], cwd=ROOT, capture_output=True, text=True)

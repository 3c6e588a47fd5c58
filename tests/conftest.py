"""Test-wide settings: isolate Jupyter, and keep related tests on one xdist worker."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "course"))

# Jupyter (nbval's kernels included) writes under HOME: keep it out of the user's files.
_home = Path(tempfile.mkdtemp(prefix="tinytorch-test-home-"))
from build import isolated_jupyter_env  # noqa: E402

os.environ.update(isolated_jupyter_env(_home))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """One xdist group per notebook (nbval cells share a kernel) and per graded module."""
    for item in items:
        group = item.nodeid.split("::")[0]
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "run" in callspec.params:
            group = f"grading-{callspec.params['run']}"
        item.add_marker(pytest.mark.xdist_group(name=group))

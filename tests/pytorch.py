"""PyTorch as an extra reference for the package tests.

The package never needs PyTorch, and a student's `make test` does not install it (on many machines
it is a download of several GB). Comparisons with it are extra evidence on top of the NumPy
references and finite differences, so without it they skip with a reason, except under CI (`CI`
set), where `.ci/run` installs the CPU build and a missing PyTorch is a failure.
"""

import os

import pytest


def require_torch():
    """The torch module, or a skip (a failure under CI) when it is not installed."""
    try:
        import torch
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("PyTorch is not installed, but CI compares the package with it (.ci/run installs it)")
        pytest.skip("PyTorch is not installed: comparison with PyTorch skipped (CI installs it)")
    return torch

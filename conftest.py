"""Test-wide settings (tests/, source/ and notebooks/): isolate Jupyter, pin BLAS threads, and nothing
else. It sits at the top so that it also applies to the notebooks."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "course"))

# Jupyter (nbval's kernels included) writes under HOME: keep it out of the user's files.
_home = Path(tempfile.mkdtemp(prefix="tinytorch-test-home-"))
from build import isolated_jupyter_env  # noqa: E402

os.environ.update(isolated_jupyter_env(_home))
# One BLAS thread per process: tests run two workers on two cores, and oversubscribed BLAS
# threads make small matmuls (and so notebook and grading timings) swing wildly.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"


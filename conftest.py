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


# Property tests: `make test` replays a fixed, derandomised set of examples so that CI and every
# machine see the same cases; HYPOTHESIS_PROFILE=explore searches fresh examples, many more of them.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

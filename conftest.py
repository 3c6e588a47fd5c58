"""Test-wide settings (tests/, source/ and notebooks/): isolate Jupyter, pin BLAS threads, and nothing
else. It sits at the top so that it also applies to the notebooks."""

import os
import tempfile
from pathlib import Path

from hypothesis import settings

from tools.lab import isolated_jupyter_env

# Jupyter (nbval's kernels included) writes under HOME: keep it out of the user's files.
os.environ.update(isolated_jupyter_env(Path(tempfile.mkdtemp(prefix="tinytorch-test-home-"))))
# One BLAS thread per process: tests run two workers on two cores, and oversubscribed BLAS
# threads make small matmuls (and so notebook and grading timings) swing wildly.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"


# Property tests: `make test` replays a fixed, derandomised set of examples so that CI and every
# machine see the same cases; HYPOTHESIS_PROFILE=explore searches fresh examples, many more of them.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

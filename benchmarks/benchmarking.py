"""Module 19's harness on the course's own work: the suite's medians on both clocks, and one comparison with
its interval and verdict (cached against uncached generation of the suite's tiny GPT).

Run through `python -m benchmarks.run`, or alone with `python -m benchmarks.benchmarking`.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # when run alone: before NumPy loads its BLAS, as benchmarks.run does

import numpy as np  # noqa: E402

from tinytorch.core.transformers import GPT  # noqa: E402
from tinytorch.perf.benchmarking import compare, run_suite  # noqa: E402
from tinytorch.perf.memoization import generate_cached  # noqa: E402


def report(repeats=15):
    suite = run_suite(warmup=2, repeats=repeats)
    print(f"\nModule 19 suite, {repeats} runs each after 2 warm-up runs (median ms, interquartile range, outliers):")
    for measurement in suite["measurements"]:
        summary = measurement.summary()
        print(f"  {measurement.name:>10} {measurement.clock:>4}: {summary['median'] * 1e3:7.3f} ms "
              f"(IQR {summary['iqr'] * 1e3:6.3f}, {summary['outliers']} outlier(s))")
    model = GPT(vocab_size=64, context_length=64, embed_dim=32, num_heads=4, num_layers=2, rng=0)
    prompt = np.arange(8).reshape(1, 8)
    result = compare(lambda: generate_cached(model, prompt, 32, rng=0), lambda: model.generate(prompt, 32, rng=0),
                     warmup=1, repeats=repeats)
    print(f"  32 tokens, cached (A) against GPT.generate (B): {result}")


if __name__ == "__main__":
    report()

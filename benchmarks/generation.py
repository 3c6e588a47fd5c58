"""Generating 256 tokens with the milestone GPT, with and without a KV cache (module 17).

The architecture of notebooks/05_gpt_2017 (vocabulary 384, width 64, 4 heads, 2 blocks) with a context of
16 + 256 = 272 positions instead of its 64, so that a 16-token prompt and 256 new tokens fit without cropping;
random weights (the speed does not depend on them). Both runs sample at temperature 1 from the same seed and must
give the same tokens. Run through `python -m benchmarks.run`, or alone: `python -m benchmarks.generation`.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # single-threaded BLAS when run alone, as benchmarks.run does

import statistics
import time

import numpy as np

from tinytorch.core.transformers import GPT
from tinytorch.perf.memoization import KVCache, generate_cached

VOCAB, WIDTH, HEADS, LAYERS, PROMPT, NEW_TOKENS = 384, 64, 4, 2, 16, 256


def cpu_seconds(run, repeats=3):
    """Median CPU seconds of `repeats` runs after one warm-up run, and the last run's result."""
    result = run()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        result = run()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def bench_generation(repeats=3):
    """(uncached seconds, cached seconds, cache bytes) for NEW_TOKENS tokens after a PROMPT-token prompt."""
    model = GPT(VOCAB, PROMPT + NEW_TOKENS, WIDTH, HEADS, LAYERS, rng=0)
    prompt = np.random.default_rng(1).integers(0, VOCAB, size=(1, PROMPT))
    cache = KVCache.for_model(model, batch_size=1)
    uncached, expected = cpu_seconds(lambda: model.generate(prompt, NEW_TOKENS, rng=2), repeats)
    cached, got = cpu_seconds(lambda: generate_cached(model, prompt, NEW_TOKENS, rng=2, cache=cache), repeats)
    assert np.array_equal(got, expected), "cached and uncached generation disagree"
    return uncached, cached, cache.nbytes


def report(repeats=3, malloc="malloc as this process left it"):
    uncached, cached, nbytes = bench_generation(repeats)
    print(f"\n[{malloc}] Generating {NEW_TOKENS} tokens after a {PROMPT}-token prompt, milestone GPT ({LAYERS} blocks, width "
          f"{WIDTH}, {HEADS} heads, vocabulary {VOCAB}, context {PROMPT + NEW_TOKENS}), CPU seconds:\n"
          f"  uncached (GPT.generate) {uncached:6.3f} s ({uncached / NEW_TOKENS * 1e3:5.2f} ms per token)\n"
          f"  cached (generate_cached) {cached:5.3f} s ({cached / NEW_TOKENS * 1e3:5.2f} ms per token), "
          f"{uncached / cached:.1f}x faster, same tokens; cache {nbytes / 1024:.0f} KiB")


if __name__ == "__main__":
    from benchmarks.conv import keep_freed_memory

    report()
    # The uncached steps allocate large arrays (T x T scores per head): fresh pages from the kernel on every call
    # unless malloc keeps freed memory. Show both, as benchmarks.run does for the other transformer benchmarks.
    if keep_freed_memory():
        report(malloc="malloc keeping freed memory")

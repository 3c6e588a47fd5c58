"""Int8 inference in NumPy: the integer matrix product against float32 BLAS, and QuantizedLinear against Linear.

NumPy sends float32 `matmul` to BLAS, but integer `matmul` runs NumPy's own generic loop, so the
int8 layers of module 15 are slower than the float ones on a CPU: what they save is memory. Run
through `python -m benchmarks.run`.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Linear
from tinytorch.core.tensor import Tensor
from tinytorch.perf.quantization import QuantizedLinear

SIZE, BATCH = 256, 64


def bench_int_matmul(median_time):
    """Median seconds of (SIZE x SIZE) @ (SIZE x SIZE) in float32 and in int32 (the accumulator type of int8 layers)."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(SIZE, SIZE)).astype(np.float32), rng.normal(size=(SIZE, SIZE)).astype(np.float32)
    a_int = rng.integers(-255, 256, size=(SIZE, SIZE), dtype=np.int32)
    b_int = rng.integers(-127, 128, size=(SIZE, SIZE), dtype=np.int32)
    return median_time(lambda: a @ b), median_time(lambda: a_int @ b_int, repeats=5, warmup=1)


def bench_quantized_linear(median_time):
    """Median seconds of Linear(SIZE, SIZE) and its QuantizedLinear on a (BATCH, SIZE) batch, without a graph."""
    rng = np.random.default_rng(1)
    x = Tensor(rng.uniform(-1, 1, size=(BATCH, SIZE)).astype(np.float32))
    linear = Linear(SIZE, SIZE, rng=0)
    quantized = QuantizedLinear(linear, (-1.0, 1.0))
    with no_grad():
        error = float(np.abs(quantized(x).data - linear(x).data).max())
        return median_time(lambda: linear(x)), median_time(lambda: quantized(x), repeats=5, warmup=1), error


def report(median_time):
    float_s, int_s = bench_int_matmul(median_time)
    print(f"\nQuantization: {SIZE}x{SIZE} @ {SIZE}x{SIZE}: float32 (BLAS) {float_s * 1e3:.3f} ms, int32 (NumPy's loop) "
          f"{int_s * 1e3:.2f} ms ({int_s / float_s:.0f}x slower)")
    float_s, int8_s, error = bench_quantized_linear(median_time)
    print(f"  Linear({SIZE}, {SIZE}) on a batch of {BATCH}: float32 {float_s * 1e3:.3f} ms, int8 QuantizedLinear "
          f"{int8_s * 1e3:.2f} ms ({int8_s / float_s:.0f}x slower; largest output difference {error:.4f}); "
          f"weight bytes {SIZE * SIZE * 4:,} -> {SIZE * SIZE + SIZE * 8:,}")

"""What module 18's acceleration buys: the fused `linear_gelu` against the three-op chain `GELU()(x @ W + b)`
(forward and backward, the shapes of an MLP layer and of a GPT block's MLP), and `blocked_matmul` against
`np.matmul` for a few tile sizes. Single-threaded BLAS, CPU time, medians after a warm-up; ratios above 1 mean
the accelerated version is faster.

The fusion ratio depends on glibc malloc's history: while it hands large new arrays fresh pages from the kernel,
each temporary of the chain costs page faults, which fusion avoids; once freed memory is reused (as PyTorch's
caching allocator does), only the arithmetic and memory passes count, and the fused backward's recomputed
matmul shows. So the fusion rows are printed twice, the second time from a child process whose malloc keeps
freed memory (`benchmarks.conv.keep_freed_memory`), leaving this process as it was.

Run through `python -m benchmarks.run`, or alone with `python -m benchmarks.acceleration`.
"""

from __future__ import annotations

import os
import subprocess
import sys

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # when run alone: before NumPy loads its BLAS, as benchmarks.run does

import numpy as np  # noqa: E402

import tinytorch  # noqa: E402, F401  (turns autograd on)
from tinytorch.core.activations import GELU  # noqa: E402
from tinytorch.core.tensor import Tensor  # noqa: E402
from tinytorch.perf.acceleration import blocked_matmul, linear_gelu  # noqa: E402

LAYERS = [(64, 784, 256), (256, 128, 512), (1024, 64, 256)]  # (rows, in, out)
MATMUL_SIZE, TILES = 256, (16, 64, 128)


def forward_backward(function, arrays):
    def step():
        tensors = [Tensor(array, requires_grad=True) for array in arrays]
        function(*tensors).sum().backward()
    return step


def bench_fusion(process_time):
    """[(rows, in, out, unfused ms, fused ms)] for forward + backward in float32."""
    activation, rows_out = GELU(), []
    for rows, fan_in, fan_out in LAYERS:
        rng = np.random.default_rng(0)
        arrays = [rng.normal(size=shape).astype(np.float32) for shape in ((rows, fan_in), (fan_in, fan_out), (fan_out,))]
        unfused = process_time(forward_backward(lambda x, w, b: activation(x @ w + b), arrays))
        fused = process_time(forward_backward(linear_gelu, arrays))
        rows_out.append((rows, fan_in, fan_out, unfused * 1e3, fused * 1e3))
    return rows_out


def bench_blocked(process_time):
    """(np.matmul ms, [(tile, blocked ms)]) for a square float32 product."""
    rng = np.random.default_rng(1)
    a, b = (rng.normal(size=(MATMUL_SIZE, MATMUL_SIZE)).astype(np.float32) for _ in range(2))
    assert np.allclose(blocked_matmul(a, b, TILES[0]), a @ b, rtol=1e-4, atol=1e-3), "blocked_matmul must equal a @ b"
    return process_time(lambda: a @ b) * 1e3, [(tile, process_time(lambda t=tile: blocked_matmul(a, b, t)) * 1e3)
                                               for tile in TILES]


def print_fusion(process_time, label):
    print(f"\nAcceleration, fused linear_gelu against GELU()(x @ W + b), float32 forward + backward (CPU ms), {label}:")
    for rows, fan_in, fan_out, unfused, fused in bench_fusion(process_time):
        print(f"  x ({rows}, {fan_in}) @ W ({fan_in}, {fan_out}): chain {unfused:7.3f}  fused {fused:7.3f}  "
              f"speed-up {unfused / fused:5.2f}x")


def report(process_time):
    print_fusion(process_time, "malloc as this process left it")
    sys.stdout.flush()
    subprocess.run([sys.executable, "-m", "benchmarks.acceleration", "--fusion-keeping-freed-memory"], check=True)
    whole, blocked = bench_blocked(process_time)
    print(f"Blocked matmul, {MATMUL_SIZE} x {MATMUL_SIZE} float32 (np.matmul {whole:.3f} ms):")
    for tile, ms in blocked:
        print(f"  tile {tile:4d}: {ms:8.3f} ms  ({ms / whole:6.2f}x the time of np.matmul)")


if __name__ == "__main__":
    from benchmarks.run import process_time

    if sys.argv[1:] == ["--fusion-keeping-freed-memory"]:
        from benchmarks.conv import keep_freed_memory

        if keep_freed_memory():
            print_fusion(process_time, "malloc keeping freed memory (a child process)")
        else:
            print("  (cannot tune malloc here: not glibc)")
    else:
        report(process_time)

"""Conv2d 3->16, 3x3, padding 1 on 32 images of 3x32x32, then 2x2 max pooling: forward and backward.

TinyTorch (through autograd) against the same work written in plain NumPy, and PyTorch when it is
installed. The NumPy reference is what a careful hand-written layer does: im2col on a strided view,
one GEMM, and keeping what the backward needs (the columns, the max-pool winners) from the forward.
`benchmarks/run.py` prints the ratios; run this file alone with `python -m benchmarks.conv`.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # before NumPy loads its BLAS

import ctypes
import ctypes.util
import resource
import statistics
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

import tinytorch  # noqa: F401  (turns autograd on)
from tinytorch.core.spatial import conv2d, max_pool2d
from tinytorch.core.tensor import Tensor

BATCH, IN, OUT, SIZE, KERNEL, PADDING, POOL = 32, 3, 16, 32, 3, 1, 2


def conv_data(seed=0):
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(IN * KERNEL * KERNEL)
    x = rng.normal(size=(BATCH, IN, SIZE, SIZE)).astype(np.float32)
    weight = rng.uniform(-bound, bound, (OUT, IN, KERNEL, KERNEL)).astype(np.float32)
    bias = rng.uniform(-bound, bound, OUT).astype(np.float32)
    upstream = rng.normal(size=(BATCH, OUT, SIZE // POOL, SIZE // POOL)).astype(np.float32)
    return x, weight, bias, upstream


def numpy_conv_pool(x, weight, bias, upstream):
    """Forward and backward by hand: returns the pooled output and the gradients of x, weight and bias."""
    n, channels, height, width = x.shape
    size = height + 2 * PADDING
    padded = np.zeros((n, channels, size, size), dtype=x.dtype)
    padded[:, :, PADDING:PADDING + height, PADDING:PADDING + width] = x
    s_n, s_c, s_h, s_w = padded.strides
    windows = as_strided(padded, (n, channels, KERNEL, KERNEL, height, width), (s_n, s_c, s_h, s_w, s_h, s_w))
    columns = windows.reshape(n, channels * KERNEL * KERNEL, height * width)
    conv = np.matmul(weight.reshape(OUT, -1), columns)
    conv += bias[:, None]
    conv = conv.reshape(n, OUT, height, width)
    # 2x2 max pooling, stride 2: the four offsets of each window as strided slices
    quarters = [conv[:, :, i::POOL, j::POOL] for i in range(POOL) for j in range(POOL)]
    pooled = np.maximum(np.maximum(quarters[0], quarters[1]), np.maximum(quarters[2], quarters[3]))
    # backward of the pooling: the first maximum of each window gets the gradient
    grad_conv = np.zeros_like(conv)
    free = np.ones(pooled.shape, dtype=bool)
    for (i, j), quarter in zip([(i, j) for i in range(POOL) for j in range(POOL)], quarters, strict=True):
        won = (quarter == pooled) & free
        free &= ~won
        grad_conv[:, :, i::POOL, j::POOL] = upstream * won
    # backward of the convolution
    grad_rows = grad_conv.reshape(n, OUT, height * width)
    grad_bias = grad_rows.sum(axis=(0, 2))
    grad_weight = np.matmul(grad_rows, columns.transpose(0, 2, 1)).sum(axis=0).reshape(weight.shape)
    grad_columns = np.matmul(weight.reshape(OUT, -1).T, grad_rows).reshape(n, channels, KERNEL, KERNEL, height, width)
    grad_padded = np.zeros_like(padded)
    for i in range(KERNEL):
        for j in range(KERNEL):
            grad_padded[:, :, i:i + height, j:j + width] += grad_columns[:, :, i, j]
    return pooled, grad_padded[:, :, PADDING:PADDING + height, PADDING:PADDING + width], grad_weight, grad_bias


def tinytorch_conv_pool(x, weight, bias, upstream):
    tensors = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    pooled = max_pool2d(conv2d(*tensors, padding=PADDING), POOL)
    pooled.backward(upstream)
    return (pooled.data,) + tuple(t.grad for t in tensors)


def torch_conv_pool(torch, x, weight, bias, upstream):
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    pooled = torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(*tensors, padding=PADDING), POOL)
    pooled.backward(torch.from_numpy(upstream))
    return (pooled.detach().numpy(),) + tuple(t.grad.numpy() for t in tensors)


def best_of_medians(run, rounds=5, repeats=20):
    """The lowest of several medians of CPU time: robust to other programs sharing the machine."""
    medians = []
    for _ in range(rounds):
        run()
        times = []
        for _ in range(repeats):
            start = time.process_time()
            run()
            times.append(time.process_time() - start)
        medians.append(statistics.median(times))
    return min(medians)


def page_faults(run, repeats=20):
    """Minor page faults per run: fresh memory the kernel had to map (and zero) for it."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        run()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / repeats


def bench_conv(torch=None):
    """(NumPy ms, TinyTorch ms, PyTorch ms or None) for one forward + backward, after checking they agree."""
    data = conv_data()
    reference = numpy_conv_pool(*data)
    for name, got, want in zip(["output", "grad x", "grad weight", "grad bias"], tinytorch_conv_pool(*data), reference,
                               strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=f"TinyTorch and NumPy disagree on the {name}")
    runs = {"NumPy by hand": lambda: numpy_conv_pool(*data), "TinyTorch": lambda: tinytorch_conv_pool(*data)}
    if torch is not None:
        for name, got, want in zip(["output", "grad x", "grad weight", "grad bias"], torch_conv_pool(torch, *data),
                                   reference, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=f"PyTorch and NumPy disagree on the {name}")
        runs["PyTorch"] = lambda: torch_conv_pool(torch, *data)
    return {name: (best_of_medians(run) * 1e3, page_faults(run)) for name, run in runs.items()}


def keep_freed_memory():
    """Ask glibc's malloc to keep freed blocks for reuse instead of returning them to the system.

    glibc gives each large array fresh pages from the kernel (zeroed on first touch) until freed
    blocks have raised its threshold, so how often that happens depends on what the process ran
    before: in a fresh process this layer costs thousands of page faults per step, more time than the
    arithmetic. PyTorch sidesteps them with its own caching allocator. Returns False where it cannot
    be done (not glibc).
    """
    path = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(path).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    trim_threshold, top_pad, mmap_threshold = -1, -2, -3  # M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD
    return all(mallopt(option, value) == 1 for option, value in
               [(mmap_threshold, 1 << 30), (trim_threshold, 1 << 30), (top_pad, 64 << 20)])


def report(torch=None):
    print(f"\nConv2d {IN}->{OUT}, {KERNEL}x{KERNEL}, padding {PADDING}, on {BATCH}x{IN}x{SIZE}x{SIZE}, then {POOL}x{POOL} "
          "max pooling, forward + backward (CPU ms, page faults per step):")
    for label in ("malloc as this process left it", "malloc keeping freed memory (as PyTorch's allocator does)"):
        if label.startswith("malloc keeping") and not keep_freed_memory():
            print("  (cannot tune malloc here: not glibc)")
            break
        rows = bench_conv(torch)
        numpy_ms, tiny_ms = rows["NumPy by hand"][0], rows["TinyTorch"][0]
        print(f"  {label}: TinyTorch / NumPy {tiny_ms / numpy_ms:.2f}x"
              + (f", TinyTorch / PyTorch {tiny_ms / rows['PyTorch'][0]:.2f}x" if "PyTorch" in rows else ""))
        for name, (ms, faults) in rows.items():
            print(f"    {name:14s} {ms:7.3f} ms  {faults:6.0f} faults")


if __name__ == "__main__":
    try:
        import torch as _torch
        _torch.set_num_threads(1)
    except ImportError:
        _torch = None
    report(_torch)

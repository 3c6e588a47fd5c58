"""What compression buys in time: a training step of the 784-256-128-10 MLP (batch 64, SGD) dense, with 90% of
its weights zeroed by magnitude pruning (kept zero by MaskedOptimizer), with half of its hidden neurons removed by
structured pruning, and with its first layer factorised at rank 32. Ratios are to the dense step.

Run through `python -m benchmarks.run` (single-threaded BLAS), or alone with `python -m benchmarks.compression`.
"""

from __future__ import annotations

import copy
import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # before NumPy loads its BLAS, when run alone

import numpy as np  # noqa: E402

from tinytorch.core.layers import Sequential  # noqa: E402
from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.core.optimizers import SGD  # noqa: E402
from tinytorch.core.tensor import Tensor  # noqa: E402
from tinytorch.perf.compression import MaskedOptimizer, low_rank_linear, prune_magnitude, prune_structured  # noqa: E402


def bench_compression(process_time, make_mlp, data):
    """[(label, parameters, CPU ms per step)] for the dense MLP and its compressed versions."""
    x, y, weights = data
    inputs, targets = Tensor(x), Tensor(y)
    loss_fn = CrossEntropyLoss()
    dense = make_mlp(weights)
    sparse = copy.deepcopy(dense)
    masks = prune_magnitude(sparse, 0.9, scope="global")
    narrow = prune_structured(prune_structured(dense, 0, 0.5), 2, 0.5)
    factorised = Sequential(low_rank_linear(dense[0], 32), *dense.layers[1:])
    variants = [
        ("dense", dense, SGD(dense.parameters(), lr=0.01)),
        ("90% of weights zero (global magnitude, MaskedOptimizer)", sparse,
         MaskedOptimizer(SGD(sparse.parameters(), lr=0.01), masks)),
        ("half the hidden neurons removed (structured)", narrow, SGD(narrow.parameters(), lr=0.01)),
        ("first layer at rank 32 (SVD)", factorised, SGD(factorised.parameters(), lr=0.01)),
    ]
    rows = []
    for label, model, optimizer in variants:
        def step(model=model, optimizer=optimizer):
            optimizer.zero_grad()
            loss_fn(model(inputs), targets).backward()
            optimizer.step()

        rows.append((label, sum(param.size for param in model.parameters()), process_time(step) * 1e3))
    assert np.all(sparse[0].weight.data[~masks.masks[0]] == 0), "the pruned weights must still be zero"
    return rows


def report(process_time, make_mlp, data):
    rows = bench_compression(process_time, make_mlp, data)
    dense_ms = rows[0][2]
    print("\nCompression, training step of the 784-256-128-10 MLP, batch 64, SGD (CPU ms):")
    for label, parameters, ms in rows:
        print(f"  {label:56s} {parameters:7,} parameters {ms:7.3f} ms  {ms / dense_ms:5.2f}x of dense")


if __name__ == "__main__":
    from benchmarks.run import mlp_data, process_time, tinytorch_mlp

    report(process_time, tinytorch_mlp, mlp_data())

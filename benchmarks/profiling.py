"""What the op timer of module 14 costs: autograd with the timer never installed, installed then removed, and on.

Two workloads, forward and backward: a chain of 1,000 tiny multiplications (pure per-op overhead) and one
training step of a small GPT (2 blocks, width 32). "Never installed" is measured before this process
creates any `OpTimer`; "removed" after timers have been entered and left. Off must cost nothing: the engine
is then the very same pair of objects, which is asserted, and the two timings should agree within noise.
Run through `python -m benchmarks.run`, or alone with `python -m benchmarks.profiling`.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # when run alone: before NumPy loads its BLAS, as benchmarks.run does

import numpy as np  # noqa: E402

from tinytorch.core.losses import cross_entropy  # noqa: E402
from tinytorch.core.optimizers import SGD  # noqa: E402
from tinytorch.core.tensor import Tensor, installed_autograd  # noqa: E402
from tinytorch.core.transformers import GPT  # noqa: E402
from tinytorch.perf.op_timer import OpTimer  # noqa: E402

CHAIN = 1000


def chain_step():
    x = Tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    y = x
    for _ in range(CHAIN):
        y = y * 1.0001
    y.sum().backward()


def gpt_step_function():
    model = GPT(vocab_size=64, context_length=32, embed_dim=32, num_heads=4, num_layers=2, rng=0)
    optimizer = SGD(model.parameters(), lr=0.01)
    ids = np.random.default_rng(0).integers(0, 64, size=(8, 33))
    targets = Tensor(ids[:, 1:].reshape(-1))

    def step():
        loss = cross_entropy(model(ids[:, :-1]).reshape(-1, 64), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def timed_on(step):
    def run():
        with OpTimer():
            step()

    return run


def bench_op_timer(median_time, rounds=3):
    """[(label, never ms, removed ms, on ms)] for the chain and the GPT step; `median_time(run)` in seconds.

    Each figure is the smallest of `rounds` medians (load from other programs only ever adds time);
    "on" and "removed" alternate round by round, so a change of load hits both alike.
    """
    workloads = [(f"{CHAIN:,}-op chain of multiplications, forward + backward", chain_step),
                 ("GPT training step, 2 blocks, width 32, T 32, batch 8", gpt_step_function())]
    engine = installed_autograd()
    for _, step in workloads:  # first calls pay for fresh memory pages: keep them out of every figure
        for _ in range(10):
            step()
    never = [min(median_time(step) for _ in range(rounds)) for _, step in workloads]  # before any OpTimer exists
    on, removed = [float("inf")] * len(workloads), [float("inf")] * len(workloads)
    for _ in range(rounds):
        for index, (_, step) in enumerate(workloads):
            on[index] = min(on[index], median_time(timed_on(step)))
            after = installed_autograd()
            assert after[0] is engine[0] and after[1] is engine[1], "the op timer left a different engine installed"
            removed[index] = min(removed[index], median_time(step))
    return [(label, 1e3 * n, 1e3 * r, 1e3 * o) for (label, _), n, r, o in zip(workloads, never, removed, on, strict=True)]


def report(median_time):
    print("\nOp timer (module 14), CPU ms, the smallest of 3 medians of repeats:")
    for label, never, removed, on in bench_op_timer(median_time):
        print(f"  {label}:\n    never installed {never:8.3f}   installed then removed {removed:8.3f} "
              f"({removed / never:4.2f}x)   on {on:8.3f} ({on / never:4.2f}x)")


if __name__ == "__main__":
    from benchmarks.run import process_time

    report(process_time)

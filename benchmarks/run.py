"""TinyTorch speed against plain NumPy (and PyTorch when installed), single-threaded.

    .venv/bin/python -m benchmarks.run          (or `make bench`)

Prints ratios, not pass/fail: speed claims in the course come from here, never from timed
unit tests. Each figure is the median of several repeats after a warm-up.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # before NumPy loads its BLAS

import statistics
import sys
import time

import numpy as np

import tinytorch  # noqa: F401  (turns autograd on)
from benchmarks import acceleration, benchmarking, compression, profiling
from benchmarks.attention import bench_attention
from benchmarks.generation import report as generation_report
from benchmarks.gpt import bench_gpt
from benchmarks.quantization import report as quantization_report
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.optimizers import SGD
from tinytorch.core.tensor import Tensor


def median_time(run, repeats=20, warmup=3, clock=time.perf_counter):
    """Median seconds per run after a few warm-up runs; `clock=time.process_time` gives CPU time."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = clock()
        run()
        times.append(clock() - start)
    return statistics.median(times)


def process_time(run):
    """CPU time per run: the yardstick for the MLP step, blind to other processes' load."""
    return median_time(run, clock=time.process_time)


SIZES, BATCH, LR = (784, 256, 128, 10), 64, 0.01


def mlp_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    weights = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        bound = 1 / np.sqrt(fan_in)
        weights += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                    rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    return x, y, weights


def numpy_mlp_step(x, y, params):
    """Forward, backward and SGD update written by hand in NumPy: the yardstick."""
    w1, b1, w2, b2, w3, b3 = params
    h1 = x @ w1 + b1
    a1 = np.maximum(h1, 0)
    h2 = a1 @ w2 + b2
    a2 = np.maximum(h2, 0)
    logits = a2 @ w3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    probs = exp / exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = -np.log(probs[rows, y]).mean()
    grad = probs
    grad[rows, y] -= 1
    grad /= len(y)
    dw3, db3 = a2.T @ grad, grad.sum(axis=0)
    dh2 = (grad @ w3.T) * (h2 > 0)
    dw2, db2 = a1.T @ dh2, dh2.sum(axis=0)
    dh1 = (dh2 @ w2.T) * (h1 > 0)
    dw1, db1 = x.T @ dh1, dh1.sum(axis=0)
    for param, gradient in zip(params, (dw1, db1, dw2, db2, dw3, db3), strict=True):
        param -= LR * gradient
    return loss


def tinytorch_mlp(weights):
    layers = []
    for index in range(3):
        layer = Linear(SIZES[index], SIZES[index + 1])
        layer.weight.data[...] = weights[2 * index]
        layer.bias.data[...] = weights[2 * index + 1]
        layers += [layer, ReLU()] if index < 2 else [layer]
    return Sequential(*layers)


def bench_mlp_step():
    x, y, weights = mlp_data()
    numpy_params = [w.copy() for w in weights]
    model = tinytorch_mlp(weights)
    optimizer, loss_fn = SGD(model.parameters(), lr=LR), CrossEntropyLoss()
    inputs, targets = Tensor(x), Tensor(y)

    def tinytorch_step():
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    # Same maths: one step from the same weights gives the same loss and the same new weights.
    reference_loss = numpy_mlp_step(x, y, [w.copy() for w in weights])
    assert abs(tinytorch_step().item() - reference_loss) < 1e-4, "TinyTorch and NumPy disagree on the loss"
    numpy_cpu = process_time(lambda: numpy_mlp_step(x, y, numpy_params))
    tiny_cpu = process_time(tinytorch_step)
    rows = [("MLP step 784-256-128-10, batch 64 (CPU ms)", numpy_cpu * 1e3, tiny_cpu * 1e3)]
    torch_row = torch_mlp_step(x, y, weights)
    return rows, torch_row


def optional_torch():
    """PyTorch, single-threaded, when it is installed (it is not a dependency of the course)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def torch_mlp_step(x, y, weights):
    torch = optional_torch()
    if torch is None:
        return None
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    xt, yt = torch.tensor(x), torch.tensor(y)
    optimizer = torch.optim.SGD(params, lr=LR)

    def step():
        optimizer.zero_grad()
        h = torch.relu(xt @ params[0] + params[1])
        h = torch.relu(h @ params[2] + params[3])
        loss = torch.nn.functional.cross_entropy(h @ params[4] + params[5], yt)
        loss.backward()
        optimizer.step()

    return process_time(step) * 1e3


def bench_chain(length=1000):
    """Autograd overhead: a chain of `length` tiny multiplications, forward and backward."""
    start_value = np.ones(4, dtype=np.float32)

    def tinytorch_chain():
        x = Tensor(start_value, requires_grad=True)
        y = x
        for _ in range(length):
            y = y * 1.0001
        y.sum().backward()

    def numpy_chain():
        y = start_value
        for _ in range(length):
            y = y * np.float32(1.0001)
        grad = np.ones(4, dtype=np.float32)
        for _ in range(length):
            grad = grad * np.float32(1.0001)

    tiny = median_time(tinytorch_chain, repeats=10)
    base = median_time(numpy_chain, repeats=10)
    torch = optional_torch()
    if torch is None:
        return tiny, base, None

    def torch_chain():
        x = torch.tensor(start_value, requires_grad=True)
        y = x
        for _ in range(length):
            y = y * 1.0001
        y.sum().backward()

    return tiny, base, median_time(torch_chain, repeats=10)


def timed_long_chain(make_leaf, length):
    """Seconds for the forward and the backward of `length` additions, and the leaf's gradient."""
    x = make_leaf()
    start = time.perf_counter()
    y = x
    for _ in range(length):
        y = y + 0.0
    forward = time.perf_counter() - start
    start = time.perf_counter()
    y.sum().backward()
    return forward, time.perf_counter() - start, x.grad


def bench_long_chain(length=100_000):
    tiny = timed_long_chain(lambda: Tensor(np.ones(2, dtype=np.float32), requires_grad=True), length)
    torch = optional_torch()
    if torch is None:
        return tiny, None
    return tiny, timed_long_chain(lambda: torch.ones(2, requires_grad=True), length)


def bench_loader_share():
    """One shuffled epoch of the 5,000 28x28 digits in batches of 64: the DataLoader alone, and a whole
    training epoch (the 784-256-128-10 MLP, forward, backward and SGD) that includes it."""
    from tinytorch.core.dataloader import DataLoader, TensorDataset, load_mnist_5k

    images, labels = load_mnist_5k()
    dataset = TensorDataset(images.reshape(len(images), -1), labels)
    model = tinytorch_mlp(mlp_data()[2])
    optimizer, loss_fn = SGD(model.parameters(), lr=LR), CrossEntropyLoss()

    def loader_epoch():
        for _ in DataLoader(dataset, batch_size=BATCH, shuffle=True, seed=0):
            pass

    def training_epoch():
        for inputs, targets in DataLoader(dataset, batch_size=BATCH, shuffle=True, seed=0):
            optimizer.zero_grad()
            loss_fn(model(inputs), targets).backward()
            optimizer.step()

    return median_time(loader_epoch, repeats=5, warmup=1), median_time(training_epoch, repeats=5, warmup=1)


def bench_bpe_training(num_merges=500):
    """Byte-level BPE on Python's docs: recounting every merge against incremental pair counts, same merges."""
    from collections import Counter

    from tinytorch.core.tokenization import (
        BPETokenizer,
        load_python_docs,
        split_chunks,
        train_merges,
        train_merges_naive,
    )

    corpus = load_python_docs()
    words = {tuple(chunk.encode("utf-8")): count for chunk, count in Counter(split_chunks(corpus)).items()}
    start = time.perf_counter()
    incremental = train_merges(words, num_merges)
    incremental_seconds = time.perf_counter() - start
    start = time.perf_counter()
    naive = train_merges_naive(words, num_merges)
    naive_seconds = time.perf_counter() - start
    assert incremental == naive, "incremental and naive BPE training disagree"
    tokenizer = BPETokenizer(incremental)
    start = time.perf_counter()
    ids = tokenizer.encode(corpus)
    encode_seconds = time.perf_counter() - start
    assert tokenizer.decode(ids) == corpus
    return len(corpus), naive_seconds, incremental_seconds, encode_seconds, len(ids)


def bench_embedding(batch=16, length=64, vocab=512, width=128):
    """Embedding forward + backward of sum(embedding(ids) * upstream) against the same steps in NumPy (np.add.at)."""
    from tinytorch.core.embeddings import Embedding

    rng = np.random.default_rng(0)
    ids = rng.integers(0, vocab, size=(batch, length))
    upstream = rng.normal(size=(batch, length, width)).astype(np.float32)
    layer = Embedding(vocab, width, rng=0)
    table = layer.weight.data.copy()
    grad_output = Tensor(upstream)

    def tinytorch_step():
        layer.zero_grad()
        (layer(ids) * grad_output).sum().backward()

    def numpy_step():  # the same work: gather, multiply, sum; then their gradients and the scatter-add
        out = table[ids]
        loss = (out * upstream).sum()
        grad_out = np.ones_like(out) * upstream
        grad = np.zeros_like(table)
        np.add.at(grad, ids.reshape(-1), grad_out.reshape(-1, width))
        return loss, grad

    tinytorch_step()
    np.testing.assert_allclose(layer.weight.grad, numpy_step()[1], rtol=1e-5, atol=1e-5)
    tiny, base = process_time(tinytorch_step), process_time(numpy_step)
    torch = optional_torch()
    if torch is None:
        return tiny, base, None
    torch_layer = torch.nn.Embedding(vocab, width)
    torch_ids, torch_upstream = torch.tensor(ids), torch.tensor(upstream)

    def torch_step():
        torch_layer.zero_grad()
        (torch_layer(torch_ids) * torch_upstream).sum().backward()

    return tiny, base, process_time(torch_step)


def main():
    print(f"NumPy {np.__version__}, single-threaded BLAS; medians of repeated runs\n")
    rows, torch_ms = bench_mlp_step()
    for label, numpy_ms, tiny_ms in rows:
        print(f"{label}:\n  NumPy by hand {numpy_ms:7.3f}   TinyTorch {tiny_ms:7.3f}   ratio {tiny_ms / numpy_ms:5.2f}x")
        if torch_ms is not None:
            print(f"  PyTorch       {torch_ms:7.3f}   ratio to NumPy {torch_ms / numpy_ms:5.2f}x")
    tiny, base, torch_chain = bench_chain()
    print(f"\n1,000-op chain, forward + backward: TinyTorch {tiny * 1e3:.2f} ms, NumPy {base * 1e3:.2f} ms")
    print(f"  autograd overhead per op: {(tiny - base) / 1000 * 1e6:.2f} us")
    if torch_chain is not None:
        print(f"  PyTorch {torch_chain * 1e3:.2f} ms, overhead per op {(torch_chain - base) / 1000 * 1e6:.2f} us")
    (forward, backward, grad), torch_long = bench_long_chain()
    print(f"\n100,000-op chain: forward {forward:.2f} s, backward {backward:.2f} s, x.grad = {grad}")
    if torch_long is not None:
        forward, backward, grad = torch_long
        print(f"  PyTorch: forward {forward:.2f} s, backward {backward:.2f} s, x.grad = {grad.numpy()}")
    transformer_benchmarks()
    loader, epoch = bench_loader_share()
    print(f"\nMNIST 5k epoch, batch 64: DataLoader alone {loader * 1e3:.1f} ms, training epoch {epoch * 1e3:.0f} ms "
          f"(the loader is {loader / epoch:.1%} of it)")
    tiny, base, torch_ms = bench_embedding()
    print(f"\nEmbedding 512 x 128, ids (16, 64), forward + backward (CPU): TinyTorch {tiny * 1e3:.3f} ms, "
          f"NumPy by hand (np.add.at) {base * 1e3:.3f} ms ({tiny / base:.2f}x)"
          + ("" if torch_ms is None else f", PyTorch {torch_ms * 1e3:.3f} ms ({torch_ms / base:.2f}x)"))
    generation_report()
    characters, naive, incremental, encode, tokens = bench_bpe_training()
    print(f"\nBPE, 500 merges on Python's docs ({characters:,} characters): recounting {naive:.2f} s, "
          f"incremental {incremental:.2f} s ({naive / incremental:.1f}x); encoding the corpus {encode:.2f} s "
          f"({tokens / characters:.3f} tokens per character)")
    quantization_report(median_time)
    compression.report(process_time, tinytorch_mlp, mlp_data())
    profiling.report(process_time)
    acceleration.report(process_time)
    benchmarking.report()
    if len(sys.argv) > 1 and sys.argv[1] == "--ops":
        bench_catalogue()
    else:
        print("\n(run with --ops for per-op forward timings from tests/catalogue.py)")
    from benchmarks import conv  # last: its second half tunes malloc for the rest of the process

    conv.report(optional_torch())
    if conv.keep_freed_memory():
        # How much a NumPy step suffers from fresh pages depends on which arrays the process freed before.
        print("\nAgain with malloc keeping freed memory (no page faults, so no dependence on what ran before):")
        transformer_benchmarks()
        generation_report(malloc="malloc keeping freed memory")


TRANSFORMER_BENCHMARKS = [
    ("Multi-head causal self-attention, batch 8, T 64, width 128, 4 heads, forward + backward (CPU ms)", bench_attention),
    ("GPT training step (forward, cross-entropy, backward, SGD), 2 blocks, width 128, context 64, batch 16, 4 heads, "
     "vocabulary 512 (CPU ms)", bench_gpt),
]


def transformer_benchmarks():
    for label, bench in TRANSFORMER_BENCHMARKS:
        numpy_ms, tiny_ms, torch_ms = bench(process_time, optional_torch)
        print(f"\n{label}:\n  NumPy by hand {numpy_ms:7.3f}   TinyTorch {tiny_ms:7.3f}   ratio {tiny_ms / numpy_ms:5.2f}x")
        if torch_ms is not None:
            print(f"  PyTorch       {torch_ms:7.3f}   ratio to NumPy {torch_ms / numpy_ms:5.2f}x")


def bench_catalogue():
    from tests.catalogue import CASES, Const

    print("\nPer-op forward time on the catalogue's inputs (float32), TinyTorch / NumPy reference:")
    rng = np.random.default_rng(0)
    for case in CASES:
        values = case.inputs(rng)
        arrays = [v.value if isinstance(v, Const) else v.astype(np.float32) for v in values]
        tensors = [Tensor(a) for a in arrays]
        tiny = median_time(lambda case=case, tensors=tensors: case.call(*tensors), repeats=200)
        base = median_time(lambda case=case, arrays=arrays: case.reference(*arrays), repeats=200)
        print(f"  {case.name:36s} {tiny * 1e6:8.2f} us  {base * 1e6:8.2f} us  {tiny / base:6.2f}x")


if __name__ == "__main__":
    main()

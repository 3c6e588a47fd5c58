"""Every differentiable op of the package, listed once.

Each row names an op, how to call it on Tensors, a plain-NumPy reference, and the inputs it is
checked on (drawn by `inputs(rng)` as float64 arrays; a `Const` is a non-differentiable argument
such as class ids: it becomes a plain Tensor and receives no gradient). Rows with `op=None` are
compositions that check the engine itself (reused tensors, diamonds, broadcasting chains).
tests/core/test_catalogue.py drives forward checks against the reference and float64
central-difference gradient checks from this list, and benchmarks/ times it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

import tinytorch.core.activations as activations
import tinytorch.core.attention as attention
import tinytorch.core.embeddings as embeddings
import tinytorch.core.losses as losses
import tinytorch.core.spatial as spatial
import tinytorch.core.tensor as tensor
import tinytorch.core.transformers as transformers
import tinytorch.perf.acceleration as acceleration


@dataclass(frozen=True)
class Const:
    """A non-differentiable argument (class ids, targets)."""

    value: np.ndarray


@dataclass(frozen=True)
class OpCase:
    name: str  # "<op> <variant>"
    op: object  # the package Op this row covers
    call: Callable  # (*tensors_or_consts) -> Tensor
    reference: Callable  # (*arrays) -> array
    inputs: Callable  # rng -> list of arrays / Const


def normal(*shape):
    return lambda rng: rng.normal(size=shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, size=shape)


def away_from_zero(*shape):
    """Values with |x| >= 0.1, so kinks (relu at 0) are never within a finite-difference step."""
    return lambda rng: rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


def distinct(*shape):
    """A permutation of well-separated values, so max has no ties."""
    return lambda rng: rng.permutation(np.arange(int(np.prod(shape)), dtype=float)).reshape(shape) * 0.37 - 1.0


def inputs(*makers):
    return lambda rng: [m(rng) for m in makers]


BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((2, 1, 3), (4, 1)), ((3, 4), ()), ((2, 3, 1), (1, 5))]
MATMUL_PAIRS = [((3, 4), (4, 5)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2))]
REDUCE_AXES = [None, 0, 1, 2, -1, (0, 2)]


def _softmax(x, dim):
    shifted = np.exp(x - x.max(axis=dim, keepdims=True))
    return shifted / shifted.sum(axis=dim, keepdims=True)


def _cross_entropy(logits, classes):
    log_probs = np.log(_softmax(logits, -1))
    return -log_probs[np.arange(len(classes)), classes.astype(int)].mean()


def _binary_cross_entropy(p, y):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()


def _binary_cross_entropy_with_logits(z, y):
    return (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean()


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _conv2d(x, w, b=None, stride=1, padding=0):
    """The definition, one output position at a time (small inputs only)."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    out_h, out_w = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], out_h, out_w))
    for y in range(out_h):
        for z in range(out_w):
            window = x[:, :, y * stride:y * stride + kh, z * stride:z * stride + kw]
            out[:, :, y, z] = np.einsum("ncij,ocij->no", window, w)
    return out if b is None else out + b[:, None, None]


def _pool2d(x, kernel, stride, reduce):
    out_h, out_w = (x.shape[2] - kernel) // stride + 1, (x.shape[3] - kernel) // stride + 1
    out = np.zeros(x.shape[:2] + (out_h, out_w))
    for y in range(out_h):
        for z in range(out_w):
            out[:, :, y, z] = reduce(x[:, :, y * stride:y * stride + kernel, z * stride:z * stride + kernel], axis=(2, 3))
    return out


def _batch_norm2d(x, w, b, mean=None, var=None, eps=1e-5):
    if mean is None:
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    return (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps) * w[:, None, None] + b[:, None, None]


CONV_VARIANTS = [  # input shape, weight shape, stride, padding
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0), ((2, 3, 5, 6), (4, 3, 3, 3), 1, 1), ((2, 2, 7, 6), (3, 2, 3, 3), 2, 0),
    ((2, 2, 6, 7), (3, 2, 3, 2), 2, 1), ((1, 3, 4, 4), (2, 3, 1, 1), 1, 2), ((3, 1, 5, 4), (2, 1, 2, 2), 3, 1),
]
POOL_VARIANTS = [((2, 3, 4, 4), 2, None), ((2, 2, 5, 7), 2, None), ((2, 2, 5, 5), 3, 1), ((1, 2, 6, 5), 3, 2)]


def spatial_cases() -> list[OpCase]:
    cases = []
    for x, w, stride, padding in CONV_VARIANTS:
        variant = f"{x}*{w} stride={stride} padding={padding}"
        cases.append(OpCase(f"conv2d {variant}", spatial.conv2d,
                            lambda x, w, b, s=stride, p=padding: spatial.conv2d(x, w, b, stride=s, padding=p),
                            lambda x, w, b, s=stride, p=padding: _conv2d(x, w, b, s, p),
                            inputs(normal(*x), normal(*w), normal(w[0]))))
        cases.append(OpCase(f"conv2d no bias {variant}", spatial.conv2d,
                            lambda x, w, s=stride, p=padding: spatial.conv2d(x, w, stride=s, padding=p),
                            lambda x, w, s=stride, p=padding: _conv2d(x, w, None, s, p), inputs(normal(*x), normal(*w))))
    for shape, kernel, stride in POOL_VARIANTS:
        step = kernel if stride is None else stride
        cases.append(OpCase(f"max_pool2d {shape} kernel={kernel} stride={stride}", spatial.max_pool2d,
                            lambda x, k=kernel, s=stride: spatial.max_pool2d(x, k, s),
                            lambda x, k=kernel, s=step: _pool2d(x, k, s, np.max), inputs(distinct(*shape))))
        cases.append(OpCase(f"avg_pool2d {shape} kernel={kernel} stride={stride}", spatial.avg_pool2d,
                            lambda x, k=kernel, s=stride: spatial.avg_pool2d(x, k, s),
                            lambda x, k=kernel, s=step: _pool2d(x, k, s, np.mean), inputs(normal(*shape))))
    for shape in [(4, 3, 2, 3), (2, 2, 1, 1), (1, 2, 3, 3)]:
        channels = shape[1]
        cases.append(OpCase(f"batch_norm2d train {shape}", spatial.batch_norm2d, spatial.batch_norm2d, _batch_norm2d,
                            inputs(normal(*shape), normal(channels), normal(channels))))
    stats = (np.array([0.5, -1.0, 0.2]), np.array([2.0, 0.5, 1.5]))
    cases.append(OpCase("batch_norm2d eval (2, 3, 2, 2)", spatial.batch_norm2d,
                        lambda x, w, b: spatial.batch_norm2d(x, w, b, stats[0].copy(), stats[1].copy(), training=False),
                        lambda x, w, b: _batch_norm2d(x, w, b, *stats), inputs(normal(2, 3, 2, 2), normal(3), normal(3))))
    return cases


def embedding_cases() -> list[OpCase]:
    """Ids are a Const (they become a float32 Tensor there, so the call casts them back to integers)."""
    cases = []
    for label, ids in [("1-d repeated ids", np.array([0, 2, 2, 4, 0, 2])), ("2-d ids", np.array([[1, 3, 3], [4, 1, 0]])),
                       ("one id", np.array([3])), ("3-d ids", np.array([[[0, 0], [4, 4]], [[2, 0], [0, 2]]]))]:
        cases.append(OpCase(f"embedding {label}", embeddings.embedding,
                            lambda w, i: embeddings.embedding(w, i.data.astype(np.int64)),
                            lambda w, i: w[i.astype(np.int64)],
                            lambda rng, i=ids: [rng.normal(size=(5, 3)), Const(i)]))
    return cases


def _masked_softmax(scores, mask):
    """Softmax over the allowed positions of the last axis; a row with none allowed is all zeros."""
    shifted = np.where(mask, scores - np.where(mask, scores, -np.inf).max(axis=-1, keepdims=True, initial=-1e300), -np.inf)
    exps = np.exp(shifted)
    total = exps.sum(axis=-1, keepdims=True)
    return exps / np.where(total > 0, total, 1)


def attention_cases() -> list[OpCase]:
    """The mask is a fixed boolean array (not an input), so each row closes over its own."""
    padding = np.array([[True, True, False, False], [False, False, False, False]])[:, None, None, :]  # row 2: all hidden
    cases = []
    for label, shape, mask in [("no mask", (3, 4), np.ones((3, 4), dtype=bool)),
                               ("causal (2, 3, 4, 4)", (2, 3, 4, 4), np.tril(np.ones((4, 4), dtype=bool))),
                               ("padding with a fully masked item", (2, 3, 4, 4), padding)]:
        given = None if label == "no mask" else mask
        cases.append(OpCase(f"masked_softmax {label}", attention.masked_softmax,
                            lambda s, m=given: attention.masked_softmax(s, m),
                            lambda s, m=mask: _masked_softmax(s, m), inputs(normal(*shape))))
    cases.append(OpCase("scaled_dot_product_attention causal", None,
                        lambda q, k, v: attention.scaled_dot_product_attention(q, k, v, mask=np.tril(np.ones((4, 4), bool))),
                        lambda q, k, v: _masked_softmax(q @ np.swapaxes(k, -1, -2) / np.sqrt(3), np.tril(np.ones((4, 4), bool)))
                        @ v, inputs(normal(2, 2, 4, 3), normal(2, 2, 4, 3), normal(2, 2, 4, 5))))
    return cases


def _layer_norm(x, weight, bias, eps=1e-5):
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + eps) * weight + bias


def layer_norm_cases() -> list[OpCase]:
    cases = []
    for shape in [(6,), (3, 5), (2, 3, 4)]:
        cases.append(OpCase(f"layer_norm {shape}", transformers.layer_norm, transformers.layer_norm, _layer_norm,
                            inputs(lambda rng, s=shape: rng.normal(size=s) * 2 + 1, normal(shape[-1]), normal(shape[-1]))))
    cases.append(OpCase("layer_norm eps=0.5", transformers.layer_norm,
                        lambda x, w, b: transformers.layer_norm(x, w, b, eps=0.5),
                        lambda x, w, b: _layer_norm(x, w, b, eps=0.5), inputs(normal(3, 4), normal(4), normal(4))))
    return cases


def acceleration_cases() -> list[OpCase]:
    cases = []
    for x_shape in [(5, 4), (2, 3, 4), (4,)]:
        cases.append(OpCase(f"linear_gelu {x_shape}", acceleration.linear_gelu, acceleration.linear_gelu,
                            lambda x, w, b: _gelu(x @ w + b), inputs(normal(*x_shape), normal(4, 3), normal(3))))
    cases.append(OpCase("linear_gelu no bias (2, 3, 4)", acceleration.linear_gelu, acceleration.linear_gelu,
                        lambda x, w: _gelu(x @ w), inputs(normal(2, 3, 4), normal(4, 3))))
    return cases


def build_cases() -> list[OpCase]:
    cases = []
    binary = [("add", tensor.add, np.add), ("sub", tensor.sub, np.subtract), ("mul", tensor.mul, np.multiply)]
    for name, operation, reference in binary:
        for a, b in BROADCAST_PAIRS:
            cases.append(OpCase(f"{name} {a}x{b}", operation, operation, reference, inputs(normal(*a), normal(*b))))
    for a, b in BROADCAST_PAIRS:
        cases.append(OpCase(f"div {a}x{b}", tensor.div, tensor.div, np.divide, inputs(normal(*a), positive(*b))))
    cases.append(OpCase("neg", tensor.neg, tensor.neg, np.negative, inputs(normal(3, 4))))
    for exponent in (2, 3, 0.5, -1.5):
        cases.append(OpCase(f"power {exponent}", tensor.power, lambda x, e=exponent: x**e,
                            lambda x, e=exponent: x**e, inputs(positive(3, 4))))
    for a, b in MATMUL_PAIRS:
        cases.append(OpCase(f"matmul {a}@{b}", tensor.matmul, tensor.matmul, np.matmul, inputs(normal(*a), normal(*b))))
    for axis in REDUCE_AXES:
        for keepdims in (False, True):
            variant = f"axis={axis} keepdims={keepdims}"
            for name, operation, method in [("sum", tensor.tensor_sum, "sum"), ("mean", tensor.tensor_mean, "mean")]:
                cases.append(OpCase(f"{name} {variant}", operation,
                                    lambda x, m=method, a=axis, k=keepdims: getattr(x, m)(axis=a, keepdims=k),
                                    lambda x, m=method, a=axis, k=keepdims: getattr(x, m)(axis=a, keepdims=k),
                                    inputs(normal(2, 3, 4))))
            cases.append(OpCase(f"max {variant}", tensor.tensor_max,
                                lambda x, a=axis, k=keepdims: x.max(axis=a, keepdims=k),
                                lambda x, a=axis, k=keepdims: x.max(axis=a, keepdims=k), inputs(distinct(2, 3, 4))))
    cases.append(OpCase("reshape", tensor.reshape, lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1),
                        inputs(normal(2, 3, 4))))
    for dims in [(0, 1), (0, 2), (-1, -2)]:
        cases.append(OpCase(f"transpose {dims}", tensor.transpose, lambda x, d=dims: x.transpose(*d),
                            lambda x, d=dims: np.swapaxes(x, *d), inputs(normal(2, 3, 4))))
    for label, index in [("int", 1), ("slice", (slice(None), slice(1, 3))), ("repeated rows", np.array([0, 2, 0, 0]))]:
        cases.append(OpCase(f"getitem {label}", tensor.getitem, lambda x, i=index: x[i], lambda x, i=index: x[i],
                            inputs(normal(3, 4))))
    cases.append(OpCase("exp", tensor.exp, tensor.exp, np.exp, inputs(normal(3, 4))))
    cases.append(OpCase("log", tensor.log, tensor.log, np.log, inputs(positive(3, 4))))
    cases.append(OpCase("sqrt", tensor.sqrt, tensor.sqrt, np.sqrt, inputs(positive(3, 4))))

    cases.append(OpCase("relu", activations.relu, activations.relu, lambda x: np.maximum(x, 0),
                        inputs(away_from_zero(3, 4))))
    cases.append(OpCase("sigmoid", activations.sigmoid, activations.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
                        inputs(normal(3, 4))))
    cases.append(OpCase("tanh", activations.tanh, activations.tanh, np.tanh, inputs(normal(3, 4))))
    cases.append(OpCase("gelu", activations.gelu, activations.gelu, _gelu, inputs(normal(3, 4))))
    for dim in (0, 1, -1):
        cases.append(OpCase(f"softmax dim={dim}", activations.softmax, lambda x, d=dim: activations.softmax(x, dim=d),
                            lambda x, d=dim: _softmax(x, d), inputs(normal(2, 3, 4))))

    for dim in (0, 1, -1):
        cases.append(OpCase(f"log_softmax dim={dim}", losses.log_softmax, lambda x, d=dim: losses.log_softmax(x, dim=d),
                            lambda x, d=dim: np.log(_softmax(x, d)), inputs(normal(2, 3, 4))))
    cases.append(OpCase("mse_loss", losses.mse_loss, losses.mse_loss, lambda p, t: ((p - t) ** 2).mean(),
                        inputs(normal(5, 3), normal(5, 3))))
    cases.append(OpCase("cross_entropy", losses.cross_entropy, losses.cross_entropy,
                        _cross_entropy,
                        lambda rng: [rng.normal(size=(6, 4)), Const(rng.integers(0, 4, size=6))]))
    cases.append(OpCase("binary_cross_entropy", losses.binary_cross_entropy, losses.binary_cross_entropy,
                        _binary_cross_entropy,
                        lambda rng: [rng.uniform(0.05, 0.95, size=(5, 2)), Const(rng.integers(0, 2, size=(5, 2)).astype(float))]))

    for scale in (1.0, 30.0):  # moderate logits, and logits far out in both tails
        cases.append(OpCase(f"binary_cross_entropy_with_logits scale={scale}", losses.binary_cross_entropy_with_logits,
                            losses.binary_cross_entropy_with_logits, _binary_cross_entropy_with_logits,
                            lambda rng, s=scale: [rng.normal(size=(5, 2)) * s,
                                                  Const(rng.integers(0, 2, size=(5, 2)).astype(float))]))

    cases.append(OpCase("reuse x*x + x", None, lambda x: x * x + x, lambda x: x * x + x, inputs(normal(3, 4))))
    cases.append(OpCase("diamond (a*b)+(a*c)", None, lambda a, b, c: a * b + a * c, lambda a, b, c: a * b + a * c,
                        inputs(normal(3, 4), normal(3, 4), normal(4))))
    cases.append(OpCase("layer relu(x@w+b)", None, lambda x, w, b: activations.relu(x @ w + b),
                        lambda x, w, b: np.maximum(x @ w + b, 0), inputs(normal(5, 3), normal(3, 4), positive(4))))
    cases.append(OpCase("log-sum-exp chain", None, lambda x: (x - x.max(axis=1, keepdims=True)).exp().sum(axis=1).log(),
                        lambda x: np.log(np.exp(x - x.max(axis=1, keepdims=True)).sum(axis=1)), inputs(distinct(3, 4))))
    cases += spatial_cases()
    cases += embedding_cases()
    cases += attention_cases()
    cases += layer_norm_cases()
    cases += acceleration_cases()
    return cases


CASES = build_cases()

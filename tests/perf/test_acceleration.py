"""tinytorch.perf.acceleration: the blocked matmul, the fused Linear + GELU op and layer, the speed ratio and
the roofline arithmetic.

`linear_gelu` is an op: its rows in tests/catalogue.py check the forward against NumPy and the backward rule
against float64 central differences. Here it is compared with the unfused chain of modules 02-03 and with
PyTorch (when installed). Nothing here depends on timing: measurements run on fake clocks.
"""

import copy

import numpy as np
import pytest

from tests.errors import error_message as message
from tests.pytorch import require_torch
from tinytorch.core.activations import GELU, ReLU
from tinytorch.core.layers import Linear, Sequential, manual_seed
from tinytorch.core.losses import cross_entropy
from tinytorch.core.optimizers import SGD
from tinytorch.core.tensor import Tensor
from tinytorch.perf.acceleration import (
    FusedLinearGELU,
    arithmetic_intensity,
    blocked_matmul,
    elementwise_cost,
    fuse_linear_gelu,
    linear_gelu,
    linear_gelu_cost,
    matmul_cost,
    measure_bandwidth,
    measure_peak_flops,
    roofline,
    speedup,
)


def ticking(step):
    """A fake clock whose every reading is `step` seconds after the previous one."""
    readings = iter(np.arange(0.0, 1e6, step))
    return lambda: float(next(readings))


@pytest.mark.parametrize("a_shape, b_shape, tile", [
    ((13, 7), (7, 11), 4), ((1, 1), (1, 1), 1), ((6, 6), (6, 6), 7), ((64, 65), (65, 63), 16),
    ((3, 5, 6), (6, 4), 2), ((5, 6), (2, 6, 3), 4), ((2, 1, 4, 5), (3, 5, 2), 3),
])
def test_blocked_matmul_equals_np_matmul(a_shape, b_shape, tile):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    np.testing.assert_allclose(blocked_matmul(a, b, tile), np.matmul(a, b), rtol=1e-12, atol=1e-12)


def test_blocked_matmul_keeps_dtypes_accepts_tensors_and_leaves_inputs_alone():
    rng = np.random.default_rng(1)
    ints = rng.integers(-4, 4, size=(5, 5))
    assert blocked_matmul(ints, ints, 2).tolist() == (ints @ ints).tolist()
    a32 = rng.normal(size=(5, 5)).astype(np.float32)
    assert blocked_matmul(a32, a32, 3).dtype == np.float32
    assert blocked_matmul(a32, a32.astype(np.float64), 3).dtype == np.float64
    before = a32.copy()
    np.testing.assert_allclose(blocked_matmul(Tensor(a32), Tensor(a32), 2), a32 @ a32, rtol=1e-5)
    assert np.array_equal(a32, before)


@pytest.mark.parametrize("tile", [0, -1, 2.5, True, None, "8"])
def test_blocked_matmul_names_a_bad_tile(tile):
    assert f"tile={tile!r}" in message(ValueError, lambda: blocked_matmul(np.ones((2, 2)), np.ones((2, 2)), tile))


def test_blocked_matmul_names_shapes_that_do_not_fit():
    assert "(2, 3) and (2, 3)" in message(ValueError, lambda: blocked_matmul(np.ones((2, 3)), np.ones((2, 3))))
    assert "(3,)" in message(ValueError, lambda: blocked_matmul(np.ones(3), np.ones((3, 2))))
    text = message(ValueError, lambda: blocked_matmul(np.ones((2, 4, 3)), np.ones((3, 3, 2))))
    assert "(2, 4, 3)" in text and "(3, 3, 2)" in text


def chain(x, weight, bias=None):
    out = x @ weight
    return GELU()(out if bias is None else out + bias)


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("x_shape, with_bias", [((5, 4), True), ((2, 3, 4), True), ((2, 3, 4), False), ((4,), True)])
def test_linear_gelu_equals_the_unfused_chain(dtype, tolerance, x_shape, with_bias):
    rng = np.random.default_rng(2)
    values = [rng.normal(size=x_shape), rng.normal(size=(4, 3)), rng.normal(size=3)][: 3 if with_bias else 2]
    values = [v.astype(dtype) for v in values]
    originals = [v.copy() for v in values]
    fused_in = [Tensor(v, requires_grad=True) for v in values]
    chain_in = [Tensor(v.copy(), requires_grad=True) for v in values]
    fused, unfused = linear_gelu(*fused_in), chain(*chain_in)
    assert fused.dtype == dtype and fused.shape == unfused.shape
    np.testing.assert_allclose(fused.data, unfused.data, rtol=tolerance, atol=tolerance)
    upstream = rng.normal(size=fused.shape).astype(dtype)
    fused.backward(upstream)
    unfused.backward(upstream.copy())
    for ours, theirs, original in zip(fused_in, chain_in, originals, strict=True):
        assert ours.grad.dtype == dtype and ours.grad.shape == ours.shape
        np.testing.assert_allclose(ours.grad, theirs.grad, rtol=10 * tolerance, atol=10 * tolerance)
        assert np.array_equal(ours.data, original), "linear_gelu must not change its inputs"


def test_linear_gelu_computes_only_the_gradients_that_are_needed():
    rng = np.random.default_rng(3)
    x, weight, bias = Tensor(rng.normal(size=(3, 4))), Tensor(rng.normal(size=(4, 2)), requires_grad=True), Tensor(np.zeros(2))
    linear_gelu(x, weight, bias).sum().backward()
    assert x.grad is None and bias.grad is None and weight.grad.shape == (4, 2)


def test_linear_gelu_names_bad_shapes():
    text = message(ValueError, lambda: linear_gelu(Tensor(np.ones((2, 4))), Tensor(np.ones((3, 5)))))
    assert "(2, 4)" in text and "(3, 5)" in text
    assert "(5,)" in message(ValueError, lambda: linear_gelu(Tensor(np.ones((2, 3))), Tensor(np.ones((3, 5))),
                                                             Tensor(np.ones(4))))


def test_linear_gelu_matches_pytorch():
    torch = require_torch()
    rng = np.random.default_rng(4)
    xs, ws, bs = rng.normal(size=(2, 5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    ours = [Tensor(v, requires_grad=True) for v in (xs, ws, bs)]
    out = linear_gelu(*ours)
    out.sum().backward()
    theirs = [torch.tensor(v, requires_grad=True) for v in (xs, ws, bs)]
    reference = torch.nn.functional.gelu(theirs[0] @ theirs[1] + theirs[2], approximate="tanh")
    reference.sum().backward()
    np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-12, atol=1e-12)
    for tensor, torch_tensor in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(tensor.grad, torch_tensor.grad.numpy(), rtol=1e-10, atol=1e-12)


def trained_mlp():
    rng = np.random.default_rng(5)
    inputs = Tensor(rng.normal(size=(32, 6)).astype(np.float32))
    labels = Tensor((rng.normal(size=32) > 0).astype(np.int64))
    manual_seed(5)
    model = Sequential(Linear(6, 8), GELU(), Linear(8, 8, bias=False), GELU(), ReLU(), Linear(8, 2))
    optimizer = SGD(model.parameters(), lr=0.1)
    for _ in range(10):
        optimizer.zero_grad()
        cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    return model, optimizer, inputs, labels


def test_fuse_linear_gelu_keeps_outputs_and_gradients_and_shares_parameters():
    model, optimizer, inputs, labels = trained_mlp()
    original_layers = list(model.layers)
    fused = fuse_linear_gelu(model)
    assert [type(layer) for layer in fused.layers] == [FusedLinearGELU, FusedLinearGELU, ReLU, Linear]
    assert model.layers == original_layers and fused.layers[2] is model.layers[4]
    assert fused.layers[0].weight is model.layers[0].weight and fused.layers[1].bias is None
    np.testing.assert_allclose(fused(inputs).data, model(inputs).data, rtol=1e-5, atol=1e-6)
    reference = copy.deepcopy(model)
    for each in (model, reference):
        each.zero_grad()
    cross_entropy(fused(inputs), labels).backward()
    cross_entropy(reference(inputs), labels).backward()
    for ours, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(ours.grad, theirs.grad, rtol=1e-4, atol=1e-6)
    optimizer.step()  # built before the swap: it trains the shared parameters
    assert not np.allclose(model.layers[0].weight.data, reference.layers[0].weight.data)
    np.testing.assert_allclose(fused(inputs).data, model(inputs).data, rtol=1e-5, atol=1e-6)


def test_fused_layer_and_fuse_refuse_what_they_cannot_fuse():
    assert "ReLU" in message(TypeError, lambda: FusedLinearGELU(ReLU()))
    assert "Linear" in message(TypeError, lambda: fuse_linear_gelu(Linear(2, 2)))
    untouched = Sequential(GELU(), Linear(3, 3), ReLU(), Linear(3, 3))
    assert fuse_linear_gelu(untouched).layers == untouched.layers


def test_costs_and_intensity_follow_the_stated_formulas():
    assert matmul_cost(3, 5, 7, itemsize=2) == (210, 2 * (15 + 35 + 21))
    assert elementwise_cost(10, 9, 1, itemsize=8) == (90, 160)
    assert elementwise_cost(7) == (7, 56)
    assert linear_gelu_cost(5, 3, 2, itemsize=8) == (60 + 10 + 90, 8 * (15 + 6 + 2 + 10))
    flops, moved = linear_gelu_cost(64, 64, 64)
    assert arithmetic_intensity(flops, moved) > arithmetic_intensity(flops, moved + 4 * 64 * 64 * 4)
    assert arithmetic_intensity(90, 160) == pytest.approx(0.5625)
    assert "positive" in message(ValueError, lambda: matmul_cost(0, 1, 1))
    assert "positive" in message(ValueError, lambda: arithmetic_intensity(1, 0))


def test_roofline_is_the_lower_of_the_two_roofs():
    assert roofline(5.0, 2e10, 4e9) == pytest.approx(2e10)
    assert roofline(4.0, 2e10, 4e9) == pytest.approx(1.6e10)
    assert isinstance(roofline(3.0, 2e10, 4e9), float)
    np.testing.assert_allclose(roofline(np.array([0.25, 5.0, 50.0]), 2e10, 4e9), [1e9, 2e10, 2e10])
    assert "positive" in message(ValueError, lambda: roofline(-1.0, 1.0, 1.0))
    assert "positive" in message(ValueError, lambda: roofline(np.array([1.0, 0.0]), 1.0, 1.0))


def test_measurements_divide_the_work_by_the_median_time_of_a_fake_clock():
    assert measure_peak_flops(8, repeats=3, timer=ticking(0.5)) == pytest.approx(2 * 8**3 / 0.5)
    assert measure_bandwidth(1000, repeats=3, timer=ticking(0.25)) == pytest.approx(8000 / 0.25)
    assert "positive" in message(ValueError, lambda: measure_bandwidth(0))


def test_speedup_is_the_ratio_of_median_times():
    now = [0.0]

    def workload(seconds):
        def run():
            now[0] += seconds
        return run

    calls = []
    slow = workload(3.0)
    ratio = speedup(lambda: (calls.append(1), slow()), workload(1.0), warmup=2, repeats=4, timer=lambda: now[0])
    assert ratio == pytest.approx(3.0) and isinstance(ratio, float) and len(calls) == 6

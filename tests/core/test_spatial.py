"""tinytorch.core.spatial: convolution, pooling and batch normalisation (ops, rules and modules).

Forward values against loop references and float64 finite-difference gradients of every variant
are in tests/catalogue.py; this file checks what a catalogue row cannot: errors, ties, modes,
running statistics, dtypes, the modules, and (only when PyTorch is installed) agreement with it.
"""

from functools import partial

import numpy as np
import pytest

import tinytorch
from tests.errors import error_message
from tests.pytorch import require_torch
from tinytorch import nn
from tinytorch.core.autograd import gradcheck
from tinytorch.core.spatial import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    MaxPool2d,
    avg_pool2d,
    batch_norm2d,
    conv2d,
    max_pool2d,
)
from tinytorch.core.tensor import Tensor


def images(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


error = partial(error_message, ValueError)


def test_namespaces_offer_the_layers_and_ops():
    assert nn.Conv2d is Conv2d and nn.MaxPool2d is MaxPool2d and nn.AvgPool2d is AvgPool2d and nn.BatchNorm2d is BatchNorm2d
    assert nn.functional.conv2d is conv2d and nn.functional.max_pool2d is max_pool2d
    assert nn.functional.avg_pool2d is avg_pool2d and nn.functional.batch_norm2d is batch_norm2d
    assert not hasattr(nn.functional, "conv2d_backward"), "backward rules stay out of the public namespaces"


@pytest.mark.parametrize("action, words", [
    (lambda: conv2d(Tensor(np.ones((3, 8, 8))), Tensor(np.ones((2, 3, 3, 3)))), ["4-d input", "(3, 8, 8)"]),
    (lambda: conv2d(Tensor(np.ones((1, 3, 8, 8))), Tensor(np.ones((2, 3, 3)))), ["4-d weight", "(2, 3, 3)"]),
    (lambda: conv2d(Tensor(np.ones((2, 4, 8, 8))), Tensor(np.ones((2, 3, 3, 3)))),
     ["expected 3 input channels, got 4", "(2, 4, 8, 8)"]),
    (lambda: conv2d(Tensor(np.ones((1, 3, 8, 8))), Tensor(np.ones((2, 3, 3, 3))), Tensor(np.ones(3))), ["(2,)", "(3,)"]),
    (lambda: conv2d(Tensor(np.ones((1, 3, 8, 8))), Tensor(np.ones((2, 3, 3, 3))), None), ["bias", "leave bias out"]),
    (lambda: conv2d(Tensor(np.ones((1, 1, 2, 3))), Tensor(np.ones((1, 1, 5, 5))), padding=1),
     ["5x5 kernel", "padded input 4x5", "padding 1"]),
    (lambda: conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((1, 1, 3, 3))), stride=0), ["stride", ">= 1", "0"]),
    (lambda: conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((1, 1, 3, 3))), padding=-1), ["padding", ">= 0", "-1"]),
    (lambda: conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((1, 1, 3, 3))), stride=1.5), ["stride", "1.5"]),
    (lambda: max_pool2d(Tensor(np.ones((1, 1, 2, 2))), 3), ["3x3 kernel", "2x2"]),
    (lambda: max_pool2d(Tensor(np.ones((1, 2, 2))), 2), ["4-d", "(1, 2, 2)"]),
    (lambda: avg_pool2d(Tensor(np.ones((1, 1, 4, 4))), 2, stride=-2), ["stride", "-2"]),
    (lambda: max_pool2d(Tensor(np.ones((1, 1, 4, 4))), 0), ["kernel_size", "0"]),
    (lambda: batch_norm2d(Tensor(np.ones((2, 3, 2, 2))), Tensor(np.ones(2)), Tensor(np.zeros(2))), ["(3,)", "(2,)"]),
    (lambda: batch_norm2d(Tensor(np.ones((1, 3, 1, 1))), Tensor(np.ones(3)), Tensor(np.zeros(3))), ["more than one value"]),
    (lambda: batch_norm2d(Tensor(np.ones((2, 3, 2, 2))), Tensor(np.ones(3)), Tensor(np.zeros(3)), training=False),
     ["running_mean"]),
    (lambda: Conv2d(3, 8, 3)(Tensor(np.ones((2, 4, 8, 8)))),
     ["Conv2d expected 3 input channels, got 4 (input shape (2, 4, 8, 8))"]),
    (lambda: Conv2d(3, 8, 3)(Tensor(np.ones((4, 8, 8)))), ["Conv2d", "4-d", "(4, 8, 8)"]),
    (lambda: Conv2d(0, 8, 3), ["in_channels", "0"]),
    (lambda: Conv2d(3, 8, (3, 3, 3)), ["kernel_size", "(3, 3, 3)"]),
    (lambda: MaxPool2d(2, stride=0), ["stride", "0"]),
    (lambda: BatchNorm2d(0), ["num_features", "0"]),
])
def test_bad_input_gets_a_clear_error(action, words):
    message = error(action)
    assert all(word in message for word in words), f"{message!r} should mention {words}"


def test_conv2d_keeps_float32_and_float64_and_leaves_its_inputs_alone():
    for dtype in (np.float32, np.float64):
        x = Tensor(images(2, 3, 6, 5, dtype=dtype), requires_grad=True)
        w = Tensor(images(4, 3, 3, 3, seed=1, dtype=dtype), requires_grad=True)
        b = Tensor(images(4, seed=2, dtype=dtype), requires_grad=True)
        before = [t.data.copy() for t in (x, w, b)]
        out = conv2d(x, w, b, stride=2, padding=1)
        out.backward(np.ones(out.shape, dtype=dtype))
        assert out.dtype == dtype and x.grad.dtype == dtype and w.grad.dtype == dtype and b.grad.dtype == dtype
        for tensor, original in zip((x, w, b), before, strict=True):
            np.testing.assert_array_equal(tensor.data, original)


def test_conv2d_gradient_skips_inputs_that_need_none():
    x = Tensor(images(2, 3, 5, 5, dtype=np.float64))
    w = Tensor(images(4, 3, 3, 3, seed=1, dtype=np.float64), requires_grad=True)
    conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None and w.grad.shape == (4, 3, 3, 3)
    assert gradcheck(lambda w: conv2d(x, w, padding=1), [w.data.copy()])


def test_conv2d_gradient_with_trailing_rows_the_windows_never_reach():
    x = images(1, 2, 6, 6, dtype=np.float64)  # stride 2 with a 3x3 kernel leaves the last row and column out
    assert gradcheck(lambda x, w: conv2d(x, w, stride=2), [x, images(2, 2, 3, 3, seed=1, dtype=np.float64)])
    grad = Tensor(x, requires_grad=True)
    conv2d(grad, Tensor(images(2, 2, 3, 3, seed=1, dtype=np.float64)), stride=2).sum().backward()
    assert np.all(grad.grad[:, :, 5, :] == 0) and np.all(grad.grad[:, :, :, 5] == 0)


def test_max_pool_gradient_goes_to_one_winner_per_window_even_with_ties():
    x = Tensor(np.zeros((1, 1, 4, 4), dtype=np.float32), requires_grad=True)  # every window is one big tie
    max_pool2d(x, 2).backward(np.array([[[[1, 2], [3, 4]]]], dtype=np.float32))
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4  # the first (top-left) of each tie
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_max_pool_gradient_adds_up_where_overlapping_windows_share_a_winner():
    data = np.zeros((1, 1, 3, 3), dtype=np.float32)
    data[0, 0, 1, 1] = 5.0  # the centre is the maximum of all four 2x2 windows (stride 1)
    x = Tensor(data, requires_grad=True)
    max_pool2d(x, 2, stride=1).backward(np.array([[[[1, 2], [3, 4]]]], dtype=np.float32))
    expected = np.zeros((3, 3))
    expected[1, 1] = 10
    np.testing.assert_array_equal(x.grad[0, 0], expected)
    tie = Tensor(np.ones((1, 1, 3, 3), dtype=np.float32), requires_grad=True)
    max_pool2d(tie, 2, stride=1).sum().backward()
    assert tie.grad.sum() == 4 and tie.grad.max() == 1, "four windows, four winners (each the first of its window)"


def test_pooling_keeps_dtypes_and_the_input():
    for operation in (max_pool2d, avg_pool2d):
        x = Tensor(images(2, 3, 5, 5), requires_grad=True)
        before = x.data.copy()
        out = operation(x, 2, 1)
        out.backward(np.ones(out.shape, dtype=np.float32))
        assert out.dtype == np.float32 and x.grad.dtype == np.float32
        np.testing.assert_array_equal(x.data, before)


def test_batch_norm_training_uses_batch_statistics_and_updates_running_ones_like_pytorch():
    x = images(4, 3, 5, 5) * 3 + 2
    norm = BatchNorm2d(3, momentum=0.2)
    out = norm(Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-3)
    np.testing.assert_allclose(norm.running_mean.data, 0.2 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(norm.running_var.data, 0.8 + 0.2 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-5)
    assert norm.running_mean.dtype == np.float32 and out.dtype == np.float32


def test_batch_norm_eval_uses_running_statistics_and_leaves_them_alone():
    norm = BatchNorm2d(2)
    norm.running_mean.data[:] = [1.0, -1.0]
    norm.running_var.data[:] = [4.0, 0.25]
    norm.eval()
    x = images(3, 2, 2, 2)
    out = norm(Tensor(x)).data
    expected = (x - np.array([1.0, -1.0])[:, None, None]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    np.testing.assert_array_equal(norm.running_mean.data, [1.0, -1.0])
    one = norm(Tensor(x[:1])).data  # in eval mode an image's output does not depend on its batch
    np.testing.assert_allclose(one, out[:1], rtol=1e-6)


def test_batch_norm_running_statistics_are_buffers_saved_with_the_weights():
    norm = BatchNorm2d(3)
    assert [name for name, _ in norm.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in norm.named_buffers()] == ["running_mean", "running_var"]
    assert not norm.running_mean.requires_grad and norm.running_var.dtype == np.float32
    held = norm.running_mean.data
    norm(Tensor(images(4, 3, 5, 5) + 1))  # the op updates the buffers' arrays in place
    assert norm.running_mean.data is held and held.min() > 0
    state = norm.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var"]  # PyTorch's names
    fresh = BatchNorm2d(3)
    fresh.load_state_dict(state)
    for name in ("running_mean", "running_var"):
        np.testing.assert_array_equal(getattr(fresh, name).data, getattr(norm, name).data, err_msg=name)
    x = Tensor(images(2, 3, 5, 5, seed=1))
    np.testing.assert_array_equal(fresh.eval()(x).data, norm.eval()(x).data)


def test_batch_norm_gradients_in_both_modes():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(3, 2, 2, 3)), rng.normal(size=2), rng.normal(size=2)
    assert gradcheck(lambda x, w, b: batch_norm2d(x, w, b), [x, w, b])
    mean, var = rng.normal(size=2), rng.uniform(0.5, 2, size=2)
    assert gradcheck(lambda x, w, b: batch_norm2d(x, w, b, mean, var, training=False), [x, w, b])


def test_conv2d_module_init_matches_linear_and_is_seedable():
    conv = Conv2d(3, 8, (3, 5), stride=2, padding=1, rng=7)
    bound = np.sqrt(1 / (3 * 3 * 5))
    generator = np.random.default_rng(7)
    np.testing.assert_array_equal(conv.weight.data, generator.uniform(-bound, bound, (8, 3, 3, 5)).astype(np.float32))
    np.testing.assert_array_equal(conv.bias.data, generator.uniform(-bound, bound, 8).astype(np.float32))
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    assert "kernel_size=(3, 5), stride=2, padding=1" in repr(conv)
    tinytorch.manual_seed(3)
    first = Conv2d(2, 2, 3).weight.data
    tinytorch.manual_seed(3)
    np.testing.assert_array_equal(Conv2d(2, 2, 3).weight.data, first)
    without_bias = Conv2d(2, 2, 3, bias=False)
    assert [p.shape for p in without_bias.parameters()] == [(2, 2, 3, 3)] and without_bias.bias is None


def test_a_small_cnn_gets_correct_gradients_end_to_end():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 2, 6, 6))
    labels = Tensor(rng.integers(0, 4, size=3))
    conv = Conv2d(2, 3, 3, padding=1, rng=0)
    linear = nn.Linear(3 * 3 * 3, 4, rng=1)
    params = [p.data.astype(np.float64) for p in (conv.weight, conv.bias, linear.weight, linear.bias)]

    def loss(x, cw, cb, lw, lb):
        hidden = nn.functional.max_pool2d(nn.functional.relu(conv2d(x, cw, cb, padding=1)), 2)
        return nn.functional.cross_entropy(hidden.reshape(3, -1) @ lw + lb, labels)

    assert gradcheck(loss, [x] + params)


def test_module_modes_switch_batch_norm():
    model = nn.Sequential(Conv2d(1, 2, 3, rng=0), BatchNorm2d(2), nn.ReLU(), MaxPool2d(2), AvgPool2d(1), nn.Flatten())
    x = Tensor(images(4, 1, 6, 6))
    train_out = model(x).data
    model.eval()
    assert model[1].training is False
    assert not np.allclose(model(x).data, train_out)


def test_agrees_with_pytorch_when_installed():
    torch = require_torch()
    functional = torch.nn.functional
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    upstream = rng.normal(size=(2, 4, 4, 4))
    ours = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    conv2d(*ours, stride=2, padding=1).backward(upstream)
    functional.conv2d(*theirs, stride=2, padding=1).backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10, atol=1e-12)
    pooled = rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5).astype(float)
    for kernel, stride in [(2, 2), (3, 1), (3, 2)]:
        for ours_op, torch_op in [(max_pool2d, functional.max_pool2d), (avg_pool2d, functional.avg_pool2d)]:
            mine, reference = Tensor(pooled, requires_grad=True), torch.tensor(pooled, requires_grad=True)
            out = ours_op(mine, kernel, stride)
            grad = rng.normal(size=out.shape)
            out.backward(grad)
            torch_op(reference, kernel, stride).backward(torch.tensor(grad))
            np.testing.assert_allclose(out.data, torch_op(torch.tensor(pooled), kernel, stride).numpy())
            np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-12)
    data = rng.normal(size=(4, 3, 2, 2))
    ours_norm, torch_norm = BatchNorm2d(3), torch.nn.BatchNorm2d(3).double()
    mine, reference = Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    upstream = rng.normal(size=data.shape)
    ours_norm(mine).backward(upstream)
    torch_norm(reference).backward(torch.tensor(upstream))
    np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours_norm.running_var.data, torch_norm.running_var.detach().numpy(), rtol=1e-6)
    # PyTorch's state dict loads into ours (apart from its step counter), and eval outputs agree.
    torch_state = {name: value.numpy() for name, value in torch_norm.state_dict().items()}
    del torch_state["num_batches_tracked"]
    loaded = BatchNorm2d(3)
    loaded.load_state_dict(torch_state)
    np.testing.assert_allclose(loaded.eval()(Tensor(data)).data, torch_norm.eval()(torch.tensor(data)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)

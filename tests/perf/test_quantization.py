"""tinytorch.perf.quantization: int8 codes, scales and zero points, calibration, int8 layers, model quantization.

The quantized layers are inference-only (no op, no backward rule), so they have no catalogue row:
this file checks their arithmetic against an exact integer reference and their error against the
float layers.
"""

import numpy as np
import pytest

import tinytorch  # noqa: F401  (turns autograd on)
from tests.errors import error_message as error
from tinytorch.core.activations import ReLU
from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Flatten, Linear, Module, Sequential, manual_seed
from tinytorch.core.spatial import BatchNorm2d, Conv2d, MaxPool2d, conv2d
from tinytorch.core.tensor import Tensor
from tinytorch.core.transformers import GPT
from tinytorch.perf.quantization import (
    QuantizedConv2d,
    QuantizedLinear,
    QuantizedTensor,
    calibrate,
    choose_qparams,
    dequantize,
    quantize,
    quantize_model,
    quantize_with,
    quantized_range,
    size_report,
    weight_bytes,
)


@pytest.mark.parametrize("bits, symmetric, expected", [(8, True, (-127, 127)), (8, False, (-128, 127)),
                                                       (4, True, (-7, 7)), (2, False, (-2, 1))])
def test_quantized_range(bits, symmetric, expected):
    assert quantized_range(bits, symmetric) == expected


@pytest.mark.parametrize("bits", [1, 9, 8.0, True, "8"])
def test_bad_bits_are_named(bits):
    assert repr(bits) in error(ValueError, lambda: quantize(np.ones(3, dtype=np.float32), bits=bits))


@pytest.mark.parametrize("bits, symmetric, axis", [(8, True, None), (8, False, None), (8, True, 0), (8, False, 1),
                                                   (6, True, 1), (4, False, None), (4, True, -1)])
def test_round_trip_within_half_a_step(bits, symmetric, axis):
    x = (np.random.default_rng(bits).normal(size=(6, 5)) * [0.1, 1, 10, 0.01, 3]).astype(np.float32)
    q = quantize(x, bits=bits, symmetric=symmetric, axis=axis)
    assert q.values.dtype == np.int8 and q.values.nbytes == x.size
    q_min, q_max = quantized_range(bits, symmetric)
    assert q.values.min() >= q_min and q.values.max() <= q_max
    scale = q.scale if axis is None else np.expand_dims(q.scale, [a for a in range(2) if a != axis % 2])
    back = dequantize(q)
    assert back.dtype == np.float32
    assert np.all(np.abs(back - x) <= scale / 2 * (1 + 1e-5))


def test_float64_stays_float64_and_the_input_is_not_changed():
    x = np.linspace(-1, 2, 7)
    before = x.copy()
    q = quantize(x, symmetric=False)
    assert dequantize(q).dtype == np.float64 and q.dtype == np.float64
    np.testing.assert_array_equal(x, before)
    assert dequantize(quantize(Tensor(x, dtype=np.float64))).dtype == np.float64


def test_zero_has_an_exact_code_even_outside_the_range():
    scale, zero_point = choose_qparams(2.0, 5.0, symmetric=False)
    assert -128 <= zero_point <= 127
    assert np.isclose(scale, 5 / 255)
    q = quantize_with(np.array([0.0, 5.0], dtype=np.float32), scale, zero_point)
    assert dequantize(q)[0] == 0.0


def test_a_tensor_or_channel_of_zeros_gets_scale_one():
    scale, zero_point = choose_qparams(0.0, 0.0, symmetric=False)
    assert scale == 1.0 and zero_point == 0
    weight = np.zeros((3, 4), dtype=np.float32)
    weight[:, 1] = [0.5, -1.0, 0.25]
    q = quantize(weight, axis=1)
    np.testing.assert_array_equal(q.scale, np.array([1, 1 / 127, 1, 1], dtype=np.float32))
    assert np.all(np.isfinite(dequantize(q))) and np.all(dequantize(q)[:, [0, 2, 3]] == 0)
    constant = quantize(np.full(5, 3.0, dtype=np.float32), symmetric=False)
    np.testing.assert_allclose(dequantize(constant), 3.0, atol=3 / 255 / 2)


def test_saturation_and_rounding_half_to_even():
    q = quantize_with(np.array([-1e6, 1e6, 0.5, 1.5, 2.5]), 1.0, 0, symmetric=False)
    assert q.values.tolist() == [-128, 127, 0, 2, 2]
    assert quantize_with(np.array([-1e6]), 1.0, 0, symmetric=True).values.tolist() == [-127]


def test_per_channel_beats_per_tensor_on_channels_of_different_ranges():
    rng = np.random.default_rng(0)
    weight = (rng.normal(size=(64, 8)) * np.logspace(-3, 0, 8)).astype(np.float32)
    per_tensor = np.abs(dequantize(quantize(weight)) - weight).mean(axis=0)
    per_channel = np.abs(dequantize(quantize(weight, axis=1)) - weight).mean(axis=0)
    assert per_channel[0] < per_tensor[0] / 50  # the smallest channel gains the most
    assert per_channel.mean() < per_tensor.mean()


@pytest.mark.parametrize("action, kind, words", [
    (lambda: quantize(np.arange(3)), TypeError, ["floating-point", "int64"]),
    (lambda: quantize(np.array([1.0, np.nan, np.inf])), ValueError, ["2 of the 3", "NaN or infinite"]),
    (lambda: quantize(np.zeros((0, 3))), ValueError, ["empty", "(0, 3)"]),
    (lambda: quantize(np.ones((2, 3)), axis=2), ValueError, ["axis=2", "-2 to 1", "2-d"]),
    (lambda: quantize(np.ones((2, 3)), axis=1.0), ValueError, ["axis=1.0"]),
    (lambda: quantize_with(np.ones((2, 3)), np.ones(2), np.zeros(2), axis=1), ValueError, ["(3,)", "(2,)"]),
    (lambda: quantize_with(np.ones(3), 0.0, 0), ValueError, ["positive"]),
    (lambda: choose_qparams(np.ones(2), np.ones(3)), ValueError, ["(2,)", "(3,)"]),
    (lambda: choose_qparams(1.0, 0.0), ValueError, ["low <= high"]),
    (lambda: dequantize(np.ones(3)), TypeError, ["QuantizedTensor", "ndarray"]),
])
def test_errors_name_the_problem(action, kind, words):
    message = error(kind, action)
    for word in words:
        assert word in message, (word, message)


def test_quantized_tensor_reports_its_storage():
    q = quantize(np.ones((4, 3), dtype=np.float32), axis=0)
    assert isinstance(q, QuantizedTensor) and q.shape == (4, 3)
    assert q.nbytes == 12 + 4 * 4 + 4 * 4
    assert "per channel along axis 0" in repr(q)
    np.testing.assert_array_equal(q.dequantize(), dequantize(q))


def small_cnn(seed=0):
    manual_seed(seed)
    return Sequential(Conv2d(1, 4, 3, padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2), Flatten(), Linear(64, 10))


def test_calibrate_records_ranges_and_leaves_the_model_as_it_was():
    model = small_cnn()
    model.train()
    rng = np.random.default_rng(0)
    batches = [rng.uniform(-1, 2, size=(8, 1, 8, 8)).astype(np.float32) for _ in range(3)]
    state = {k: v.copy() for k, v in model.state_dict().items()}
    ranges = calibrate(model, [(Tensor(b), None) for b in batches])
    assert set(ranges) == {"0", "5"}
    assert ranges["0"] == (float(min(b.min() for b in batches)), float(max(b.max() for b in batches)))
    assert ranges["5"][0] >= 0.0  # after ReLU and max pooling
    assert all(module.training for _, module in model.named_modules())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[name], err_msg=name)
    assert all("forward" not in vars(module) for _, module in model.named_modules())


def test_calibrate_cleans_up_after_an_error():
    model = small_cnn()

    def batches():
        yield Tensor(np.zeros((2, 1, 8, 8), dtype=np.float32))
        yield Tensor(np.zeros((2, 3, 8, 8), dtype=np.float32))  # wrong channels

    with pytest.raises(ValueError):
        calibrate(model, batches())
    assert all("forward" not in vars(module) for _, module in model.named_modules())
    assert model.training and model[1].training
    assert "no Linear or Conv2d" in error(ValueError, lambda: calibrate(Sequential(ReLU()), [np.ones(2)]))
    assert "at least one batch" in error(ValueError, lambda: calibrate(model, []))


def integer_linear_reference(x, weight, bias, low, high):
    """The int8 recipe written out in float64 integers (exact below 2**53): the layer must match it exactly."""
    w_scale = np.abs(weight).max(axis=0) / 127
    w_codes = np.clip(np.round(weight / w_scale.astype(np.float32)), -127, 127)
    x_scale, x_zero = choose_qparams(low, high, symmetric=False)
    x_codes = np.clip(np.round(x / x_scale) + x_zero, -128, 127)
    total = (x_codes - x_zero) @ w_codes
    return total.astype(np.float32) * (x_scale * w_scale.astype(np.float32)) + bias


def test_quantized_linear_matches_the_integer_recipe_and_the_float_layer():
    manual_seed(0)
    linear = Linear(300, 7)
    x = np.random.default_rng(1).uniform(-3, 1, size=(2, 5, 300)).astype(np.float32)
    layer = QuantizedLinear(linear, (-3.0, 1.0))
    out = layer(Tensor(x))
    assert out.shape == (2, 5, 7) and out.dtype == np.float32 and out.grad_fn is None
    np.testing.assert_allclose(out.data, integer_linear_reference(x, linear.weight.data, linear.bias.data, -3.0, 1.0),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out.data, x @ linear.weight.data + linear.bias.data, atol=0.1)
    assert layer.weight.values.dtype == np.int8 and layer.weight.values.nbytes * 4 == linear.weight.data.nbytes


def test_int32_accumulation_does_not_overflow_at_the_extremes():
    linear = Linear(4000, 2, bias=False)
    linear.weight.data[...] = np.where(np.arange(4000)[:, None] % 2 == 0, 1.0, -1.0) * [1, -1]
    x = np.where(np.arange(4000) % 2 == 0, 1.0, -1.0)[None].astype(np.float32)  # every product at its largest
    out = QuantizedLinear(linear, (-1.0, 1.0))(Tensor(x)).data
    np.testing.assert_allclose(out, [[4000, -4000]], rtol=0.01)
    assert "overflow" in error(ValueError, lambda: QuantizedLinear(Linear(70_000, 1), (0, 1)))


def test_quantized_conv_matches_the_float_conv_and_pads_with_real_zeros():
    manual_seed(0)
    rng = np.random.default_rng(2)
    for stride, padding, bias in [(1, 0, True), (1, 1, True), (2, 1, False), (3, 2, True)]:
        conv = Conv2d(3, 5, (3, 2), stride=stride, padding=padding, bias=bias)
        images = rng.uniform(2.0, 4.0, size=(2, 3, 7, 6)).astype(np.float32)  # zero point far from 0
        out = QuantizedConv2d(conv, (2.0, 4.0))(Tensor(images))
        expected = conv(Tensor(images)).data
        assert out.shape == expected.shape and out.dtype == np.float32
        np.testing.assert_allclose(out.data, expected, atol=0.05)


def test_quantized_conv_equals_an_integer_convolution():
    manual_seed(5)
    conv = Conv2d(2, 3, 3, padding=1)
    images = np.random.default_rng(3).uniform(-1, 1, size=(2, 2, 5, 5)).astype(np.float32)
    layer = QuantizedConv2d(conv, (-1.0, 1.0))
    codes = quantize_with(images, layer.input_scale, layer.input_zero_point).values.astype(np.float64)
    integers = conv2d(Tensor(codes - layer.input_zero_point, dtype=np.float64),
                      Tensor(layer.weight.values.astype(np.float64), dtype=np.float64), padding=1).data
    expected = integers * (layer.input_scale * layer.weight.scale)[:, None, None] + conv.bias.data[:, None, None]
    np.testing.assert_allclose(layer(Tensor(images)).data, expected, rtol=1e-6, atol=1e-6)


def test_quantized_layers_are_inference_only():
    layer = QuantizedLinear(Linear(3, 2), (-1, 1))
    x = Tensor(np.ones((1, 3), dtype=np.float32), requires_grad=True)
    assert "no_grad" in error(RuntimeError, lambda: layer(x))
    with no_grad():
        assert layer(x).grad_fn is None
    assert layer(x.detach()).requires_grad is False
    assert "from a Linear" in error(TypeError, lambda: QuantizedLinear(Conv2d(1, 1, 1), (0, 1)))
    assert "from a Conv2d" in error(TypeError, lambda: QuantizedConv2d(Linear(1, 1), (0, 1)))
    assert "low <= high" in error(ValueError, lambda: QuantizedLinear(Linear(1, 1), (1, 0)))


def test_quantize_model_copies_replaces_at_every_depth_and_leaves_the_float_model():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.features = small_cnn(3)
            self.extra = Linear(10, 2)

        def forward(self, x):
            return self.extra(self.features(x))

    net = Net()
    images = Tensor(np.random.default_rng(4).uniform(0, 1, size=(16, 1, 8, 8)).astype(np.float32))
    state = {k: v.copy() for k, v in net.state_dict().items()}
    net.eval()
    before = net(images).data
    net.train()
    quantized = quantize_model(net, [images])
    kinds = {name: type(module).__name__ for name, module in quantized.named_modules()}
    assert kinds["features.0"] == "QuantizedConv2d" and kinds["features.5"] == "QuantizedLinear"
    assert kinds["extra"] == "QuantizedLinear" and "Linear" not in kinds.values() and "Conv2d" not in kinds.values()
    assert quantized.features.layers[0] is quantized.features[0]
    assert net.training and isinstance(net.features[0], Conv2d)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, state[name], err_msg=name)
    assert not quantized.training and not any(p.requires_grad for p in quantized.parameters())
    np.testing.assert_allclose(quantized(images).data, before, atol=0.05)
    report = dict((name, size) for name, _, size in size_report(quantized))
    assert report["extra"] == 20 + 2 * 8 and weight_bytes(net) == 4 * (36 + 640 + 20)
    single = quantize_model(Linear(4, 3), [np.ones((2, 4), dtype=np.float32)])
    assert isinstance(single, QuantizedLinear)


def test_quantize_model_on_a_gpt():
    gpt = GPT(vocab_size=20, context_length=8, embed_dim=16, num_heads=2, num_layers=2, rng=0)
    ids = np.random.default_rng(0).integers(0, 20, size=(4, 8))
    quantized = quantize_model(gpt, [ids])
    names = [name for name, module in quantized.named_modules() if isinstance(module, QuantizedLinear)]
    assert len(names) == 2 * 6 + 1  # q, k, v, out, fc1, fc2 per block, and the head
    with no_grad():
        np.testing.assert_allclose(quantized(ids).data, gpt(ids).data, atol=0.1)


def test_a_layer_that_never_ran_is_named():
    class Unused(Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = Linear(2, 2), Linear(2, 2)

        def forward(self, x):
            return self.used(x)

    message = error(ValueError, lambda: quantize_model(Unused(), [np.ones((1, 2), dtype=np.float32)]))
    assert "'spare'" in message and "never ran" in message

"""tinytorch.core.activations against NumPy and hand computations (property-based where it helps)."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core import activations
from tinytorch.core.activations import (
    GELU,
    Activation,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    gelu,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from tinytorch.core.tensor import Op, Tensor


def reference_softmax(x, dim):
    exps = np.exp(x - x.max(axis=dim, keepdims=True))
    return exps / exps.sum(axis=dim, keepdims=True)


def reference_gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


# name, op, object, float64 reference (on moderate inputs)
ELEMENTWISE = [
    ("relu", relu, ReLU(), lambda x: np.maximum(x, 0)),
    ("sigmoid", sigmoid, Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", tanh, Tanh(), np.tanh),
    ("gelu", gelu, GELU(), reference_gelu),
]
ALL = ELEMENTWISE + [("softmax", softmax, Softmax(), lambda x: reference_softmax(x, -1))]

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5)
moderate = st.floats(-30, 30, allow_nan=False, width=32)


def strict(function, *args, **kwargs):
    """Call with every NumPy floating-point warning (except underflow) turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            return function(*args, **kwargs)


def test_contract_names_are_ops_and_classes_are_activations():
    for name in ("relu", "sigmoid", "tanh", "gelu", "softmax"):
        operation = getattr(activations, name)
        assert isinstance(operation, Op), f"{name} must be an op (marked with @op())"
        assert operation.__name__ == name and operation.num_tensors == 1
    for cls in (ReLU, Sigmoid, Tanh, GELU, Softmax):
        assert issubclass(cls, Activation)
    assert [repr(layer) for layer in (ReLU(), GELU(), Softmax(), Softmax(dim=0))] == [
        "ReLU()", "GELU()", "Softmax(dim=-1)", "Softmax(dim=0)"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_ops_and_objects_match_numpy_and_keep_shape_and_dtype(dtype, data):
    x = data.draw(hnp.arrays(dtype, shapes, elements=moderate))
    for name, operation, layer, reference in ALL:
        if name == "softmax" and x.ndim == 0:
            continue
        expected = reference(x.astype(np.float64))
        original = x.copy()
        for out in (operation(Tensor(x)), layer(Tensor(x)), layer.forward(Tensor(x))):
            assert isinstance(out, Tensor)
            assert out.shape == x.shape, f"{name}: shape {out.shape} for input {x.shape}"
            assert out.dtype == dtype, f"{name}: {dtype.__name__} input gave {out.dtype}"
            np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_array_equal(x, original, err_msg=f"{name} changed its input")


def test_hand_computed_values():
    x = Tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(relu(x).data, [0, 0, 0, 1, 2])
    np.testing.assert_allclose(sigmoid(x).data, [0.11920292, 0.26894142, 0.5, 0.73105858, 0.88079708], rtol=1e-6)
    np.testing.assert_allclose(tanh(x).data, [-0.96402758, -0.76159416, 0, 0.76159416, 0.96402758], rtol=1e-6)
    # GELU(1): inner = sqrt(2/pi) * 1.044715 = 0.833562, tanh = 0.682384, 0.5 * 1.682384 = 0.841192
    np.testing.assert_allclose(gelu(Tensor([1.0])).data, [0.841192], rtol=1e-5)
    # softmax([1, 2, 3]): exp([-2, -1, 0]) = [0.1353, 0.3679, 1] with sum 1.5032
    np.testing.assert_allclose(softmax(Tensor([1.0, 2.0, 3.0])).data, [0.09003057, 0.24472847, 0.66524096], rtol=1e-6)


@given(hnp.arrays(np.float64, shapes, elements=st.floats(-20, 20)))
def test_identities_between_activations(x):
    np.testing.assert_allclose(sigmoid(Tensor(x)).data + sigmoid(Tensor(-x)).data, 1.0, atol=1e-12)
    np.testing.assert_allclose(tanh(Tensor(x)).data, 2 * sigmoid(Tensor(2 * x)).data - 1, atol=1e-12)
    # gelu(x) - gelu(-x) = x for both the exact GELU and its tanh approximation
    np.testing.assert_allclose(gelu(Tensor(x)).data - gelu(Tensor(-x)).data, x, atol=1e-10)
    pairs = np.stack([x, np.zeros_like(x)], axis=-1)
    np.testing.assert_allclose(softmax(Tensor(pairs)).data[..., 0], sigmoid(Tensor(x)).data, atol=1e-12)


def test_gelu_is_the_tanh_approximation_of_x_times_normal_cdf():
    x = np.linspace(-6, 6, 241)
    exact = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    approximation = gelu(Tensor(x)).data
    np.testing.assert_allclose(approximation, reference_gelu(x), rtol=1e-12, atol=1e-15)
    assert np.abs(approximation - exact).max() < 5e-4
    assert np.abs(approximation - exact).max() > 1e-6  # really the approximation, not erf


@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), elements=moderate), st.data())
def test_softmax_along_every_dim(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    out = softmax(Tensor(x), dim=dim)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference_softmax(x.astype(np.float64), dim), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.data.sum(axis=dim), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(Softmax(dim=dim)(Tensor(x)).data, out.data)
    np.testing.assert_array_equal(softmax(Tensor(x), dim).data, out.data)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=5), elements=st.floats(-5, 5)),
       st.floats(-1e4, 1e4))
def test_softmax_ignores_a_constant_added_along_dim(x, shift):
    offsets = np.arange(x.shape[0], dtype=np.float64).reshape((-1,) + (1,) * (x.ndim - 1)) * shift
    np.testing.assert_allclose(strict(softmax, Tensor(x + offsets), dim=-1).data, softmax(Tensor(x), dim=-1).data,
                               atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("magnitude", [1e3, 1e4, 1e6])
def test_extreme_inputs_are_finite_and_warning_free(dtype, magnitude):
    x = np.array([-magnitude, -magnitude / 2, -1.0, 0.0, 1.0, magnitude / 2, magnitude], dtype=dtype)
    expected = {
        "relu": np.maximum(x, 0),
        "sigmoid": [0, 0, 0.26894142, 0.5, 0.73105858, 1, 1],
        "tanh": [-1, -1, -0.76159416, 0, 0.76159416, 1, 1],
        "gelu": [0, 0, -0.15880801, 0, 0.84119199, magnitude / 2, magnitude],
    }
    for name, operation, layer, _ in ELEMENTWISE:
        for call in (operation, layer):
            out = strict(call, Tensor(x))
            assert np.isfinite(out.data).all(), f"{name}({x}) = {out.data}"
            assert out.dtype == dtype
            np.testing.assert_allclose(out.data, expected[name], rtol=1e-6, atol=1e-6, err_msg=f"{name} at {magnitude}")
    rows = np.array([[magnitude, magnitude + 1, magnitude - 1], [-magnitude, -magnitude + 1, -magnitude - 1],
                     [magnitude, 0, -magnitude]], dtype=dtype)
    for dim, data in [(-1, rows), (0, rows.T)]:
        out = strict(softmax, Tensor(data), dim=dim).data
        expected_rows = [reference_softmax(np.array([0.0, 1.0, -1.0]), -1)] * 2 + [[1.0, 0.0, 0.0]]
        expected_rows = np.array(expected_rows)
        np.testing.assert_allclose(out, expected_rows if dim == -1 else expected_rows.T, rtol=1e-5, atol=1e-7)


def test_sigmoid_relu_tanh_survive_any_finite_float32():
    biggest = np.finfo(np.float32).max
    x = Tensor(np.array([-biggest, -1e30, 1e30, biggest], dtype=np.float32))
    np.testing.assert_array_equal(strict(sigmoid, x).data, [0, 0, 1, 1])
    np.testing.assert_array_equal(strict(tanh, x).data, [-1, -1, 1, 1])
    np.testing.assert_array_equal(strict(relu, x).data, np.maximum(x.data, 0))


@pytest.mark.parametrize("shape, dim", [((2, 3), 2), ((2, 3), -3), ((4,), 1), ((2, 3, 4), 7), ((), -1)])
def test_bad_dim_names_dim_and_shape(shape, dim):
    x = Tensor(np.zeros(shape))
    for call in (lambda: softmax(x, dim=dim), lambda: Softmax(dim=dim)(x)):
        with pytest.raises(ValueError) as error:
            call()
        assert f"dim={dim}" in str(error.value) and str(shape) in str(error.value)


def test_inputs_are_converted_by_the_op_and_not_modified():
    assert relu([-1, 2]).dtype == np.float32
    np.testing.assert_allclose(relu([-1, 2]).data, [0, 2])
    np.testing.assert_allclose(softmax(np.zeros((2, 2), dtype=np.float32)).data, 0.5)
    x = Tensor(np.array([[-1.0, 2.0], [3.0, -4.0]]))
    view = x.T  # a non-contiguous view from module 01
    for _, operation, _, reference in ALL:
        before = x.data.copy()
        out = operation(view)
        assert out is not view
        np.testing.assert_allclose(out.data, reference(before.T))
        np.testing.assert_array_equal(x.data, before)

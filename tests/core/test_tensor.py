"""tinytorch.core.tensor against NumPy's semantics (property-based)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core.tensor import Op, Tensor, add, install_autograd, installed_autograd

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
floats = st.floats(-10, 10, allow_nan=False, width=32)


@st.composite
def broadcastable_arrays(draw):
    shape_a, shape_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4)).input_shapes
    a = draw(hnp.arrays(np.float32, shape_a, elements=floats))
    b = draw(hnp.arrays(np.float32, shape_b, elements=st.floats(0.5, 10, width=32)))
    return a, b


@given(broadcastable_arrays())
def test_binary_operators_match_numpy(pair):
    a, b = pair
    for ours, reference in [
        (Tensor(a) + Tensor(b), a + b),
        (Tensor(a) - Tensor(b), a - b),
        (Tensor(a) * Tensor(b), a * b),
        (Tensor(a) / Tensor(b), a / b),
        (a - Tensor(b), a - b),
        (a / Tensor(b), a / b),
        (3 - Tensor(a), 3 - a),
        (2 * Tensor(a), 2 * a),
    ]:
        assert ours.shape == reference.shape
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours.data, reference, rtol=1e-6)


@given(hnp.arrays(np.float32, shapes, elements=floats), st.data())
def test_reductions_match_numpy_on_every_axis(x, data):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none())
    keepdims = data.draw(st.booleans())
    for name in ("sum", "mean", "max"):
        ours = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims)
        reference = getattr(x, name)(axis=axis, keepdims=keepdims)
        assert ours.shape == np.shape(reference)
        np.testing.assert_allclose(ours.data, reference, rtol=1e-5, atol=1e-5)


@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=4, max_side=4), elements=floats))
def test_shape_operations_match_numpy(x):
    t = Tensor(x)
    np.testing.assert_array_equal(t.T.data, np.swapaxes(x, -1, -2))
    np.testing.assert_array_equal(t.transpose(0, 1).data, np.swapaxes(x, 0, 1))
    np.testing.assert_array_equal(t.reshape(-1).data, x.reshape(-1))
    np.testing.assert_array_equal(t.reshape(x.shape[::-1]).data, x.reshape(x.shape[::-1]))
    np.testing.assert_array_equal(t[0].data, x[0])
    np.testing.assert_array_equal(t[..., :1].data, x[..., :1])


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.sampled_from([(), (2,), (3, 2)]))
def test_matmul_matches_numpy_with_batches(m, k, n, batch):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.normal(size=batch + (m, k)).astype(np.float32)
    b = rng.normal(size=(k, n)).astype(np.float32)
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose((a @ Tensor(b)).data, a @ b, rtol=1e-5, atol=1e-6)


def test_dtype_rules():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert (Tensor([1.0]) * 2.5).dtype == np.float32
    assert (Tensor([1.0], dtype=np.float64) + 1).dtype == np.float64
    assert Tensor(np.float64(2.0)).dtype == np.float64
    assert Tensor([[1, 2, 3]]).nbytes == 12


@pytest.mark.parametrize(
    "action, mentions",
    [
        (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))), ["(2, 3)", "(4, 5)"]),
        (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones(2)), ["(2, 3)", "(2,)"]),
        (lambda: Tensor(np.ones((2, 3))).reshape(4, 2), ["(2, 3)", "(4, 2)"]),
        (lambda: Tensor(1.0) @ Tensor(np.ones(2)), ["()", "(2,)"]),
    ],
)
def test_shape_errors_name_the_shapes(action, mentions):
    with pytest.raises(ValueError) as error:
        action()
    for text in mentions:
        assert text in str(error.value)


def test_requires_grad_needs_a_float_dtype():
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2], dtype=np.int64, requires_grad=True)


def test_item_and_len():
    assert Tensor([[3.5]]).item() == 3.5
    assert len(Tensor(np.zeros((4, 2)))) == 4
    with pytest.raises(ValueError, match=r"\(2,\)"):
        Tensor([1, 2]).item()


def test_install_autograd_routes_every_op_call_through_the_recorder():
    """The documented extension point: a recorder sees every op call, with plain values already Tensors."""
    calls = []

    def recorder(operation, tensors, args, kwargs):
        calls.append((operation.__name__, [t.shape for t in tensors], args))
        return operation.forward(*tensors, *args, **kwargs)

    previous = installed_autograd()
    try:
        install_autograd(recorder, lambda tensor, gradient: None)
        result = Tensor([1.0, 2.0]) + 3
        total = result.sum(0)
    finally:
        install_autograd(*previous)
    np.testing.assert_allclose(result.data, [4.0, 5.0])
    np.testing.assert_allclose(total.data, 9.0)
    assert calls == [("add", [(2,), ()], ()), ("tensor_sum", [(2,)], (0, False))]
    assert installed_autograd() == previous
    assert isinstance(add, Op) and repr(add) == "<op add>"


def test_matmul_batch_shapes_that_do_not_broadcast_are_named():
    with pytest.raises(ValueError, match=r"batch shapes do not broadcast: \(2, 3, 4\) @ \(5, 4, 2\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((5, 4, 2)))
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))
    array = np.ones(3, dtype=np.float32)
    assert Tensor(array).numpy() is array

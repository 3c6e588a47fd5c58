"""tinytorch.core.tensor against NumPy's semantics (property-based)."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core.tensor import Op, Tensor, add, getitem, install_autograd, installed_autograd

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


@given(hnp.arrays(np.float32, shapes, elements=floats), st.data())
def test_flatten_merges_start_to_end_dim_like_torch(x, data):
    ndim = max(x.ndim, 1)
    start = data.draw(st.integers(-ndim, ndim - 1))
    end = data.draw(st.integers(-ndim, ndim - 1))
    t = Tensor(x)
    if start % ndim > end % ndim:
        with pytest.raises(ValueError, match=rf"start_dim={start}, end_dim={end}.*{re.escape(str(x.shape))}"):
            t.flatten(start, end)
        return
    shape = x.shape or (1,)
    s, e = start % ndim, end % ndim
    expected = x.reshape(shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])
    out = t.flatten(start, end)
    assert out is not t and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, expected)


def test_flatten_defaults_and_bad_dims():
    x = Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    assert x.flatten().shape == (24,)
    assert x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)
    assert x.flatten(-2, -1).shape == (2, 12)
    assert Tensor(5.0).flatten().shape == (1,)
    assert Tensor(np.zeros((0, 2, 3))).flatten(1).shape == (0, 6)
    for start, end in [(3, -1), (0, 3), (-4, -1), (2, 1)]:
        with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
            x.flatten(start, end)


@given(broadcastable_arrays())
def test_comparisons_are_boolean_tensors_that_broadcast(pair):
    a, b = pair
    for ours, reference in [
        (Tensor(a) < Tensor(b), a < b),
        (Tensor(a) <= b, a <= b),
        (Tensor(a) > 0.5, a > 0.5),
        (Tensor(a) >= Tensor(b), a >= b),
        (a < Tensor(b), a < b),  # a NumPy array on the left uses the reflected comparison
        (0 <= Tensor(a), 0 <= a),
    ]:
        assert isinstance(ours, Tensor) and ours.dtype == np.bool_
        np.testing.assert_array_equal(ours.data, reference)


def test_comparisons_name_shapes_and_keep_identity_equality():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"compare.*\(2,\).*\(3,\)"):
        _ = a < Tensor([1.0, 2.0, 3.0])
    assert a == a and a != b and not (a == b)  # identity, as for any Python object
    assert {a: 1, b: 2}[b] == 2 and len({a, b, a}) == 2
    assert not (Tensor(1.0) > 2)
    assert bool(Tensor([[3.0]]) > 2) is True
    with pytest.raises(ValueError, match="2 elements is ambiguous"):
        bool(a > 0)
    assert (Tensor([1.0, -1.0]) > 0).requires_grad is False


def test_matmul_method_and_vector_operands():
    rng = np.random.default_rng(0)
    for shape_a, shape_b in [((3, 4), (4, 2)), ((4,), (4, 2)), ((2, 3, 4), (4,)), ((4,), (4,)),
                             ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5))]:
        a = rng.normal(size=shape_a).astype(np.float32)
        b = rng.normal(size=shape_b).astype(np.float32)
        out = Tensor(a).matmul(Tensor(b))
        assert out.dtype == np.float32 and out.shape == np.matmul(a, b).shape
        np.testing.assert_allclose(out.data, np.matmul(a, b), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(3,\) @ \(4, 2\)"):
        Tensor(np.ones(3)).matmul(Tensor(np.ones((4, 2))))


def test_tensor_indices_are_converted_for_numpy():
    x_np = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = Tensor(x_np)
    np.testing.assert_array_equal(x[Tensor([2, 0])].data, x_np[[2, 0]])
    np.testing.assert_array_equal(x[Tensor([[0, 1], [2, 2]])].data, x_np[[[0, 1], [2, 2]]])
    np.testing.assert_array_equal(x[Tensor([0, 2]), Tensor([3, 1])].data, x_np[[0, 2], [3, 1]])
    np.testing.assert_array_equal(x[:, Tensor([3])].data, x_np[:, [3]])
    np.testing.assert_array_equal(x[x > 5].data, x_np[x_np > 5])
    np.testing.assert_array_equal(x[Tensor(1)].data, x_np[1])
    with pytest.raises(IndexError, match="whole numbers"):
        x[Tensor([0.5])]
    np.testing.assert_array_equal(getitem(x, Tensor([2, 0])).data, x_np[[2, 0]])  # the op called directly


def test_boolean_mask_gradient_lands_on_the_selected_elements():
    import tinytorch  # noqa: F401  (switches autograd on)

    x = Tensor(np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32), requires_grad=True)
    (x[x > 0] * Tensor([10.0, 20.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 10], [20, 0]])


def test_ops_return_new_tensors_and_leave_inputs_alone():
    a_np = np.linspace(0.5, 2.0, 12, dtype=np.float32).reshape(3, 4)
    b_np = np.linspace(1.0, 2.0, 4, dtype=np.float32)
    for run in [lambda a, b: a + b, lambda a, b: -a, lambda a, b: a ** 2, lambda a, b: a @ b, lambda a, b: a.sum(0),
                lambda a, b: a.reshape(3, 4), lambda a, b: a.flatten(), lambda a, b: b.flatten(), lambda a, b: a[:],
                lambda a, b: a.exp(), lambda a, b: a.log(), lambda a, b: a.sqrt(), lambda a, b: a.transpose(0, 1)]:
        left, right = a_np.copy(), b_np.copy()
        a, b = Tensor(left), Tensor(right)
        out = run(a, b)
        assert out is not a and out is not b
        assert a.data is left and b.data is right
        np.testing.assert_array_equal(left, a_np)
        np.testing.assert_array_equal(right, b_np)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_op_keeps_the_floating_dtype(dtype):
    x = Tensor(np.linspace(0.5, 2.0, 12).reshape(3, 4).astype(dtype))
    for out in [x + 1, 2 * x, x - x, x / 3, -x, x ** 0.5, x @ x.T, x.sum(), x.mean(), x.mean(axis=(0, 1)),
                x.max(axis=0), x.reshape(-1), x.flatten(), x.T, x[0], x[Tensor([1])], x.exp(), x.log(), x.sqrt()]:
        assert out.dtype == dtype
    assert Tensor(np.zeros(3), dtype=np.float32).dtype == np.float32
    assert Tensor(np.array([True, False])).dtype == np.float32
    assert Tensor(np.zeros(2, dtype=np.float16)).dtype == np.float16

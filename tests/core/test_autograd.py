"""tinytorch.core.autograd: the engine's behaviour (accumulation, grad mode, errors, deep graphs) and its tools.

Every op's gradient is checked against float64 central differences by tests/core/test_catalogue.py;
this file tests what the engine promises around those rules.
"""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch.core.activations as activations
import tinytorch.core.losses as losses
import tinytorch.core.tensor as tensor_module
from tinytorch.core.autograd import (
    Node,
    backward,
    enable_autograd,
    gradcheck,
    is_grad_enabled,
    no_grad,
    record,
    topological_order,
    unbroadcast,
)
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.losses import CrossEntropyLoss, MSELoss
from tinytorch.core.tensor import Op, Tensor, installed_autograd


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# Switching autograd on ------------------------------------------------------------------------

def test_import_tinytorch_turns_autograd_on_in_a_fresh_interpreter():
    code = (
        "import tinytorch\n"
        "x = tinytorch.Tensor([1.0], requires_grad=True)\n"
        "(x * 2).backward()\n"
        "print(x.grad.tolist())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[2.0]"


def test_import_tinytorch_installs_this_modules_recorder_and_engine():
    assert installed_autograd() == (record, backward)


def test_enable_autograd_is_idempotent():
    enable_autograd()
    enable_autograd()
    assert installed_autograd() == (record, backward)
    x = leaf([3.0])
    (x * x + x).backward()
    np.testing.assert_allclose(x.grad, [7.0])


def test_autograd_switched_off_leaves_plain_forwards_and_a_clear_backward_error():
    tensor_module.install_autograd(None, None)
    try:
        y = leaf([1.0, 2.0]) * 2
        assert y.grad_fn is None and not y.requires_grad
        with pytest.raises(RuntimeError, match="enable_autograd"):
            y.backward(np.ones(2))
    finally:
        enable_autograd()
    with pytest.raises(ValueError, match="both"):
        tensor_module.install_autograd(record, None)


# Recording and grad mode ------------------------------------------------------------------------

def test_ops_record_a_node_only_when_a_gradient_is_needed():
    x, c = leaf([1.0, 2.0]), Tensor([3.0, 4.0])
    y = x * c
    node = y.grad_fn
    assert y.requires_grad and isinstance(node, Node) and node.op is tensor_module.mul
    assert node.inputs == (x, c) and node.needs_grad == (True, False)
    assert node.arrays[0] is x.data and node.output is y.data and repr(node) == "<Node mul>"
    z = c * c
    assert not z.requires_grad and z.grad_fn is None
    s = x.sum(axis=0, keepdims=True)
    assert s.grad_fn.args == (0, True) and s.grad_fn.kwargs == {}


def test_an_ops_inner_ops_record_nothing():
    """cross_entropy's forward builds log_softmax from other ops; only the outer node is kept."""
    logits = leaf(np.zeros((2, 3)))
    loss = losses.cross_entropy(logits, Tensor([0, 2]))
    assert loss.grad_fn.op is losses.cross_entropy and loss.grad_fn.inputs[0] is logits
    assert is_grad_enabled()


def test_outputs_keep_the_dtype_of_their_inputs():
    assert (Tensor([1.0, 2.0], requires_grad=True) * 2).dtype == np.float32
    assert (leaf([1.0, 2.0]) * 2).dtype == np.float64
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    (x.exp() * x.sum(axis=0)).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3)


def test_no_grad_is_nestable_and_restores_on_exceptions():
    x = leaf([1.0])
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        y = x * 3
    assert is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("inside")
    assert is_grad_enabled()


def test_no_grad_works_as_a_decorator():
    x = leaf([1.0, 2.0])

    @no_grad()
    def evaluate(t):
        assert not is_grad_enabled()
        return t * 2

    assert evaluate.__name__ == "evaluate"
    assert not evaluate(x).requires_grad
    assert is_grad_enabled() and (x * 2).requires_grad


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    (x.detach() * x).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 2.0])
    assert not x.detach().requires_grad


def test_forward_shape_errors_still_name_the_shapes():
    with pytest.raises(ValueError) as error:
        leaf(np.ones((2, 3))) + leaf(np.ones(2))
    assert "(2, 3)" in str(error.value) and "(2,)" in str(error.value)
    with pytest.raises(ValueError) as error:
        leaf(np.ones((2, 3))) @ leaf(np.ones((4, 5)))
    assert "(2, 3)" in str(error.value) and "(4, 5)" in str(error.value)
    with pytest.raises(ValueError, match="position 1"):  # module 04's own message survives autograd
        losses.cross_entropy(leaf(np.zeros((2, 3))), Tensor([0, 5]))


# The engine ------------------------------------------------------------------------------------

def test_gradients_accumulate_over_uses_and_over_backward_calls():
    x = leaf([1.0, -2.0, 0.5])
    y = x * x + x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)
    y.sum().backward()  # PyTorch semantics: a second pass adds
    np.testing.assert_allclose(x.grad, 2 * (2 * x.data + 1))
    x.zero_grad()
    assert x.grad is None


def test_diamond_and_reused_intermediate():
    a, b, c = leaf([1.0, 2.0]), leaf([3.0, -1.0]), leaf([0.5, 4.0])
    (a * b + a * c).sum().backward()
    np.testing.assert_allclose(a.grad, b.data + c.data)
    np.testing.assert_allclose(b.grad, a.data)
    np.testing.assert_allclose(c.grad, a.data)
    x = leaf([0.3, -0.7])
    u = x * 2.0
    (u * u + u.exp()).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (2 * u.data + np.exp(u.data)))


def test_only_leaves_store_gradients_and_constants_get_none():
    x, c = leaf([1.0, 2.0]), Tensor([3.0, 4.0])
    hidden = x * c
    (hidden * hidden).sum().backward()
    assert hidden.grad is None
    assert c.grad is None
    np.testing.assert_allclose(x.grad, 2 * x.data * c.data ** 2)


def test_topological_order_lists_each_tensor_once_after_its_inputs():
    x = leaf([1.0])
    y = x * 2.0
    z = y * y + y
    order = topological_order(z)
    assert order[-1] is z and len(order) == len({id(t) for t in order})
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        for parent in (t.grad_fn.inputs if t.grad_fn else []):
            if parent.requires_grad:
                assert position[id(parent)] < position[id(t)]


def test_leaf_gradients_are_separate_writable_arrays():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # Add hands the same array to both inputs
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad *= 10  # what gradient clipping does
    np.testing.assert_allclose(b.grad, [1.0, 1.0])
    w = leaf(np.ones((2, 3)))
    w.sum().backward()  # Sum returns a read-only broadcast view
    w.grad[0, 0] = 5.0
    seed = np.array([1.0, 2.0])
    v = leaf([0.0, 0.0])
    v.backward(seed)
    seed[0] = 100.0
    np.testing.assert_allclose(v.grad, [1.0, 2.0])


def test_bias_gradient_is_summed_over_the_batch():
    layer = Linear(3, 2, rng=0)
    x = Tensor(np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32))
    upstream = np.random.default_rng(1).normal(size=(16, 2)).astype(np.float32)
    (layer(x) * Tensor(upstream)).sum().backward()
    assert layer.bias.grad.shape == (2,)
    np.testing.assert_allclose(layer.bias.grad, upstream.sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.weight.grad, x.data.T @ upstream, rtol=1e-4, atol=1e-5)


def test_max_splits_ties_and_getitem_accumulates_repeated_indices():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    table = leaf(np.arange(6.0).reshape(3, 2))
    table[Tensor([2, 0, 2, 2])].sum().backward()
    np.testing.assert_allclose(table.grad, [[1, 1], [0, 0], [3, 3]])


def test_a_100_000_op_chain_backpropagates_without_recursion():
    x = leaf([1.0, 2.0])
    factor, shift = Tensor(np.array(1.00001)), Tensor(np.array(0.5))
    y = x
    for _ in range(50_000):
        y = y * factor + shift
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(2, 1.00001 ** 50_000), rtol=1e-9)


def test_backward_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="requires grad"):
        Tensor([1.0, 2.0]).sum().backward()
    y = leaf([[1.0, 2.0], [3.0, 4.0]]) * 2
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        y.backward()
    with pytest.raises(ValueError) as error:
        y.backward(np.ones(3))
    assert "(3,)" in str(error.value) and "(2, 2)" in str(error.value)

    def wrong_shape(a):
        return Tensor(a.data * 2)

    wrong = Op(wrong_shape, num_tensors=1)
    wrong.backward = lambda node, grad, a: grad[:1]
    with pytest.raises(ValueError) as error:
        backward(wrong(leaf([1.0, 2.0, 3.0])), np.ones(3))
    assert "wrong_shape" in str(error.value) and "(3,)" in str(error.value)
    wrong.backward = lambda node, grad, a: (grad, grad)
    with pytest.raises(ValueError, match="2 gradients for 1 inputs"):
        backward(wrong(leaf([1.0, 2.0, 3.0])), np.ones(3))
    wrong.backward = None
    with pytest.raises(RuntimeError, match="wrong_shape has no backward rule"):
        backward(wrong(leaf([1.0, 2.0, 3.0])), np.ones(3))


def test_backward_accepts_a_tensor_as_gradient():
    x = leaf([1.0, 2.0])
    (x * 3).backward(Tensor([1.0, -1.0]))
    np.testing.assert_allclose(x.grad, [3.0, -3.0])


# unbroadcast and broadcasting gradients ------------------------------------------------------

@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
def test_unbroadcast_sums_exactly_what_broadcasting_repeated(shapes):
    shape_a, shape_b = shapes.input_shapes
    full = np.broadcast_shapes(shape_a, shape_b)
    for shape in (shape_a, shape_b):
        reduced = unbroadcast(np.ones(full), shape)
        assert reduced.shape == shape
        # each element of the input was used (size of the result) / (size of the input) times
        np.testing.assert_allclose(reduced, np.full(shape, np.prod(full) / max(np.prod(shape), 1)))


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4), st.integers(0, 2**16))
def test_binary_op_gradients_have_the_input_shapes(shapes, seed):
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shapes.input_shapes
    a, b = leaf(rng.uniform(0.5, 2, shape_a)), leaf(rng.uniform(0.5, 2, shape_b))
    upstream = rng.normal(size=np.broadcast_shapes(shape_a, shape_b))
    (a * b * Tensor(upstream)).sum().backward()
    full_b = np.broadcast_to(b.data, upstream.shape)
    full_a = np.broadcast_to(a.data, upstream.shape)
    np.testing.assert_allclose(a.grad, unbroadcast(upstream * full_b, shape_a))
    np.testing.assert_allclose(b.grad, unbroadcast(upstream * full_a, shape_b))


# gradcheck ------------------------------------------------------------------------------------

def test_gradcheck_passes_correct_rules_and_names_the_wrong_input():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 2, (3, 4)), rng.uniform(0.5, 2, (4, 2))
    assert gradcheck(lambda p, q: (p @ q).exp().sum(axis=0) / q.sum(), [a, b]) is True

    wrong_mul = Op(lambda p, q: Tensor(p.data * q.data), num_tensors=2)
    wrong_mul.backward = lambda node, grad, p, q: (grad * q, grad * q)
    with pytest.raises(AssertionError, match="input 1"):
        gradcheck(wrong_mul, [a, a + 1])
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda p: p.exp(), [Tensor([1.0, 2.0])])


def test_gradcheck_works_through_a_model_reading_its_weights():
    model = Sequential(Linear(3, 4, rng=0), activations.Tanh(), Linear(4, 2, rng=1))
    params = list(model.parameters())
    for p in params:
        p.data = p.data.astype(np.float64)
    x = Tensor(np.random.default_rng(2).normal(size=(5, 3)))
    targets = Tensor([0, 1, 1, 0, 1])
    assert gradcheck(lambda *weights: CrossEntropyLoss()(model(x), targets), params)


# Training --------------------------------------------------------------------------------------

def test_a_small_mlp_learns_with_plain_gradient_descent():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(64, 2)).astype(np.float32))
    y = Tensor((x.data[:, :1] * x.data[:, 1:] > 0).astype(np.float32) * 2 - 1)  # an XOR-like sign pattern
    model = Sequential(Linear(2, 16, rng=0), activations.Tanh(), Linear(16, 1, rng=1))
    criterion = MSELoss()
    first = None
    for _ in range(300):
        loss = criterion(model(x), y)
        first = loss.item() if first is None else first
        model.zero_grad()
        loss.backward()
        with no_grad():
            for p in model.parameters():
                p.data -= 0.1 * p.grad
    assert criterion(model(x), y).item() < 0.3 * first


def test_gradcheck_treats_a_non_leaf_input_as_a_new_leaf():
    upstream = leaf([[0.5, 1.5, -1.0], [2.0, 0.3, 1.1]])
    assert gradcheck(lambda t: (t * t).sum(axis=0), [upstream * 1.0]) is True
    assert gradcheck(lambda t: t.exp(), [upstream.reshape(6)]) is True
    assert upstream.grad is None

"""tinytorch.core.losses against float64 NumPy references and hand computations."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core.losses import (
    BinaryCrossEntropyLoss,
    CrossEntropyLoss,
    MSELoss,
    binary_cross_entropy,
    cross_entropy,
    log_softmax,
    mse_loss,
)
from tinytorch.core.tensor import Op, Tensor


def reference_log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def reference_cross_entropy(z, labels):
    return -reference_log_softmax(z, axis=1)[np.arange(len(labels)), labels].mean()


def reference_bce(p, y, eps=1e-7):
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    y = np.asarray(y, dtype=np.float64)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()


SCALES = st.sampled_from([1.0, 10.0, 1e3, 1e4])  # up to logits of +-1e4, where a naive exp overflows


@st.composite
def logits_and_labels(draw, scale=SCALES):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    unit = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-1, 1)))
    logits = (unit * draw(scale)).astype(dtype)
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return logits, labels


# The contract with module 05: three ops of two tensors, found by these names.
@pytest.mark.parametrize("operation, name", [(mse_loss, "mse_loss"), (cross_entropy, "cross_entropy"),
                                             (binary_cross_entropy, "binary_cross_entropy")])
def test_losses_are_two_tensor_ops_with_the_agreed_names(operation, name):
    assert isinstance(operation, Op)
    assert operation.num_tensors == 2
    assert operation.__name__ == name


@given(logits_and_labels())
def test_log_softmax_matches_numpy_and_is_finite(case):
    logits, _ = case
    out = log_softmax(Tensor(logits))
    assert out.shape == logits.shape and out.dtype == logits.dtype
    assert np.isfinite(out.data).all()
    np.testing.assert_allclose(out.data, reference_log_softmax(logits), rtol=1e-5, atol=2e-3)
    np.testing.assert_allclose(np.exp(out.data.astype(np.float64)).sum(axis=-1), 1.0, rtol=1e-5)


def test_log_softmax_along_another_axis_and_shift_invariance():
    z = np.random.default_rng(0).normal(size=(3, 4, 5))
    np.testing.assert_allclose(log_softmax(Tensor(z), dim=1).data, reference_log_softmax(z, axis=1), rtol=1e-12)
    np.testing.assert_allclose(log_softmax(Tensor(z + 1e4)).data, log_softmax(Tensor(z)).data, atol=1e-9)
    np.testing.assert_allclose(log_softmax([1.0, 2.0, 3.0]).data, [-2.4076059, -1.4076059, -0.4076059], rtol=1e-6)


@given(logits_and_labels())
def test_cross_entropy_matches_numpy_for_any_scale(case):
    logits, labels = case
    for targets in (Tensor(labels), labels, labels.astype(np.float64)):
        loss = CrossEntropyLoss()(Tensor(logits), targets)
        assert loss.shape == () and loss.dtype.kind == "f"
        assert np.isfinite(loss.data)
        np.testing.assert_allclose(loss.data, reference_cross_entropy(logits, labels), rtol=1e-5, atol=2e-3)


def test_cross_entropy_is_the_mean_of_per_example_losses():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(7, 4)), rng.integers(0, 4, size=7)
    singles = [cross_entropy(Tensor(logits[n:n + 1]), Tensor(labels[n:n + 1])).item() for n in range(7)]
    assert cross_entropy(Tensor(logits), Tensor(labels)).item() == pytest.approx(np.mean(singles), rel=1e-12)
    assert singles[0] == pytest.approx(-np.log(np.exp(logits[0, labels[0]]) / np.exp(logits[0]).sum()), rel=1e-12)


def test_cross_entropy_hand_computations():
    two = cross_entropy(Tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]]), Tensor([0, 1]))
    assert two.item() == pytest.approx((0.41703002 + 0.19673410) / 2, rel=1e-6)
    assert cross_entropy(Tensor(np.zeros((5, 10))), Tensor([0, 3, 9, 9, 2])).item() == pytest.approx(np.log(10.0))
    extreme = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, 5e3]], dtype=np.float32)
    assert cross_entropy(Tensor(extreme), Tensor([1, 2])).item() == pytest.approx((2e4 + 5e3) / 2, rel=1e-6)
    assert cross_entropy(Tensor(extreme), Tensor([1, 2])).dtype == np.float32


@pytest.mark.parametrize("labels, must_mention", [
    ([0, 1, 2, 1, 7], ["7", "position 4", "C = 3"]),
    ([0, 1, -1, 1, 0], ["-1", "position 2", "C = 3"]),
    ([0, 2.5, 0, 0, 0], ["2.5", "position 1"]),
    ([0, 0, 0, float("nan"), 0], ["nan", "position 3"]),
    (np.array([0, 3, 0, 0, 0]), ["3", "position 1"]),
    ([0, 1, 2, 0], ["(4,)", "(5, 3)"]),
    (np.zeros((5, 1)), ["(5, 1)", "(5, 3)"]),
])
def test_cross_entropy_rejects_bad_targets_with_clear_messages(labels, must_mention):
    with pytest.raises(ValueError) as error:
        cross_entropy(Tensor(np.zeros((5, 3))), labels)
    for text in must_mention:
        assert text in str(error.value)


def test_cross_entropy_rejects_logits_that_are_not_2d():
    for shape in [(3,), (2, 3, 4)]:
        with pytest.raises(ValueError, match=r"\(N, C\)"):
            cross_entropy(Tensor(np.zeros(shape)), Tensor([0]))


@given(hnp.array_shapes(min_dims=0, max_dims=3, max_side=5), st.data())
def test_mse_matches_numpy(shape, data):
    predictions = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-100, 100)))
    targets = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-100, 100)))
    loss = MSELoss()(Tensor(predictions), Tensor(targets))
    assert loss.shape == ()
    np.testing.assert_allclose(loss.data, ((predictions - targets) ** 2).mean(), rtol=1e-10, atol=1e-12)


def test_mse_hand_computation_and_no_silent_broadcasting():
    assert mse_loss(Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor([[1.0, 0.0], [0.0, 4.0]])).item() == pytest.approx(3.25)
    for a, b in [((4, 1), (4,)), ((4,), (4, 1)), ((2, 3), (3, 2)), ((3,), (1,))]:
        with pytest.raises(ValueError) as error:
            mse_loss(Tensor(np.ones(a)), Tensor(np.ones(b)))
        assert str(a) in str(error.value) and str(b) in str(error.value)


@given(hnp.array_shapes(min_dims=1, max_dims=2, max_side=6), st.sampled_from([np.float32, np.float64]), st.data())
def test_bce_matches_clipped_reference_including_exact_zeros_and_ones(shape, dtype, data):
    probabilities = data.draw(hnp.arrays(dtype, shape, elements=st.sampled_from([0.0, 1.0, 0.5, 0.25, 0.999, 1e-9])))
    targets = data.draw(hnp.arrays(np.float32, shape, elements=st.sampled_from([0.0, 1.0])))
    loss = BinaryCrossEntropyLoss()(Tensor(probabilities), Tensor(targets))
    assert loss.shape == () and np.isfinite(loss.data)
    # float32 stores 1 - 1e-7 as 1 - 1.19e-7, so a clipped 1.0 costs 15.9 instead of 16.1 there.
    rtol = 1e-6 if dtype == np.float64 else 2e-2
    np.testing.assert_allclose(loss.data, reference_bce(probabilities, targets), rtol=rtol, atol=1e-6)


def test_bce_hand_computations_and_errors():
    assert binary_cross_entropy(Tensor([0.9, 0.2]), Tensor([1.0, 0.0])).item() == pytest.approx(0.16425203, rel=1e-6)
    worst = binary_cross_entropy(Tensor(np.array([0.0, 1.0])), Tensor([1.0, 0.0])).item()
    assert worst == pytest.approx(-np.log(1e-7), rel=1e-6)
    with pytest.raises(ValueError, match=r"1\.5"):
        binary_cross_entropy(Tensor([0.5, 1.5]), Tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"-0\.1"):
        binary_cross_entropy(Tensor([-0.1, 0.5]), Tensor([1.0, 0.0]))
    with pytest.raises(ValueError) as error:
        binary_cross_entropy(Tensor(np.full((5, 1), 0.5)), Tensor(np.ones(5)))
    assert "(5, 1)" in str(error.value) and "(5,)" in str(error.value)


def test_loss_objects_call_forward_and_the_ops():
    rng = np.random.default_rng(2)
    logits, labels = Tensor(rng.normal(size=(4, 3))), Tensor(rng.integers(0, 3, size=4))
    x, y = Tensor(rng.uniform(size=(4, 2))), Tensor(rng.integers(0, 2, size=(4, 2)))
    for loss, args, operation in [(MSELoss(), (x, y), mse_loss), (CrossEntropyLoss(), (logits, labels), cross_entropy),
                                  (BinaryCrossEntropyLoss(), (x, y), binary_cross_entropy)]:
        assert loss(*args).item() == loss.forward(*args).item() == operation(*args).item()


def test_loss_objects_are_modules_without_parameters():
    from tinytorch.core.layers import Module

    for loss in (MSELoss(), CrossEntropyLoss(), BinaryCrossEntropyLoss()):
        assert isinstance(loss, Module)
        assert loss.parameters() == []


def test_bce_with_logits_is_exact_for_any_logit_and_checks_shapes():
    from tinytorch.core.losses import BCEWithLogitsLoss, binary_cross_entropy_with_logits

    z = np.array([1e4, -1e4, 2.0, -1.0], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    loss = BCEWithLogitsLoss()(Tensor(z), Tensor(y))
    assert loss.dtype == np.float32 and loss.shape == ()
    np.testing.assert_allclose(loss.item(), (1e4 + 1e4 + np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0))) / 4, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\)"):
        binary_cross_entropy_with_logits(Tensor(z), Tensor(y.reshape(4, 1)))
    logits = Tensor(np.array([[30.0, -30.0]]), requires_grad=True)
    BCEWithLogitsLoss()(logits, Tensor([[0.0, 1.0]])).backward()
    np.testing.assert_allclose(logits.grad, [[0.5, -0.5]], rtol=1e-9)  # a saturated wrong answer still learns

"""tinytorch.core.optimizers against plain-NumPy references of PyTorch's update rules."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from tinytorch.core.tensor import Tensor

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


# References in float64, written from the formulas (torch.optim's documented algorithms).
def sgd_reference(start, grads, lr, momentum=0.0, weight_decay=0.0):
    w, buffer = start.astype(np.float64), None
    for grad in grads:
        d = grad + weight_decay * w
        if momentum:
            buffer = d.copy() if buffer is None else momentum * buffer + d
            d = buffer
        w = w - lr * d
    return w


def rmsprop_reference(start, grads, lr, alpha, eps, weight_decay=0.0, momentum=0.0):
    """torch.optim.RMSprop, centered=False, as documented: buffers start at zero."""
    w = start.astype(np.float64)
    square_avg, buffer = np.zeros_like(w), np.zeros_like(w)
    for grad in grads:
        grad = grad + weight_decay * w
        square_avg = alpha * square_avg + (1 - alpha) * grad * grad
        step = grad / (np.sqrt(square_avg) + eps)
        if momentum:
            buffer = momentum * buffer + step
            step = buffer
        w = w - lr * step
    return w


def adam_reference(start, grads, lr, betas, eps, weight_decay=0.0, decoupled=False):
    w = start.astype(np.float64)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, grad in enumerate(grads, start=1):
        if decoupled:
            w = w - lr * weight_decay * w
        else:
            grad = grad + weight_decay * w
        m = betas[0] * m + (1 - betas[0]) * grad
        v = betas[1] * v + (1 - betas[1]) * grad * grad
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


@st.composite
def trajectories(draw):
    """A start point and a few gradients of one shape, all float32."""
    shape = draw(shapes)
    steps = draw(st.integers(1, 5))
    # No subnormals: scaling one by a weight decay would round differently in float32 and float64.
    elements = st.floats(-3, 3, allow_nan=False, allow_subnormal=False, width=32)
    start = draw(hnp.arrays(np.float32, shape, elements=elements))
    grads = [draw(hnp.arrays(np.float32, shape, elements=elements)) for _ in range(steps)]
    return start, grads


def run(optimizer_class, start, grads, **hyper):
    param = Tensor(start.copy())
    optimizer = optimizer_class([param], **hyper)
    for grad in grads:
        param.grad = grad
        optimizer.step()
    return param, optimizer


@given(trajectories(), st.floats(0.001, 0.5), st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.0, 0.01, 0.1]))
def test_sgd_matches_reference(trajectory, lr, momentum, weight_decay):
    start, grads = trajectory
    param, _ = run(SGD, start, grads, lr=lr, momentum=momentum, weight_decay=weight_decay)
    expected = sgd_reference(start, grads, lr, momentum, weight_decay)
    np.testing.assert_allclose(param.data, expected, rtol=1e-4, atol=1e-4)
    assert param.dtype == np.float32


# Adam's step m_hat / sqrt(v_hat) is about sign(g) while v_hat holds no history, so a gradient that
# cancels to exactly 0 in float32 but to 1e-9 in float64 moves the reference a whole lr. Hence no
# beta2 = 0 and a power-of-two weight decay: g + wd * w is then exact in both precisions on the step
# that starts the history, and later steps are continuous in g.
@given(trajectories(), st.floats(0.001, 0.2), st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.9)]),
       st.sampled_from([0.0, 0.0625]))
def test_adam_matches_reference(trajectory, lr, betas, weight_decay):
    start, grads = trajectory
    param, optimizer = run(Adam, start, grads, lr=lr, betas=betas, weight_decay=weight_decay)
    expected = adam_reference(start, grads, lr, betas, 1e-8, weight_decay)
    np.testing.assert_allclose(param.data, expected, rtol=1e-3, atol=2e-3)
    assert optimizer.state[param]["step"] == len(grads)


# As for Adam: a step of g / sqrt(v) is about sign(g) on the first step, so the eps is kept large
# enough that a gradient rounding to 0 in float32 moves the reference by a negligible amount.
@given(trajectories(), st.floats(0.001, 0.1), st.sampled_from([0.0, 0.5, 0.99]), st.sampled_from([1e-8, 0.1]),
       st.sampled_from([0.0, 0.0625]), st.sampled_from([0.0, 0.9]))
def test_rmsprop_matches_reference(trajectory, lr, alpha, eps, weight_decay, momentum):
    start, grads = trajectory
    param, optimizer = run(RMSprop, start, grads, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                           momentum=momentum)
    expected = rmsprop_reference(start, grads, lr, alpha, eps, weight_decay, momentum)
    np.testing.assert_allclose(param.data, expected, rtol=1e-3, atol=2e-3 * (1 + 10 * momentum))
    assert optimizer.state[param]["step"] == len(grads)
    assert ("momentum_buffer" in optimizer.state[param]) == bool(momentum)


def test_rmsprop_by_hand():
    """Two steps of lr=0.01, alpha=0.99, g=0.5 from w=1, written out (the notebook's worked example)."""
    w = Tensor([1.0])
    optimizer = RMSprop([w], lr=0.01)
    w.grad = np.array([0.5], dtype=np.float32)
    optimizer.step()
    # v = 0.01 * 0.25 = 0.0025, sqrt(v) = 0.05, w = 1 - 0.01 * 0.5 / 0.05 = 0.9
    np.testing.assert_allclose(w.data, [0.9], rtol=1e-6)
    optimizer.step()
    # v = 0.99 * 0.0025 + 0.0025 = 0.004975, w = 0.9 - 0.01 * 0.5 / sqrt(0.004975)
    np.testing.assert_allclose(optimizer.state[w]["square_avg"], [0.004975], rtol=1e-6)
    np.testing.assert_allclose(w.data, [0.9 - 0.005 / np.sqrt(0.004975)], rtol=1e-6)

    w = Tensor([1.0])
    optimizer = RMSprop([w], lr=0.01, momentum=0.9, eps=0.05)
    for _ in range(2):
        w.grad = np.array([0.5], dtype=np.float32)
        optimizer.step()
    b1 = 0.5 / (0.05 + 0.05)  # eps is added to sqrt(v), outside the root
    b2 = 0.9 * b1 + 0.5 / (np.sqrt(0.004975) + 0.05)
    np.testing.assert_allclose(optimizer.state[w]["momentum_buffer"], [b2], rtol=1e-6)
    np.testing.assert_allclose(w.data, [1 - 0.01 * b1 - 0.01 * b2], rtol=1e-6)


@given(trajectories(), st.floats(0.001, 0.2), st.sampled_from([0.0, 0.01, 0.3]))
def test_adamw_matches_reference(trajectory, lr, weight_decay):
    start, grads = trajectory
    param, _ = run(AdamW, start, grads, lr=lr, weight_decay=weight_decay)
    expected = adam_reference(start, grads, lr, (0.9, 0.999), 1e-8, weight_decay, decoupled=True)
    np.testing.assert_allclose(param.data, expected, rtol=1e-3, atol=2e-3)


def test_worked_examples_from_the_notebook():
    w = Tensor([1.0, -2.0])
    optimizer = SGD([w], lr=0.1, momentum=0.9)
    for _ in range(2):
        w.grad = np.array([0.5, 0.5], dtype=np.float32)
        optimizer.step()
    np.testing.assert_allclose(w.data, [0.855, -2.145], rtol=1e-6)

    w = Tensor([1.0])
    optimizer = Adam([w], lr=0.1)
    for expected in (0.9, 0.8):
        w.grad = np.array([0.5], dtype=np.float32)
        optimizer.step()
        np.testing.assert_allclose(w.data, [expected], rtol=1e-5)

    for make, expected in [(lambda p: AdamW(p, lr=0.1, weight_decay=0.01), 0.899),
                           (lambda p: Adam(p, lr=0.1, weight_decay=0.01), 0.9)]:
        w = Tensor([1.0])
        optimizer = make([w])
        w.grad = np.array([0.5], dtype=np.float32)
        optimizer.step()
        np.testing.assert_allclose(w.data, [expected], rtol=1e-5)


def test_state_contents_and_per_parameter_step_counts():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0])
    optimizer = Adam([a, b], lr=0.1)
    a.grad = np.array([0.5, -0.5], dtype=np.float32)
    optimizer.step()
    assert set(optimizer.state) == {a}, "a parameter without a gradient gets no state"
    assert sorted(optimizer.state[a]) == ["exp_avg", "exp_avg_sq", "step"]
    np.testing.assert_allclose(optimizer.state[a]["exp_avg"], [0.05, -0.05], rtol=1e-6)
    np.testing.assert_allclose(optimizer.state[a]["exp_avg_sq"], [0.00025, 0.00025], rtol=1e-5)
    b.grad = np.array([1.0], dtype=np.float32)
    optimizer.step()
    assert (optimizer.state[a]["step"], optimizer.state[b]["step"]) == (2, 1)
    np.testing.assert_allclose(b.data, [2.9], rtol=1e-6)  # b's first step is bias-corrected as t=1

    w = Tensor([1.0])
    sgd = SGD([w], lr=0.1, momentum=0.9)
    w.grad = np.array([2.0], dtype=np.float32)
    sgd.step()
    assert list(sgd.state[w]) == ["momentum_buffer"]
    assert SGD([w], lr=0.1).state == {}


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda p: RMSprop(p, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda p: Adam(p, lr=0.1, weight_decay=0.1),
    lambda p: AdamW(p, lr=0.1, weight_decay=0.1),
])
def test_parameters_without_gradient_are_untouched(make):
    frozen, live = Tensor([[3.0, -4.0]]), Tensor([1.0, -2.0])
    optimizer = make([frozen, live])
    for t in range(3):
        live.grad = None if t == 1 else np.array([0.5, -0.25], dtype=np.float32)
        before = live.data.copy()
        optimizer.step()
        np.testing.assert_array_equal(frozen.data, [[3.0, -4.0]])
        if t == 1:
            np.testing.assert_array_equal(live.data, before)
    assert frozen not in optimizer.state and frozen.grad is None


def test_updates_are_in_place_and_keep_float32():
    for make in (lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: RMSprop(p, momentum=0.5), lambda p: Adam(p),
                 lambda p: AdamW(p)):
        w = Tensor([1.0, 2.0])
        array = w.data
        optimizer = make([w])
        for _ in range(2):
            w.grad = np.array([0.25, -0.5])  # float64 gradient
            optimizer.step()
        assert w.data is array and w.dtype == np.float32
        assert all(v.dtype == np.float32 for v in optimizer.state[w].values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, lr=0.1, momentum=0.9),
    lambda p: SGD(p, lr=0.1, weight_decay=0.1),
    lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda p: RMSprop(p, momentum=0.9, weight_decay=0.1),
    lambda p: Adam(p, weight_decay=0.1),
    lambda p: AdamW(p),
])
def test_step_does_not_modify_the_gradient(make):
    """The same float32 gradient array stays in param.grad for three steps: it must not change, and
    the steps must equal those taken with a fresh copy each time (no buffer aliases the gradient)."""
    w, twin = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    optimizer, twin_optimizer = make([w]), make([twin])
    grad = np.array([0.25, -0.5], dtype=np.float32)
    w.grad = grad
    for _ in range(3):
        twin.grad = np.array([0.25, -0.5], dtype=np.float32)
        optimizer.step()
        twin_optimizer.step()
    assert w.grad is grad
    np.testing.assert_array_equal(grad, [0.25, -0.5])
    np.testing.assert_array_equal(w.data, twin.data)


def test_params_accepts_any_iterable_and_zero_grad_clears():
    tensors = [Tensor([1.0]), Tensor([2.0, 3.0])]
    optimizer = SGD((t for t in tensors), lr=0.1)  # a generator, like model.parameters()
    assert isinstance(optimizer.params, list) and all(p is t for p, t in zip(optimizer.params, tensors, strict=True))
    for t in tensors:
        t.grad = np.ones_like(t.data)
    optimizer.step()
    optimizer.step()
    np.testing.assert_allclose(tensors[1].data, [1.8, 2.8], rtol=1e-6)  # a consumed generator would not step twice
    optimizer.zero_grad()
    assert all(t.grad is None for t in tensors)
    assert isinstance(SGD(tuple(tensors), lr=0.1).params, list)


@pytest.mark.parametrize("make, error, words", [
    (lambda: SGD([], lr=0.1), ValueError, ["empty"]),
    (lambda: Adam(iter([])), ValueError, ["empty"]),
    (lambda: SGD([Tensor([1.0]), [1.0, 2.0]], lr=0.1), TypeError, ["1", "list"]),
    (lambda: SGD([Tensor([1.0])], lr=-0.5), ValueError, ["lr", "-0.5"]),
    (lambda: SGD([Tensor([1.0])], lr=0.0), ValueError, ["lr must be > 0", "0.0"]),
    (lambda: SGD([Tensor([1.0])], lr=0.1, momentum=-0.1), ValueError, ["momentum", "-0.1"]),
    (lambda: SGD([Tensor([1.0])], lr=0.1, momentum=1.0), ValueError, ["momentum", "1.0"]),
    (lambda: SGD([Tensor([1.0])], lr=0.1, weight_decay=-0.1), ValueError, ["weight_decay", "-0.1"]),
    (lambda: Adam([Tensor([1.0])], lr=-1e-3), ValueError, ["lr", "-0.001"]),
    (lambda: Adam([Tensor([1.0])], betas=(0.9, 1.0)), ValueError, ["betas[1]", "1.0"]),
    (lambda: Adam([Tensor([1.0])], betas=(-0.1, 0.9)), ValueError, ["betas[0]", "-0.1"]),
    (lambda: Adam([Tensor([1.0])], betas=(0.9,)), ValueError, ["betas", "pair"]),
    (lambda: Adam([Tensor([1.0])], eps=0.0), ValueError, ["eps", "0.0"]),
    (lambda: Adam([Tensor([1.0])], lr=0.0), ValueError, ["lr", "0.0"]),
    (lambda: AdamW([Tensor([1.0])], weight_decay=-0.01), ValueError, ["weight_decay", "-0.01"]),
    (lambda: RMSprop([Tensor([1.0])], lr=0.0), ValueError, ["lr", "0.0"]),
    (lambda: RMSprop([Tensor([1.0])], alpha=1.0), ValueError, ["alpha", "1.0"]),
    (lambda: RMSprop([Tensor([1.0])], alpha=-0.1), ValueError, ["alpha", "-0.1"]),
    (lambda: RMSprop([Tensor([1.0])], eps=0.0), ValueError, ["eps", "0.0"]),
    (lambda: RMSprop([Tensor([1.0])], momentum=1.0), ValueError, ["momentum", "1.0"]),
    (lambda: RMSprop([Tensor([1.0])], weight_decay=-1.0), ValueError, ["weight_decay", "-1.0"]),
    (lambda: SGD([{"params": [Tensor([1.0])], "lr": 0.0}], lr=0.1), ValueError, ["lr", "0.0"]),
    (lambda: Adam([{"params": [Tensor([1.0])], "betas": (0.9, 1.0)}]), ValueError, ["betas[1]", "1.0"]),
    (lambda: SGD([{"params": [Tensor([1.0])], "betas": (0.9, 0.9)}], lr=0.1), ValueError, ["betas", "momentum"]),
    (lambda: SGD([{"lr": 0.1}], lr=0.1), TypeError, ["'params'"]),
    (lambda: SGD([{"params": []}], lr=0.1), ValueError, ["empty"]),
])
def test_bad_configuration_gets_a_clear_error(make, error, words):
    with pytest.raises(error) as raised:
        make()
    for word in words:
        assert word in str(raised.value), f"{word!r} missing from {raised.value}"


def test_gradient_of_wrong_shape_is_explained():
    w = Tensor(np.ones((2, 3), dtype=np.float32))
    w.grad = np.ones(3, dtype=np.float32)  # would broadcast silently
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        SGD([w], lr=0.1).step()


def _train(optimizer, params, grads):
    for grad_list in grads:
        for param, grad in zip(params, grad_list, strict=True):
            param.grad = grad
        optimizer.step()


@pytest.mark.parametrize("make", [
    lambda p, lr=0.05: SGD(p, lr=lr, momentum=0.9, weight_decay=0.01),
    lambda p, lr=0.05: RMSprop(p, lr=lr, momentum=0.5, weight_decay=0.01),
    lambda p, lr=0.05: Adam(p, lr=lr, weight_decay=0.01),
    lambda p, lr=0.05: AdamW(p, lr=lr),
])
def test_state_dict_round_trip_resumes_identically(make):
    rng = np.random.default_rng(0)
    starts = [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=2).astype(np.float32), np.ones(1, np.float32)]
    grads = [[rng.normal(size=s.shape).astype(np.float32) for s in starts[:2]] + [None] for _ in range(8)]
    params = [Tensor(s.copy()) for s in starts]
    optimizer = make(params)
    _train(optimizer, params, grads[:4])
    checkpoint = optimizer.state_dict()
    saved = [p.data.copy() for p in params]
    assert sorted(checkpoint) == ["param_groups", "state"]
    assert sorted(checkpoint["state"]) == [0, 1], "the parameter without gradients has no state"
    assert checkpoint["param_groups"][0]["lr"] == 0.05 and checkpoint["param_groups"][0]["params"] == [0, 1, 2]
    _train(optimizer, params, grads[4:])  # the checkpoint must not change while training goes on

    for _ in range(2):  # two optimizers restored from the same checkpoint: load must copy too
        resumed = [Tensor(s.copy()) for s in saved]
        restored = make(resumed, lr=123.0)
        restored.load_state_dict(checkpoint)
        assert restored.param_groups[0]["lr"] == 0.05
        _train(restored, resumed, grads[4:])
        for ours, theirs in zip(resumed, params, strict=True):
            np.testing.assert_array_equal(ours.data, theirs.data)


def test_state_dict_holds_copies_and_plain_values():
    w = Tensor([1.0, 2.0])
    optimizer = Adam([w], lr=0.1, betas=(0.8, 0.9))
    w.grad = np.array([1.0, 1.0], dtype=np.float32)
    optimizer.step()
    checkpoint = optimizer.state_dict()
    assert checkpoint["param_groups"] == [{"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-8, "weight_decay": 0.0,
                                           "params": [0]}]
    saved = checkpoint["state"][0]
    assert saved["step"] == 1
    assert saved["exp_avg"] is not optimizer.state[w]["exp_avg"]
    optimizer.step()
    optimizer.param_groups[0]["lr"] = 0.5
    np.testing.assert_allclose(saved["exp_avg"], [0.2, 0.2], rtol=1e-6)
    assert checkpoint["param_groups"][0]["lr"] == 0.1


ADAM_GROUP = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "params": [0, 1]}


@pytest.mark.parametrize("checkpoint, words", [
    ({"state": {}}, ["param_groups", "state"]),
    ({"param_groups": [{**ADAM_GROUP, "momentum": 0.9}], "state": {}}, ["momentum"]),
    ({"param_groups": [ADAM_GROUP, ADAM_GROUP], "state": {}}, ["2 parameter groups", "has 1"]),
    ({"param_groups": [{**ADAM_GROUP, "params": [0]}], "state": {}}, ["[0]", "[0, 1]"]),
    ({"param_groups": [ADAM_GROUP], "state": {2: {"step": 1}}}, ["position 2", "2 parameters"]),
    ({"param_groups": [ADAM_GROUP], "state": {0: {"exp_avg": np.zeros(5)}}}, ["(5,)", "(2,)"]),
])
def test_load_state_dict_explains_a_checkpoint_that_does_not_fit(checkpoint, words):
    optimizer = Adam([Tensor([1.0, 2.0]), Tensor([3.0])], lr=0.5)
    w = optimizer.params[0]
    w.grad = np.ones(2, dtype=np.float32)
    optimizer.step()
    before = optimizer.state_dict()
    with pytest.raises(ValueError) as raised:
        optimizer.load_state_dict(checkpoint)
    for word in words:
        assert word in str(raised.value), f"{word!r} missing from {raised.value}"
    after = optimizer.state_dict()  # a checkpoint that does not fit changes nothing
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])


@pytest.mark.parametrize("optimizer_class, defaults, override", [
    (SGD, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "weight_decay": 0.1}),
    (RMSprop, {"lr": 0.01, "momentum": 0.5}, {"lr": 0.001, "alpha": 0.9}),
    (Adam, {"lr": 0.05}, {"lr": 0.005, "betas": (0.5, 0.9)}),
    (AdamW, {"lr": 0.05}, {"weight_decay": 0.5}),
])
def test_each_param_group_steps_with_its_own_hyperparameters(optimizer_class, defaults, override):
    rng = np.random.default_rng(4)
    starts = [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=2).astype(np.float32)]
    grads = [[rng.normal(size=s.shape).astype(np.float32) for s in starts] for _ in range(3)]
    params = [Tensor(s.copy()) for s in starts]
    grouped = optimizer_class([{"params": params[:1], **override}, {"params": params[1:]}], **defaults)
    assert grouped.params == params and len(grouped.param_groups) == 2
    assert grouped.param_groups[1] == {**grouped.defaults, "params": params[1:]}
    refs = [Tensor(s.copy()) for s in starts]
    singles = [optimizer_class(refs[:1], **{**defaults, **override}), optimizer_class(refs[1:], **defaults)]
    for t, step_grads in enumerate(grads):
        if t == 2:  # what a scheduler does
            grouped.param_groups[0]["lr"] = singles[0].param_groups[0]["lr"] = 0.5 * grouped.param_groups[0]["lr"]
        for param, ref, grad in zip(params, refs, step_grads, strict=True):
            param.grad, ref.grad = grad, grad.copy()
        grouped.step()
        for single in singles:
            single.step()
        for param, ref in zip(params, refs, strict=True):
            np.testing.assert_array_equal(param.data, ref.data)
    checkpoint = grouped.state_dict()
    assert [group["params"] for group in checkpoint["param_groups"]] == [[0], [1]]
    resumed = optimizer_class([{"params": [Tensor(s.copy())]} for s in starts], **defaults)
    resumed.load_state_dict(checkpoint)
    assert [dict(g, params=None) for g in resumed.param_groups] == [dict(g, params=None) for g in grouped.param_groups]


def test_param_groups_copy_the_callers_dicts_and_reject_repeats():
    a, b = Tensor([1.0]), Tensor([2.0])
    spec = {"params": [a], "lr": 0.5}
    optimizer = SGD([spec, {"params": (p for p in [b])}], lr=0.1)
    assert spec == {"params": [a], "lr": 0.5}
    assert [group["params"] for group in optimizer.param_groups] == [[a], [b]]
    assert optimizer.defaults == {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0}
    with pytest.raises(ValueError, match="twice"):
        SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)
    with pytest.raises(ValueError, match="twice"):
        SGD([a, a], lr=0.1)
    optimizer.add_param_group({"params": Tensor([3.0]), "momentum": 0.5})
    assert len(optimizer.params) == 3 and optimizer.param_groups[2]["momentum"] == 0.5


def test_learning_rate_can_be_changed_between_steps():
    w = Tensor([1.0])
    optimizer = SGD([w], lr=0.1)
    w.grad = np.array([1.0], dtype=np.float32)
    optimizer.step()
    optimizer.param_groups[0]["lr"] = 0.5  # what a scheduler (module 07) does
    optimizer.step()
    np.testing.assert_allclose(w.data, [0.4], rtol=1e-6)


def test_base_class_requires_step():
    with pytest.raises(NotImplementedError):
        Optimizer([Tensor([1.0])], {}).step()


def test_a_group_that_fails_its_check_is_not_added():
    optimizer = SGD([Tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="-1.0"):
        optimizer.add_param_group({"params": [Tensor([2.0])], "lr": -1.0})
    assert len(optimizer.param_groups) == 1 and len(optimizer.params) == 1


START, GRADS = np.array([1.0, -2.0], np.float32), [np.array([0.5, 2.5], np.float32)] * 2


@pytest.mark.parametrize("optimizer_class, expected", [
    (SGD, sgd_reference(START, GRADS, 0.1, weight_decay=1.0)),
    (RMSprop, rmsprop_reference(START, GRADS, 0.1, 0.99, 1e-8, weight_decay=1.0)),
    (Adam, adam_reference(START, GRADS, 0.1, (0.9, 0.999), 1e-8, weight_decay=1.0)),
    (AdamW, adam_reference(START, GRADS, 0.1, (0.9, 0.999), 1e-8, weight_decay=1.0, decoupled=True)),
])
def test_weight_decay_of_one_is_applied(optimizer_class, expected):
    param, _ = run(optimizer_class, START, GRADS, lr=0.1, weight_decay=1.0)
    np.testing.assert_allclose(param.data, expected, rtol=1e-5, atol=1e-6)


def test_plain_sgd_keeps_no_momentum_buffer():
    w, optimizer = run(SGD, np.array([1.0], np.float32), [np.array([0.5], np.float32)] * 2, lr=0.1)
    assert "momentum_buffer" not in optimizer.state.get(w, {})
    assert optimizer.state_dict()["state"] == {}


def test_adam_adds_eps_to_the_root_for_tiny_gradients():
    # sqrt(v_hat) = 1e-10 < eps: subtracting eps would flip the step's sign.
    w, _ = run(Adam, np.array([1.0], np.float32), [np.array([1e-10], np.float32)], lr=0.1)
    np.testing.assert_allclose(w.data, [1.0 - 0.1 * 1e-10 / (1e-10 + 1e-8)], rtol=1e-7)
    assert w.data[0] < 1.0


def test_adamw_refuses_a_wrong_gradient_before_decaying():
    w = Tensor([1.0, -2.0])
    optimizer = AdamW([w], lr=0.1, weight_decay=0.5)
    w.grad = np.ones(3, dtype=np.float32)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        optimizer.step()
    np.testing.assert_array_equal(w.data, [1.0, -2.0])


def test_hyperparameters_in_checkpoints_are_copies():
    optimizer = Adam([{"params": [Tensor([1.0, 2.0])], "betas": [0.9, 0.999]}])
    checkpoint = optimizer.state_dict()
    optimizer.param_groups[0]["betas"][0] = 0.5
    assert checkpoint["param_groups"][0]["betas"] == [0.9, 0.999]
    restored = Adam([Tensor([1.0, 2.0])])
    restored.load_state_dict(checkpoint)
    checkpoint["param_groups"][0]["betas"][1] = 0.5
    assert restored.param_groups[0]["betas"] == [0.9, 0.999]

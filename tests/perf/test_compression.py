"""tinytorch.perf.compression: magnitude pruning, masks under every optimizer, structured pruning, low rank,
distillation.

No new op lives here (the distillation loss composes module 04's ops), so there are no catalogue rows; the
gradients of the loss are checked here against float64 central differences, and against PyTorch when it is
installed.
"""

import copy

import numpy as np
import pytest

from tests.errors import error_message as message
from tests.pytorch import require_torch
from tinytorch.core.activations import ReLU, Sigmoid, Softmax
from tinytorch.core.autograd import gradcheck
from tinytorch.core.layers import Dropout, Flatten, Linear, Sequential, manual_seed
from tinytorch.core.losses import cross_entropy
from tinytorch.core.optimizers import SGD, Adam, AdamW
from tinytorch.core.spatial import BatchNorm2d, Conv2d, MaxPool2d
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import Trainer
from tinytorch.perf.compression import (
    DistillationLoss,
    MaskedOptimizer,
    PruningMasks,
    distillation_loss,
    global_magnitude_masks,
    low_rank_linear,
    magnitude_mask,
    prunable_parameters,
    prune_magnitude,
    prune_structured,
    sparsity,
)


def mlp(seed=0, sizes=(6, 8, 5, 3)):
    manual_seed(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Linear(fan_in, fan_out), ReLU()]
    return Sequential(*layers[:-1])


def cnn(seed=0):
    manual_seed(seed)
    return Sequential(Conv2d(2, 6, 3, padding=1), BatchNorm2d(6), ReLU(), MaxPool2d(2),
                      Conv2d(6, 5, 3, padding=1), BatchNorm2d(5), ReLU(), Flatten(), Linear(5 * 3 * 3, 4))


# Magnitude masks ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, fraction, removed", [(10, 0.25, 3), (5, 0.5, 3), (4, 0.5, 2), (7, 0.0, 0), (7, 1.0, 7),
                                                     (3, 0.1, 0), (3, 0.17, 1)])
def test_magnitude_mask_removes_the_nearest_whole_count_halves_up(size, fraction, removed):
    values = np.random.default_rng(size).normal(size=size)
    mask = magnitude_mask(values, fraction)
    assert mask.dtype == np.bool_ and mask.shape == values.shape
    assert int((~mask).sum()) == removed
    if 0 < removed < size:
        assert np.abs(values[~mask]).max() <= np.abs(values[mask]).min()


def test_ties_go_by_flat_position_and_the_weight_is_not_changed():
    weight = np.array([[0.5, -0.5, 0.2], [0.5, 0.2, -0.2]], dtype=np.float32)
    before = weight.copy()
    assert magnitude_mask(weight, 0.5).tolist() == [[True, True, False], [True, False, False]]
    assert magnitude_mask(weight, 4 / 6).tolist() == [[False, True, False], [True, False, False]]
    assert np.array_equal(weight, before)
    assert magnitude_mask(Tensor(weight), 0.5).tolist() == magnitude_mask(weight, 0.5).tolist()


def test_global_masks_use_one_threshold_over_all_weights():
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=(4, 5)), 10 * rng.normal(size=(3, 3)), rng.normal(size=6)]
    masks = global_magnitude_masks(weights, 0.3)
    assert [m.shape for m in masks] == [w.shape for w in weights]
    pooled = np.concatenate([np.abs(w).ravel() for w in weights])
    kept = np.concatenate([m.ravel() for m in masks])
    assert int((~kept).sum()) == int(np.floor(0.3 * pooled.size + 0.5))
    assert pooled[~kept].max() <= pooled[kept].min()
    assert (~masks[1]).sum() < (~masks[0]).sum(), "the layer of big weights loses fewer"
    ties = global_magnitude_masks([np.ones(3), np.ones(2)], 0.4)
    assert [m.tolist() for m in ties] == [[False, False, True], [True, True]]


@pytest.mark.parametrize("bad", [-0.01, 1.01, "0.5", None, True, float("nan")])
def test_sparsity_is_checked(bad):
    text = message(ValueError, lambda: magnitude_mask(np.ones(3), bad))
    assert "sparsity" in text and "[0, 1]" in text and repr(bad) in text


# Masks and optimizers -----------------------------------------------------------------------------------

def test_prunable_parameters_are_linear_and_conv_weights_biases_on_request():
    model = cnn()
    assert [name for name, _ in prunable_parameters(model)] == ["0.weight", "4.weight", "8.weight"]
    assert [name for name, _ in prunable_parameters(model, include_bias=True)] == [
        "0.weight", "0.bias", "4.weight", "4.bias", "8.weight", "8.bias"]
    shared = Linear(3, 3)
    assert len(prunable_parameters(Sequential(shared, ReLU(), shared))) == 1


def test_prune_magnitude_per_layer_global_and_with_biases():
    model = mlp()
    arrays = [param.data for _, param in prunable_parameters(model, include_bias=True)]
    originals = [a.copy() for a in arrays]
    masks = prune_magnitude(model, 0.5, scope="layer")
    for (_, param), original, array in zip(prunable_parameters(model), originals[::2], arrays[::2], strict=True):
        assert param.data is array and param.dtype == np.float32
        assert int((param.data == 0).sum()) == int(np.floor(0.5 * param.size + 0.5))
        np.testing.assert_array_equal(param.data, np.where(magnitude_mask(original, 0.5), original, 0))
    for bias, original in zip(arrays[1::2], originals[1::2], strict=True):
        np.testing.assert_array_equal(bias, original)
    assert sparsity(model) == pytest.approx(masks.sparsity())
    model = mlp()
    masks = prune_magnitude(model, 0.5, scope="global", include_bias=True)
    total = sum(param.size for param in model.parameters())
    assert total == 119 and sparsity(model, include_bias=True) == pytest.approx(np.floor(0.5 * total + 0.5) / total)
    assert len(masks.masks) == 6
    assert "scope" in message(ValueError, lambda: prune_magnitude(mlp(), 0.5, scope="all"))


def test_pruning_masks_check_their_shapes():
    param = Linear(2, 3).weight
    assert "one mask per parameter" in message(ValueError, lambda: PruningMasks([param], []))
    assert "(3, 2)" in message(ValueError, lambda: PruningMasks([param], [np.ones((3, 2))]))


def test_mask_gradients_copies_and_keeps_the_dtype():
    model = mlp()
    masks = prune_magnitude(model, 0.5)
    grad = np.ones(model[0].weight.shape, dtype=np.float32)
    model[0].weight.grad = grad
    masks.mask_gradients()
    assert grad.min() == 1.0, "the caller's gradient array is not changed"
    assert model[0].weight.grad.dtype == np.float32
    np.testing.assert_array_equal(model[0].weight.grad, masks.masks[0])


def train_steps(model, optimizer, steps, seed=0):
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        x = Tensor(rng.normal(size=(16, 6)).astype(np.float32))
        y = Tensor(rng.integers(0, 3, size=16))
        optimizer.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("make", [
    lambda params: SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda params: Adam(params, lr=0.01, weight_decay=0.01),
    lambda params: AdamW(params, lr=0.01, weight_decay=0.1),
])
def test_pruned_weights_stay_exactly_zero_while_training_with_stateful_optimizers(make):
    model = mlp()
    optimizer = make(model.parameters())
    train_steps(model, optimizer, 5)  # momentum and moments exist before pruning
    masks = prune_magnitude(model, 0.6, scope="global")
    kept = [param.data[mask].copy() for param, mask in zip(masks.parameters, masks.masks, strict=True)]
    masked = MaskedOptimizer(optimizer, masks)
    train_steps(model, masked, 10, seed=1)
    for param, mask, before in zip(masks.parameters, masks.masks, kept, strict=True):
        assert np.all(param.data[~mask] == 0)
        assert not np.allclose(param.data[mask], before), "the kept weights still train"
    # Without re-applying the masks, the optimizers' state brings pruned weights back.
    model = mlp()
    optimizer = make(model.parameters())
    train_steps(model, optimizer, 5)
    masks = prune_magnitude(model, 0.6, scope="global")
    for _ in range(3):
        model.zero_grad()
        cross_entropy(model(Tensor(np.ones((2, 6), dtype=np.float32))), Tensor(np.array([0, 1]))).backward()
        masks.mask_gradients()
        optimizer.step()
    assert any(np.any(param.data[~mask] != 0) for param, mask in zip(masks.parameters, masks.masks, strict=True))


def test_masked_optimizer_works_in_the_trainer():
    model = mlp()
    masks = prune_magnitude(model, 0.7)
    optimizer = MaskedOptimizer(Adam(model.parameters(), lr=0.01), masks)
    assert optimizer.param_groups is optimizer.optimizer.param_groups
    rng = np.random.default_rng(3)
    batches = [(Tensor(rng.normal(size=(8, 6)).astype(np.float32)), Tensor(rng.integers(0, 3, size=8))) for _ in range(4)]
    Trainer(model, optimizer, cross_entropy).fit(batches, epochs=2, progress=False)
    assert sparsity(model) == pytest.approx(masks.sparsity())
    assert set(optimizer.state_dict()) == {"state", "param_groups"}
    clone = copy.deepcopy(optimizer)
    assert isinstance(clone.optimizer, Adam) and clone.param_groups[0]["lr"] == 0.01


# Structured pruning -------------------------------------------------------------------------------------

def cut_outgoing(model, index, consumer, removed, per_channel=1):
    """A copy of `model` whose layer `consumer` ignores the removed neurons of layer `index`."""
    masked = copy.deepcopy(model)
    weight = masked[consumer].weight.data
    if isinstance(masked[consumer], Linear):
        rows = (np.asarray(removed)[:, None] * per_channel + np.arange(per_channel)).ravel()
        weight[rows] = 0
    else:
        weight[:, removed] = 0
    return masked


def removed_by_norm(weight, amount, norm="l2"):
    flat = weight.T if weight.ndim == 2 else weight.reshape(weight.shape[0], -1)
    scores = np.abs(flat).sum(axis=1) if norm == "l1" else np.linalg.norm(flat.astype(np.float64), axis=1)
    count = int(np.floor(amount * scores.size + 0.5))
    return np.sort(np.argsort(scores, kind="stable")[:count])


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_structured_pruning_of_an_mlp_equals_cutting_the_neurons(norm):
    model = mlp()
    state = model.state_dict()
    x = Tensor(np.random.default_rng(4).normal(size=(7, 6)).astype(np.float32))
    for index, consumer, amount in [(0, 2, 0.5), (2, 4, 0.4)]:
        removed = removed_by_norm(model[index].weight.data, amount, norm)
        small = prune_structured(model, index, amount, norm=norm)
        expected = cut_outgoing(model, index, consumer, removed)(x).data
        np.testing.assert_allclose(small(x).data, expected, rtol=1e-5, atol=1e-6)
        assert small[index].weight.shape[1] == model[index].weight.shape[1] - removed.size
        assert small[consumer].in_features == small[index].out_features
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[name])


def test_structured_pruning_through_sigmoid_and_dropout():
    manual_seed(1)
    model = Sequential(Linear(4, 6), Sigmoid(), Dropout(0.5), Linear(6, 2)).eval()
    x = Tensor(np.random.default_rng(5).normal(size=(3, 4)).astype(np.float32))
    removed = removed_by_norm(model[0].weight.data, 0.5)
    np.testing.assert_allclose(prune_structured(model, 0, 0.5).eval()(x).data, cut_outgoing(model, 0, 3, removed)(x).data,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_structured_pruning_of_a_cnn_with_batchnorm_and_flatten(training):
    model = cnn()
    rng = np.random.default_rng(6)
    for norm in model.layers[1::4]:  # non-trivial running statistics
        norm.running_mean.data[:] = rng.normal(size=norm.num_features)
        norm.running_var.data[:] = rng.uniform(0.5, 2, size=norm.num_features)
    model.train(training)
    x = Tensor(rng.normal(size=(3, 2, 6, 6)).astype(np.float32))
    first = prune_structured(model, 0, 0.5)
    removed = removed_by_norm(model[0].weight.data, 0.5)
    np.testing.assert_allclose(first.train(training)(x).data, cut_outgoing(model, 0, 4, removed)(x).data, rtol=1e-4, atol=1e-5)
    assert first[1].running_mean.shape == (3,) and first[1].num_features == 3 and first[4].in_channels == 3
    second = prune_structured(model, 4, 0.4)
    removed = removed_by_norm(model[4].weight.data, 0.4)
    np.testing.assert_allclose(second.train(training)(x).data, cut_outgoing(model, 4, 8, removed, per_channel=9)(x).data,
                               rtol=1e-4, atol=1e-5)
    assert second[8].in_features == 3 * 9 and "running_mean" in dict(second[5].named_buffers())
    assert sum(p.size for p in second.parameters()) < sum(p.size for p in model.parameters())


def test_structured_pruning_errors_name_the_problem():
    model = mlp()
    assert "Sequential" in message(TypeError, lambda: prune_structured(model[0], 0, 0.5))
    assert "ReLU" in message(TypeError, lambda: prune_structured(model, 1, 0.5))
    assert "0..4" in message(ValueError, lambda: prune_structured(model, 5, 0.5))
    assert "'l3'" in message(ValueError, lambda: prune_structured(model, 0, 0.5, norm="l3"))
    assert "no Linear or Conv2d after it" in message(ValueError, lambda: prune_structured(model, 4, 0.5))
    assert "amount" in message(ValueError, lambda: prune_structured(model, 0, 1.2))
    assert "at least one" in message(ValueError, lambda: prune_structured(model, 0, 0.95))
    manual_seed(0)
    blocked = Sequential(Linear(3, 4), Softmax(), Linear(4, 2))
    assert "Softmax" in message(TypeError, lambda: prune_structured(blocked, 0, 0.5))


def test_structured_pruning_keeps_float64_and_does_not_touch_the_default_generator():
    model = mlp()
    for param in model.parameters():
        param.data = param.data.astype(np.float64)
    manual_seed(9)
    small = prune_structured(model, 0, 0.25)
    after = Linear(2, 2).weight.data
    manual_seed(9)
    assert np.array_equal(after, Linear(2, 2).weight.data)
    assert all(param.dtype == np.float64 for param in small.parameters())


# Low rank -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(12, 7), (5, 9)])
def test_low_rank_error_equals_the_dropped_singular_values(shape):
    manual_seed(2)
    layer = Linear(*shape)
    layer.weight.data = layer.weight.data.astype(np.float64)
    layer.bias.data = layer.bias.data.astype(np.float64)
    singular = np.linalg.svd(layer.weight.data, compute_uv=False)
    for rank in range(1, min(shape) + 1):
        factors = low_rank_linear(layer, rank)
        product = factors[0].weight.data @ factors[1].weight.data
        assert np.linalg.matrix_rank(product) == rank
        assert np.linalg.norm(layer.weight.data - product) == pytest.approx(np.sqrt((singular[rank:] ** 2).sum()), abs=1e-10)
        if rank < min(shape):
            assert np.linalg.norm(layer.weight.data - product, 2) == pytest.approx(singular[rank])
        assert factors[0].bias is None and np.array_equal(factors[1].bias.data, layer.bias.data)
        assert factors[1].bias.data is not layer.bias.data
        assert sum(p.size for p in factors.parameters()) == rank * sum(shape) + shape[1]


def test_low_rank_outputs_dtype_and_errors():
    manual_seed(3)
    layer = Linear(6, 4, bias=False)
    x = Tensor(np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32))
    factors = low_rank_linear(layer, 4)
    np.testing.assert_allclose(factors(x).data, layer(x).data, rtol=1e-5, atol=1e-6)
    assert factors[1].bias is None and factors[0].weight.dtype == np.float32
    for bad in (0, 5, 2.0, True):
        assert "min(in, out) = 4" in message(ValueError, lambda bad=bad: low_rank_linear(layer, bad))
    assert "Linear" in message(TypeError, lambda: low_rank_linear(Sequential(layer), 1))


# Distillation -------------------------------------------------------------------------------------------

def reference_distillation(student, teacher, labels, temperature, alpha):
    def log_softmax(z):
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    log_p, log_q = log_softmax(teacher / temperature), log_softmax(student / temperature)
    kl = (np.exp(log_p) * (log_p - log_q)).sum(axis=1).mean()
    ce = -log_softmax(student)[np.arange(len(labels)), labels].mean()
    return alpha * temperature ** 2 * kl + (1 - alpha) * ce


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (2.0, 0.7), (4.0, 1.0), (0.5, 0.0), (3, 0.25)])
def test_distillation_value_and_gradients_in_float64(temperature, alpha):
    rng = np.random.default_rng(7)
    student, teacher = rng.normal(size=(5, 4)) * 2, rng.normal(size=(5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    value = distillation_loss(Tensor(student), Tensor(teacher), Tensor(labels), temperature, alpha)
    assert value.dtype == np.float64
    assert value.item() == pytest.approx(reference_distillation(student, teacher, labels, temperature, alpha), rel=1e-10)
    gradcheck(lambda s: distillation_loss(s, Tensor(teacher), Tensor(labels), temperature, alpha), [student])
    teacher_tensor = Tensor(teacher.copy(), requires_grad=True)
    student_tensor = Tensor(student.copy(), requires_grad=True)
    DistillationLoss(temperature, alpha)(student_tensor, teacher_tensor, Tensor(labels)).backward()
    assert teacher_tensor.grad is None, "the teacher gets no gradient"
    soft = np.exp(student / temperature) / np.exp(student / temperature).sum(axis=1, keepdims=True)
    hard = np.exp(student) / np.exp(student).sum(axis=1, keepdims=True)
    target = np.exp(teacher / temperature) / np.exp(teacher / temperature).sum(axis=1, keepdims=True)
    onehot = np.eye(4)[labels]
    expected = (alpha * temperature * (soft - target) + (1 - alpha) * (hard - onehot)) / 5
    np.testing.assert_allclose(student_tensor.grad, expected, rtol=1e-9, atol=1e-12)


def test_distillation_is_stable_for_large_logits_and_checks_its_inputs():
    student, teacher = Tensor([[1000.0, -1000.0]]), Tensor([[-1000.0, 1000.0]])
    assert np.isfinite(distillation_loss(student, teacher, Tensor([0]), 1.0, 0.5).item())
    ones = Tensor(np.ones((2, 3)))
    assert "(2, 3)" in message(ValueError, lambda: distillation_loss(ones, Tensor(np.ones((2, 4))), Tensor([0, 1])))
    assert "(N, C)" in message(ValueError, lambda: distillation_loss(Tensor(np.ones(3)), Tensor(np.ones(3)), Tensor([0])))
    for bad in (0, -1.0, "2"):
        text = message(ValueError, lambda bad=bad: distillation_loss(ones, ones, Tensor([0, 1]), temperature=bad))
        assert "temperature" in text and repr(bad) in text
    for bad in (-0.1, 1.1):
        assert "alpha" in message(ValueError, lambda bad=bad: distillation_loss(ones, ones, Tensor([0, 1]), alpha=bad))


def test_distillation_matches_pytorch():
    torch = require_torch()
    rng = np.random.default_rng(8)
    student, teacher = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    labels = rng.integers(0, 5, size=6)
    temperature, alpha = 3.0, 0.6
    ours = Tensor(student.copy(), requires_grad=True)
    distillation_loss(ours, Tensor(teacher), Tensor(labels), temperature, alpha).backward()
    theirs = torch.tensor(student, requires_grad=True)
    soft = torch.nn.functional.kl_div(torch.log_softmax(theirs / temperature, dim=1),
                                      torch.softmax(torch.tensor(teacher) / temperature, dim=1), reduction="batchmean")
    loss = alpha * temperature ** 2 * soft + (1 - alpha) * torch.nn.functional.cross_entropy(theirs, torch.tensor(labels))
    loss.backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)

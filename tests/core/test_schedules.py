"""Package tests for tinytorch.core.schedules (generated from source/07_training)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.core.optimizers import SGD
from tinytorch.core.schedules import CosineWarmupScheduler, clip_grad_norm
from tinytorch.core.tensor import Tensor


def reference_lr(step, base, warmup, total, minimum):
    if step < warmup:
        return base * step / warmup
    if step >= total:
        return minimum
    return minimum + 0.5 * (base - minimum) * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def make_optimizer_holder(lr):
    return SGD([Tensor(np.zeros(1, dtype=np.float32), requires_grad=True)], lr=lr)


# ---------------------------------------------------------------- learning-rate schedule

@settings(max_examples=40, deadline=None)
@given(warmup=st.integers(0, 10), extra=st.integers(1, 20), base=st.floats(0.001, 1.0), ratio=st.floats(0.0, 1.0))
def test_scheduler_matches_the_formula(warmup, extra, base, ratio):
    total, minimum = warmup + extra, base * ratio
    optimizer = make_optimizer_holder(base)
    scheduler = CosineWarmupScheduler(optimizer, warmup, total, min_lr=minimum)
    group = optimizer.param_groups[0]
    assert group["lr"] == pytest.approx(reference_lr(0, base, warmup, total, minimum))
    for step in range(1, total + 3):
        scheduler.step()
        expected = reference_lr(step, base, warmup, total, minimum)
        assert group["lr"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert scheduler.lr == group["lr"] and scheduler.get_last_lr() == [group["lr"]]
    assert scheduler.step_count == total + 2


def test_scheduler_peak_and_end():
    optimizer = make_optimizer_holder(0.4)
    scheduler = CosineWarmupScheduler(optimizer, 5, 25, min_lr=0.04)
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(30):
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates[0] == 0.0 and rates[5] == pytest.approx(0.4) and max(rates) == pytest.approx(0.4)
    assert rates[15] == pytest.approx(0.22) and rates[25:] == [pytest.approx(0.04)] * 6


def test_scheduler_state_dict_round_trip():
    optimizer = make_optimizer_holder(0.1)
    scheduler = CosineWarmupScheduler(optimizer, 2, 10)
    for _ in range(6):
        scheduler.step()
    other_optimizer = make_optimizer_holder(0.1)
    other = CosineWarmupScheduler(other_optimizer, 2, 10)
    other.load_state_dict(scheduler.state_dict())
    assert other.step_count == 6 and other_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]


def test_scheduler_sets_every_param_group_from_its_own_base_rate():
    params = [Tensor(np.zeros(1, dtype=np.float32)) for _ in range(3)]
    optimizer = SGD([{"params": params[:1], "lr": 0.4}, {"params": params[1:2]}, {"params": params[2:], "lr": 0.01}],
                    lr=0.1)
    scheduler = CosineWarmupScheduler(optimizer, 2, 8, min_lr=0.005)
    assert scheduler.base_lrs == [0.4, 0.1, 0.01]
    for step in range(12):
        rates = [group["lr"] for group in optimizer.param_groups]
        expected = [reference_lr(step, base, 2, 8, 0.005) for base in (0.4, 0.1, 0.01)]
        assert rates == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert scheduler.get_last_lr() == rates and [scheduler.lr_at(step, g) for g in range(3)] == rates
        scheduler.step()
    with pytest.raises(ValueError, match=r"min_lr \(0.05\).*smallest lr.*0.01"):
        CosineWarmupScheduler(SGD([{"params": params[:1], "lr": 0.01}, {"params": params[1:]}], lr=0.1), 2, 8,
                              min_lr=0.05)


def test_scheduler_needs_param_groups():
    class OnlyAnLr:
        lr = 0.1

    with pytest.raises(TypeError, match="param_groups.*OnlyAnLr"):
        CosineWarmupScheduler(OnlyAnLr(), 1, 5)


@pytest.mark.parametrize("kwargs, words", [
    ({"warmup_steps": 10, "total_steps": 5}, ["total_steps (5)", "warmup_steps (10)"]),
    ({"warmup_steps": 5, "total_steps": 5}, ["total_steps (5)", "warmup_steps (5)"]),
    ({"warmup_steps": -1, "total_steps": 5}, ["warmup_steps", "-1"]),
    ({"warmup_steps": 1.5, "total_steps": 5}, ["warmup_steps", "1.5"]),
    ({"warmup_steps": 1, "total_steps": 5, "min_lr": 0.2}, ["min_lr (0.2)", "0.1"]),
    ({"warmup_steps": 0, "total_steps": 0}, ["total_steps (0)", "warmup_steps (0)"]),
    ({"warmup_steps": 1, "total_steps": 5.0}, ["total_steps", "5.0"]),
    ({"warmup_steps": True, "total_steps": 5}, ["warmup_steps", "True"]),
    ({"warmup_steps": 1, "total_steps": 5, "min_lr": -0.1}, ["min_lr (-0.1)"]),
])
def test_scheduler_errors_name_the_argument(kwargs, words):
    with pytest.raises(ValueError) as error:
        CosineWarmupScheduler(make_optimizer_holder(0.1), **kwargs)
    assert all(word in str(error.value) for word in words), str(error.value)


# ---------------------------------------------------------------- clipping

def parameters_with_grads(rng, shapes, scale):
    params = []
    for shape in shapes:
        param = Tensor(np.zeros(shape, dtype=np.float32), requires_grad=True)
        param.grad = (rng.normal(size=shape) * scale).astype(np.float32)
        params.append(param)
    return params


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 1000), scale=st.floats(0.01, 100.0), max_norm=st.floats(0.1, 10.0))
def test_clip_grad_norm_is_global_and_returns_the_norm_before(seed, scale, max_norm):
    rng = np.random.default_rng(seed)
    params = parameters_with_grads(rng, [(3, 2), (2,), (1, 1, 4)], scale)
    before = [p.grad.copy() for p in params]
    arrays = [p.grad for p in params]
    expected = float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in before)))
    norm = clip_grad_norm((p for p in params), max_norm)
    assert isinstance(norm, float) and norm == pytest.approx(expected, rel=1e-6)
    factor = min(1.0, max_norm / expected)
    for param, old, array in zip(params, before, arrays, strict=True):
        assert param.grad is array  # in place
        np.testing.assert_allclose(param.grad, old * factor, rtol=1e-5, atol=1e-7)
    after = float(np.sqrt(sum((p.grad.astype(np.float64) ** 2).sum() for p in params)))
    assert after == pytest.approx(min(expected, max_norm), rel=1e-5)


def test_clip_grad_norm_skips_missing_grads_and_checks_max_norm():
    with_grad = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    with_grad.grad = np.array([6.0, 8.0], dtype=np.float32)
    without = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    assert clip_grad_norm([with_grad, without], 5.0) == pytest.approx(10.0)
    np.testing.assert_allclose(with_grad.grad, [3.0, 4.0])
    assert without.grad is None
    assert clip_grad_norm([without], 1.0) == 0.0
    for bad in (0, -1.0, None, True):
        with pytest.raises(ValueError, match="max_norm"):
            clip_grad_norm([with_grad], bad)


def test_clip_grad_norm_sums_squares_in_float64():
    weight = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    weight.grad = np.array([3e19, 4e19], dtype=np.float32)  # the squares overflow float32
    assert clip_grad_norm([weight], 1e20) == pytest.approx(5e19, rel=1e-6)
    np.testing.assert_array_equal(weight.grad, np.array([3e19, 4e19], dtype=np.float32))
    clip_grad_norm([weight], 1.0)
    np.testing.assert_allclose(weight.grad, [0.6, 0.8], rtol=1e-6)

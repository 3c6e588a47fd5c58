"""Package tests for tinytorch.core.training (generated from source/07_training)."""

import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch  # noqa: F401  (turns autograd on)
from tinytorch.core.activations import ReLU, Tanh
from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Dropout, Linear, Sequential, manual_seed
from tinytorch.core.losses import CrossEntropyLoss, MSELoss
from tinytorch.core.optimizers import SGD, Adam
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import (
    Batches,
    CosineWarmupScheduler,
    Trainer,
    _pack,
    _unpack,
    accuracy,
    clip_grad_norm,
    load_checkpoint,
    plot_history,
    save_checkpoint,
)


def reference_lr(step, base, warmup, total, minimum):
    if step < warmup:
        return base * step / warmup
    if step >= total:
        return minimum
    return minimum + 0.5 * (base - minimum) * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def small_classifier(seed=0, inputs=4, classes=3):
    manual_seed(seed)
    return Sequential(Linear(inputs, 8), Tanh(), Linear(8, classes))


def make_optimizer_holder(lr):
    return SGD([Tensor(np.zeros(1, dtype=np.float32), requires_grad=True)], lr=lr)


# ---------------------------------------------------------------- batches

@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), seed=st.integers(0, 1000))
def test_batches_cover_every_sample_once_with_pairs_kept(n, batch_size, seed):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    data = Batches(X, y, batch_size, rng=seed)
    assert len(data) == math.ceil(n / batch_size)
    for _ in range(2):  # re-iterable: every epoch is complete
        pairs = list(data)
        assert len(pairs) == len(data)
        assert all(inputs.shape[0] == batch_size for inputs, _ in pairs[:-1])
        seen_y = np.concatenate([targets.data for _, targets in pairs])
        seen_X = np.concatenate([inputs.data for inputs, _ in pairs])
        assert sorted(seen_y.tolist()) == list(range(n))
        np.testing.assert_array_equal(seen_X, X[seen_y])


def test_batches_shuffle_is_seeded_and_new_each_epoch():
    X, y = np.zeros((50, 1), dtype=np.float32), np.arange(50)
    first = [np.concatenate([t.data for _, t in Batches(X, y, 8, rng=3)]) for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])  # same seed, same first epoch
    data = Batches(X, y, 8, rng=3)
    epoch_1 = np.concatenate([t.data for _, t in data])
    epoch_2 = np.concatenate([t.data for _, t in data])
    assert not np.array_equal(epoch_1, epoch_2)
    in_order = np.concatenate([t.data for _, t in Batches(X, y, 8, shuffle=False)])
    np.testing.assert_array_equal(in_order, y)


def test_batches_state_dict_restores_the_shuffle_position():
    X, y = np.zeros((20, 1), dtype=np.float32), np.arange(20)
    data = Batches(X, y, 5, rng=0)
    list(data)
    state = json.loads(json.dumps(data.state_dict()))  # plain JSON numbers
    expected = [t.data.copy() for _, t in data]
    other = Batches(X, y, 5, rng=123)
    other.load_state_dict(state)
    for ours, theirs in zip([t.data for _, t in other], expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_batches_dtypes_and_tensor_inputs():
    X = Tensor(np.ones((6, 2), dtype=np.float32))
    inputs, targets = next(iter(Batches(X, np.array([0, 1, 2, 0, 1, 2]), 4, shuffle=False)))
    assert inputs.dtype == np.float32 and targets.dtype.kind == "i"
    _, float_targets = next(iter(Batches(X, np.ones((6, 1)), 4)))
    assert float_targets.dtype.kind == "f"


@pytest.mark.parametrize("args, words", [
    ((np.zeros((5, 2)), np.zeros(4), 2), ["(5, 2)", "(4,)"]),
    ((np.zeros((5, 2)), np.zeros(5), 0), ["batch_size", "0"]),
    ((np.zeros((5, 2)), np.zeros(5), 2.5), ["batch_size", "2.5"]),
])
def test_batches_errors_name_the_problem(args, words):
    with pytest.raises(ValueError) as error:
        Batches(*args)
    assert all(word in str(error.value) for word in words), str(error.value)


# ---------------------------------------------------------------- accuracy

@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 30), classes=st.integers(2, 6), seed=st.integers(0, 1000))
def test_accuracy_matches_numpy(n, classes, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, classes)).astype(np.float32)
    targets = rng.integers(0, classes, size=n)
    expected = float(np.mean(np.argmax(logits, axis=1) == targets))
    assert accuracy(Tensor(logits), Tensor(targets)) == pytest.approx(expected)
    assert isinstance(accuracy(logits, targets), float)


def test_accuracy_single_column_uses_the_threshold():
    scores = np.array([[2.0], [-1.0], [0.3], [0.7]])
    assert accuracy(scores, [1, 0, 0, 1]) == 0.75  # logits: positive means class 1
    assert accuracy(scores, [1, 0, 0, 1], threshold=0.5) == 1.0  # probabilities
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(3,\)"):
        accuracy(scores, [1, 0, 0])


# ---------------------------------------------------------------- scheduler

@settings(max_examples=40, deadline=None)
@given(warmup=st.integers(0, 10), extra=st.integers(1, 20), base=st.floats(0.001, 1.0), ratio=st.floats(0.0, 1.0))
def test_scheduler_matches_the_formula(warmup, extra, base, ratio):
    total, minimum = warmup + extra, base * ratio
    optimizer = make_optimizer_holder(base)
    scheduler = CosineWarmupScheduler(optimizer, warmup, total, min_lr=minimum)
    assert optimizer.lr == pytest.approx(reference_lr(0, base, warmup, total, minimum))
    for step in range(1, total + 3):
        scheduler.step()
        expected = reference_lr(step, base, warmup, total, minimum)
        assert optimizer.lr == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert scheduler.lr == optimizer.lr
    assert scheduler.step_count == total + 2


def test_scheduler_peak_and_end():
    optimizer = make_optimizer_holder(0.4)
    scheduler = CosineWarmupScheduler(optimizer, 5, 25, min_lr=0.04)
    rates = [optimizer.lr]
    for _ in range(30):
        scheduler.step()
        rates.append(optimizer.lr)
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
    assert other.step_count == 6 and other_optimizer.lr == optimizer.lr


@pytest.mark.parametrize("kwargs, words", [
    ({"warmup_steps": 10, "total_steps": 5}, ["total_steps (5)", "warmup_steps (10)"]),
    ({"warmup_steps": 5, "total_steps": 5}, ["total_steps (5)", "warmup_steps (5)"]),
    ({"warmup_steps": -1, "total_steps": 5}, ["warmup_steps", "-1"]),
    ({"warmup_steps": 1.5, "total_steps": 5}, ["warmup_steps", "1.5"]),
    ({"warmup_steps": 1, "total_steps": 5, "min_lr": 0.2}, ["min_lr (0.2)", "0.1"]),
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


# ---------------------------------------------------------------- checkpoints

def test_pack_and_unpack_round_trip_nested_state_without_pickle():
    state = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3), 0: {"step": 3, "m": np.ones(2, dtype=np.float64)},
        "betas": (0.9, 0.999), "names": ["x", None, True], "scalar": np.float32(0.1), "int": np.int64(7),
    }
    arrays = {}
    packed = _pack(state, arrays)
    text = json.dumps(packed)
    restored = _unpack(json.loads(text), arrays)
    assert list(restored) == list(state)
    np.testing.assert_array_equal(restored["a"], state["a"])
    assert restored["a"].dtype == np.float32 and restored[0]["m"].dtype == np.float64
    assert restored[0]["step"] == 3 and restored["betas"] == (0.9, 0.999) and restored["names"] == ["x", None, True]
    assert type(restored["scalar"]) is np.float32 and restored["scalar"] == np.float32(0.1)
    assert type(restored["int"]) is np.int64


@pytest.mark.parametrize("bad", [{"x": object()}, {("tuple", "key"): 1}, {"x": np.array(["text"])}])
def test_pack_rejects_what_json_and_npz_cannot_hold(bad):
    with pytest.raises(TypeError, match="cannot store"):
        _pack(bad, {})


def test_checkpoint_restores_model_and_optimizer_exactly(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 4)).astype(np.float32), rng.integers(0, 3, size=16)
    model = small_classifier(0)
    optimizer = Adam(model.parameters(), lr=0.01)
    Trainer(model, optimizer, CrossEntropyLoss()).fit(Batches(X, y, 4, rng=0), epochs=2, progress=False)
    path = tmp_path / "model.ckpt"  # no .npz suffix: the exact path is used
    save_checkpoint(path, model, optimizer, epoch=2, note="hi", best=0.5)
    assert path.exists() and not os.path.exists(str(path) + ".tmp") and not os.path.exists(str(path) + ".npz")
    with np.load(path, allow_pickle=False) as file:
        assert "meta" in file.files
    other = small_classifier(1)
    other_optimizer = Adam(other.parameters(), lr=0.5)
    info = load_checkpoint(path, other, other_optimizer)
    assert info == {"epoch": 2, "note": "hi", "best": 0.5}
    for (name, ours), theirs in zip(other.named_parameters(), model.parameters(), strict=True):
        np.testing.assert_array_equal(ours.data, theirs.data, err_msg=name)
    assert other_optimizer.lr == 0.01
    saved, loaded = optimizer.state_dict(), other_optimizer.state_dict()
    assert saved["hyperparameters"] == loaded["hyperparameters"]
    assert saved["state"].keys() == loaded["state"].keys()
    for position in saved["state"]:
        for key, value in saved["state"][position].items():
            np.testing.assert_array_equal(loaded["state"][position][key], value)
    # inference only: the optimizer may be left out
    assert load_checkpoint(path, small_classifier(2))["epoch"] == 2


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    import tinytorch.core.training as training

    model = small_classifier(0)
    optimizer = SGD(model.parameters(), lr=0.1)
    path = tmp_path / "last.npz"
    save_checkpoint(path, model, optimizer, epoch=1)
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(training.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, optimizer, epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["last.npz"]
    assert load_checkpoint(path, model, optimizer)["epoch"] == 1


# ---------------------------------------------------------------- Trainer

def regression_data(seed=0, n=24):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    Y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)).astype(np.float32)
    return X, Y


def test_fit_equals_a_hand_written_loop():
    X, Y = regression_data()

    def make():
        manual_seed(3)
        model = Sequential(Linear(3, 6), ReLU(), Linear(6, 1))
        return model, SGD(model.parameters(), lr=0.05, momentum=0.9)

    reference, reference_optimizer = make()
    epoch_losses = []
    for _ in range(3):
        losses = []
        for start in range(0, 24, 6):
            reference_optimizer.zero_grad()
            loss = MSELoss()(reference(Tensor(X[start:start + 6])), Tensor(Y[start:start + 6]))
            loss.backward()
            reference_optimizer.step()
            losses.append(loss.item())
        epoch_losses.append(np.mean(losses))
    model, optimizer = make()
    history = Trainer(model, optimizer, MSELoss()).fit(Batches(X, Y, 6, shuffle=False), epochs=3, progress=False)
    np.testing.assert_allclose(history["loss"], epoch_losses, rtol=1e-6)
    for ours, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_array_equal(ours.data, theirs.data)


def test_history_keys_metrics_forms_and_counters():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 4)).astype(np.float32), rng.integers(0, 3, size=30)
    model = small_classifier()
    for metrics in ({"acc": accuracy}, [accuracy], accuracy):
        trainer = Trainer(model, Adam(model.parameters(), lr=0.01), CrossEntropyLoss(), metrics=metrics)
        history = trainer.fit(Batches(X, y, 8, rng=0), epochs=2, val_data=Batches(X, y, 30), progress=False)
        name = "acc" if isinstance(metrics, dict) else "accuracy"
        assert sorted(history) == sorted(["loss", name, "val_loss", f"val_{name}"])
        assert all(len(values) == 2 for values in history.values())
        assert (trainer.epoch, trainer.step) == (2, 8)
    with pytest.raises(ValueError, match="clip_norm"):
        Trainer(model, Adam(model.parameters()), CrossEntropyLoss(), clip_norm=0)


def test_epoch_loss_is_weighted_by_batch_size():
    X, Y = regression_data(n=10)
    manual_seed(0)
    model = Sequential(Linear(3, 1))
    trainer = Trainer(model, SGD(model.parameters(), lr=0.0), MSELoss())  # lr 0: the model never changes
    history = trainer.fit(Batches(X, Y, 4, shuffle=False), epochs=1, progress=False)
    with no_grad():
        full = float(((model(Tensor(X)).data - Y) ** 2).mean())
    assert history["loss"][0] == pytest.approx(full, rel=1e-6)
    assert trainer.evaluate(Batches(X, Y, 3, shuffle=False))["loss"] == pytest.approx(full, rel=1e-6)


def test_evaluate_records_no_graph_and_changes_nothing():
    X, Y = regression_data()
    manual_seed(0)
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 1))
    seen = []

    def spying_loss(outputs, targets):
        seen.append(outputs.requires_grad)
        return MSELoss()(outputs, targets)

    before = [p.data.copy() for p in model.parameters()]
    Trainer(model, SGD(model.parameters(), lr=0.1), spying_loss).evaluate(Batches(X, Y, 5, shuffle=False))
    assert seen and not any(seen)
    assert all(p.grad is None for p in model.parameters())
    for param, old in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(param.data, old)


def test_clip_norm_and_scheduler_are_applied_in_train_step():
    X, Y = regression_data()
    manual_seed(0)
    model = Sequential(Linear(3, 1))
    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = CosineWarmupScheduler(optimizer, 2, 10)
    trainer = Trainer(model, optimizer, MSELoss(), scheduler=scheduler, clip_norm=1e-3)
    trainer.train_step(Tensor(X), Tensor(Y))
    assert scheduler.step_count == 1 and optimizer.lr == pytest.approx(0.05)
    norm = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in model.parameters()))
    assert norm == pytest.approx(1e-3, rel=1e-4)


def test_batch_of_identical_samples_gives_the_same_update_as_one():
    x = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    results = []
    for copies in (1, 4):
        model = small_classifier(4, inputs=3, classes=3)
        trainer = Trainer(model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss())
        trainer.train_step(Tensor(np.repeat(x, copies, axis=0)), Tensor(np.repeat([1], copies), dtype=np.int64))
        results.append([p.data.copy() for p in model.parameters()])
    for one, four in zip(*results, strict=True):
        np.testing.assert_allclose(four, one, rtol=1e-5, atol=1e-7)


def test_xor_is_solved():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    model = small_classifier(0, inputs=2, classes=2)
    optimizer = Adam(model.parameters(), lr=0.05)
    trainer = Trainer(model, optimizer, CrossEntropyLoss(), metrics={"accuracy": accuracy},
                      scheduler=CosineWarmupScheduler(optimizer, 10, 200), clip_norm=5.0)
    trainer.fit(Batches(X, y, 4, rng=0), epochs=200, progress=False)
    assert trainer.evaluate(Batches(X, y, 4))["accuracy"] == 1.0


def make_resumable_trainer(seed):
    model = small_classifier(seed)
    optimizer = Adam(model.parameters(), lr=0.02)
    scheduler = CosineWarmupScheduler(optimizer, 3, 30, min_lr=0.001)
    return Trainer(model, optimizer, CrossEntropyLoss(), metrics={"accuracy": accuracy}, scheduler=scheduler,
                   clip_norm=1.0)


@pytest.mark.parametrize("stop_after", [1, 2, 3])
def test_resuming_from_a_checkpoint_is_bit_for_bit(tmp_path, stop_after):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(30, 4)).astype(np.float32), rng.integers(0, 3, size=30)
    val = Batches(X[:10], y[:10], 10, shuffle=False)
    straight = make_resumable_trainer(0)
    straight.fit(Batches(X, y, 7, rng=1), epochs=4, val_data=val, progress=False)

    first = make_resumable_trainer(0)
    data = Batches(X, y, 7, rng=1)
    first.fit(data, epochs=stop_after, val_data=val, progress=False)
    path = tmp_path / "resume.npz"
    first.save(path, data=data.state_dict())
    resumed = make_resumable_trainer(5)
    fresh = Batches(X, y, 7, rng=77)
    fresh.load_state_dict(resumed.load(path)["data"])
    resumed.fit(fresh, epochs=4 - stop_after, val_data=val, progress=False)
    assert resumed.history == straight.history
    assert (resumed.epoch, resumed.step, resumed.scheduler.step_count) == (4, 20, 20)
    for ours, theirs in zip(resumed.model.parameters(), straight.model.parameters(), strict=True):
        assert ours.data.tobytes() == theirs.data.tobytes()


@pytest.mark.parametrize("own_rng", [False, True], ids=["default-generator", "own-generator"])
def test_resuming_with_dropout_draws_the_same_masks(tmp_path, own_rng):
    """Dropout masks come from a generator; the checkpoint must carry its state or the runs diverge."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(24, 4)).astype(np.float32), rng.integers(0, 3, size=24)

    def make_trainer():
        manual_seed(0)
        dropout = Dropout(0.5, rng=np.random.default_rng(9)) if own_rng else Dropout(0.5)
        model = Sequential(Linear(4, 8), Tanh(), Sequential(dropout), Linear(8, 3))
        return Trainer(model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss())

    straight = make_trainer()
    straight.fit(Batches(X, y, 8, shuffle=False), epochs=3, progress=False)
    first = make_trainer()
    first.fit(Batches(X, y, 8, shuffle=False), epochs=1, progress=False)
    first.save(tmp_path / "dropout.npz")
    resumed = make_trainer()
    np.random.default_rng(1).random(100)  # other draws in between must not matter
    manual_seed(123)
    resumed.load(tmp_path / "dropout.npz")
    resumed.fit(Batches(X, y, 8, shuffle=False), epochs=2, progress=False)
    assert resumed.history == straight.history
    for ours, theirs in zip(resumed.model.parameters(), straight.model.parameters(), strict=True):
        assert ours.data.tobytes() == theirs.data.tobytes()


def test_loading_into_a_model_with_another_dropout_layer_names_it(tmp_path):
    manual_seed(0)
    model = Sequential(Linear(4, 3))
    Trainer(model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss()).save(tmp_path / "plain.npz")
    manual_seed(0)
    with_dropout = Sequential(Linear(4, 3), Dropout(0.5, rng=1))
    trainer = Trainer(with_dropout, SGD(with_dropout.parameters(), lr=0.1), CrossEntropyLoss())
    with pytest.raises(ValueError, match="sub-module '1' \\(Dropout"):
        trainer.load(tmp_path / "plain.npz")


def test_progress_bar_is_shown_only_when_asked(capsys):
    X, Y = regression_data()
    manual_seed(0)
    model = Sequential(Linear(3, 1))
    trainer = Trainer(model, SGD(model.parameters(), lr=0.01), MSELoss())
    trainer.fit(Batches(X, Y, 8), epochs=3, progress=True)
    shown = capsys.readouterr().err
    assert "training" in shown and "3/3" in shown
    trainer.fit(Batches(X, Y, 8), epochs=3, progress=False)
    assert capsys.readouterr().err == ""


def test_plot_history_draws_every_curve():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = {"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.7, 0.4], "accuracy": [0.5, 0.8, 0.9]}
    ax = plot_history(history)
    labels = [line.get_label() for axes in ax.figure.axes for line in axes.get_lines()]
    assert sorted(labels) == ["accuracy", "loss", "val_loss"]
    plt.close(ax.figure)

"""Package tests for tinytorch.core.training (generated from source/07_training)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch  # noqa: F401  (turns autograd on)
from tinytorch.core.activations import ReLU, Tanh
from tinytorch.core.autograd import no_grad
from tinytorch.core.batching import Batches
from tinytorch.core.layers import Dropout, Linear, Sequential, manual_seed
from tinytorch.core.losses import CrossEntropyLoss, MSELoss
from tinytorch.core.optimizers import SGD, Adam
from tinytorch.core.schedules import CosineWarmupScheduler
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import Trainer, accuracy, plot_history


def small_classifier(seed=0, inputs=4, classes=3):
    manual_seed(seed)
    return Sequential(Linear(inputs, 8), Tanh(), Linear(8, classes))


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
    assert accuracy(scores, [1, 0, 1, 1]) == 1.0  # one column: no argmax (which would say 0 everywhere)
    assert accuracy(np.array([0.5, 0.7]), [0, 1], threshold=0.5) == 1.0  # at the threshold is not above it
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(3,\)"):
        accuracy(scores, [1, 0, 0])


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


def test_epoch_results_are_weighted_by_batch_size():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(10, 4)).astype(np.float32), rng.integers(0, 3, size=10)
    seen = []

    def recorded_loss(outputs, targets):
        loss = CrossEntropyLoss()(outputs, targets)
        seen.append([loss.item(), len(targets.data)])
        return loss

    def recorded_accuracy(outputs, targets):
        seen[-1].append(accuracy(outputs, targets))
        return seen[-1][-1]

    model = small_classifier(0)
    trainer = Trainer(model, SGD(model.parameters(), lr=0.5), recorded_loss, metrics={"acc": recorded_accuracy})
    history = trainer.fit(Batches(X, y, 4, rng=0), epochs=1, progress=False)
    losses, sizes, accuracies = np.array(seen).T
    assert sizes.tolist() == [4, 4, 2]
    assert history["loss"][0] == pytest.approx(float((losses * sizes).sum() / 10), rel=1e-12)
    assert history["acc"][0] == pytest.approx(float((accuracies * sizes).sum() / 10), rel=1e-12)
    with no_grad():
        outputs = model(Tensor(X))
        full = CrossEntropyLoss()(outputs, Tensor(y, dtype=y.dtype)).item()
    results = trainer.evaluate(Batches(X, y, 3, shuffle=False))
    assert results["loss"] == pytest.approx(full, rel=1e-6)
    assert results["acc"] == pytest.approx(accuracy(outputs, y), rel=1e-12)


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


def test_train_step_clips_before_the_step_and_schedules_after_it():
    X, Y = regression_data()
    manual_seed(0)
    model = Sequential(Linear(3, 1))
    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = CosineWarmupScheduler(optimizer, 2, 10)
    trainer = Trainer(model, optimizer, MSELoss(), scheduler=scheduler, clip_norm=1e-3)
    for update, rate in enumerate([0.0, 0.05, 0.1], start=1):
        before = [p.data.astype(np.float64) for p in model.parameters()]
        trainer.train_step(Tensor(X), Tensor(Y))
        assert scheduler.step_count == update and trainer.step == update
        norm = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in model.parameters()))
        assert norm == pytest.approx(1e-3, rel=1e-4)  # the gradients the step used were clipped
        for param, old in zip(model.parameters(), before, strict=True):
            # the update used the rate in force before scheduler.step() and the clipped gradient
            np.testing.assert_allclose(param.data - old, -rate * param.grad, rtol=1e-3, atol=1e-9)


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


def test_progress_bar_is_text_on_stdout_and_ends_finished(capsys):
    X, Y = regression_data()
    manual_seed(0)
    model = Sequential(Linear(3, 1))
    trainer = Trainer(model, SGD(model.parameters(), lr=0.01), MSELoss())
    trainer.fit(Batches(X, Y, 8), epochs=3, progress=True)
    shown = capsys.readouterr()
    assert shown.err == ""
    last = shown.out.replace("\r", "\n").strip().splitlines()[-1]  # what a saved notebook shows
    assert last.startswith("training") and "3/3" in last and "loss=" in last and shown.out.endswith("\n")
    trainer.fit(Batches(X, Y, 8), epochs=3, progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_bar_is_closed_when_training_fails(capsys):
    X, Y = regression_data()

    class FailingData:
        passes = 0

        def __iter__(self):
            FailingData.passes += 1
            if FailingData.passes == 2:
                raise RuntimeError("the data source failed")
            yield from Batches(X, Y, 8)

    model = Sequential(Linear(3, 1))
    trainer = Trainer(model, SGD(model.parameters(), lr=0.01), MSELoss())
    with pytest.raises(RuntimeError, match="data source") as raised:
        trainer.fit(FailingData(), epochs=3, progress=True)
    # `raised` keeps the traceback, and with it fit's frame and bar, alive: fit itself must have closed the bar
    shown = capsys.readouterr().out
    assert raised.traceback
    assert shown.endswith("\n") and "1/3" in shown.replace("\r", "\n").strip().splitlines()[-1]
    assert trainer.epoch == 1


def test_evaluate_uses_eval_mode_and_restores_the_mode():
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(12, 4)).astype(np.float32), rng.integers(0, 3, size=12)
    manual_seed(0)
    model = Sequential(Linear(4, 16), Tanh(), Dropout(0.5), Linear(16, 3))
    trainer = Trainer(model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss(), metrics=accuracy)
    results = [trainer.evaluate(Batches(X, y, 5, shuffle=False)) for _ in range(2)]
    assert results[0] == results[1]
    assert all(module.training for _, module in model.named_modules())
    model.eval()
    trainer.evaluate(Batches(X, y, 5, shuffle=False))
    assert not any(module.training for _, module in model.named_modules())
    trainer.fit(Batches(X, y, 6, rng=0), epochs=1, val_data=Batches(X, y, 12), progress=False)
    assert model.training  # fit trains in train mode; evaluate gives that mode back


def test_fit_trains_in_train_mode_after_model_eval():
    class ModeSpy(Sequential):
        def forward(self, x):
            modes.append(self.training)
            return super().forward(x)

    modes = []
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(8, 4)).astype(np.float32), rng.integers(0, 3, size=8)
    manual_seed(0)
    model = ModeSpy(Linear(4, 3))
    model.eval()
    Trainer(model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss()).fit(
        Batches(X, y, 4, rng=0), epochs=2, val_data=Batches(X, y, 8), progress=False)
    assert modes == [True, True, False] * 2


def test_plot_history_draws_every_curve():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = {"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.7, 0.4], "accuracy": [0.5, 0.8, 0.9]}
    ax = plot_history(history)
    labels = [line.get_label() for axes in ax.figure.axes for line in axes.get_lines()]
    assert sorted(labels) == ["accuracy", "loss", "val_loss"]
    plt.close(ax.figure)

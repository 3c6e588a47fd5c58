"""Package tests for tinytorch.core.checkpoints (generated from source/07_training)."""

import json
import os

import numpy as np
import pytest

import tinytorch  # noqa: F401  (turns autograd on)
import tinytorch.core.checkpoints as checkpoints
from tinytorch.core.activations import ReLU, Tanh
from tinytorch.core.batching import Batches
from tinytorch.core.checkpoints import load_checkpoint, save_checkpoint
from tinytorch.core.layers import Flatten, Linear, Sequential, manual_seed
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.optimizers import SGD, Adam
from tinytorch.core.spatial import BatchNorm2d, Conv2d, MaxPool2d
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import Trainer


def small_classifier(seed=0, inputs=4, classes=3):
    manual_seed(seed)
    return Sequential(Linear(inputs, 8), Tanh(), Linear(8, classes))


def save_extra(path, **extra):
    """Save a small model and its optimizer with `extra` values; return the model."""
    model = small_classifier(0)
    save_checkpoint(path, model, SGD(model.parameters(), lr=0.1), epoch=0, **extra)
    return model


def test_extra_values_round_trip_nested_state_without_pickle(tmp_path):
    state = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3), 0: {"step": 3, "m": np.ones(2, dtype=np.float64)},
        "betas": (0.9, 0.999), "names": ["x", None, True], "scalar": np.float32(0.1), "int": np.int64(7),
    }
    path = tmp_path / "state.npz"
    model = save_extra(path, state=state)
    with np.load(path, allow_pickle=False) as file:
        assert isinstance(json.loads(str(file["meta"])), dict)  # everything but the arrays is one JSON text
    restored = load_checkpoint(path, model)["state"]
    assert list(restored) == list(state)
    np.testing.assert_array_equal(restored["a"], state["a"])
    assert restored["a"].dtype == np.float32 and restored[0]["m"].dtype == np.float64
    assert restored[0]["step"] == 3 and restored["betas"] == (0.9, 0.999) and restored["names"] == ["x", None, True]
    assert type(restored["scalar"]) is np.float32 and restored["scalar"] == np.float32(0.1)
    assert type(restored["int"]) is np.int64


@pytest.mark.parametrize("bad", [object(), {("tuple", "key"): 1}, np.array(["text"])])
def test_save_rejects_what_json_and_npz_cannot_hold(tmp_path, bad):
    with pytest.raises(TypeError, match="cannot store"):
        save_extra(tmp_path / "bad.npz", x=bad)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


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
    assert other_optimizer.param_groups[0]["lr"] == 0.01
    saved, loaded = optimizer.state_dict(), other_optimizer.state_dict()
    assert saved["param_groups"] == loaded["param_groups"]
    assert saved["state"].keys() == loaded["state"].keys()
    for position in saved["state"]:
        for key, value in saved["state"][position].items():
            np.testing.assert_array_equal(loaded["state"][position][key], value)
    # inference only: the optimizer may be left out
    assert load_checkpoint(path, small_classifier(2))["epoch"] == 2


def snapshot(model, optimizer):
    weights = [param.data.tobytes() for param in model.parameters()]
    saved = optimizer.state_dict()
    buffers = {(position, key): np.asarray(value).tobytes()
               for position, state in saved["state"].items() for key, value in state.items()}
    return weights, saved["param_groups"], buffers


def trained(seed, model_layers=None):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(8, 4)).astype(np.float32), rng.integers(0, 3, size=8)
    model = model_layers() if model_layers else small_classifier(seed)
    optimizer = Adam(model.parameters(), lr=0.01)
    Trainer(model, optimizer, CrossEntropyLoss()).fit(Batches(X, y, 4, rng=0), epochs=1, progress=False)
    return model, optimizer


def test_a_checkpoint_that_does_not_fit_changes_nothing(tmp_path):
    model, optimizer = trained(0)
    # the model fits, the optimizer does not (SGD with momentum)
    other = small_classifier(1)
    sgd = SGD(other.parameters(), lr=0.1, momentum=0.9)
    save_checkpoint(tmp_path / "sgd.npz", other, sgd, epoch=1)
    before = snapshot(model, optimizer)
    with pytest.raises(ValueError, match="momentum"):
        load_checkpoint(tmp_path / "sgd.npz", model, optimizer)
    assert snapshot(model, optimizer) == before
    # the optimizer fits, the model does not (other names for parameters of the same shapes)
    renamed, renamed_optimizer = trained(2, lambda: Sequential(Linear(4, 8), Linear(8, 3)))
    save_checkpoint(tmp_path / "renamed.npz", renamed, renamed_optimizer, epoch=1)
    with pytest.raises(KeyError, match="missing keys"):
        load_checkpoint(tmp_path / "renamed.npz", model, optimizer)
    assert snapshot(model, optimizer) == before


def small_cnn(seed):
    manual_seed(seed)
    return Sequential(Conv2d(1, 3, 3, padding=1), BatchNorm2d(3), ReLU(), MaxPool2d(2), Flatten(), Linear(12, 3))


def test_batch_norm_statistics_survive_a_checkpoint(tmp_path):
    rng = np.random.default_rng(5)
    X, y = rng.normal(loc=1.5, scale=2.0, size=(12, 1, 4, 4)).astype(np.float32), rng.integers(0, 3, size=12)
    model = small_cnn(0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    Trainer(model, optimizer, CrossEntropyLoss()).fit(Batches(X, y, 4, rng=0), epochs=2, progress=False)
    norm = model[1]
    assert abs(norm.running_mean.data).min() > 0.1  # trained: far from the initial zeros
    save_checkpoint(tmp_path / "cnn.npz", model, optimizer, epoch=2)
    restored = small_cnn(1)
    held = restored[1].running_var.data
    load_checkpoint(tmp_path / "cnn.npz", restored, SGD(restored.parameters(), lr=0.1, momentum=0.9))
    assert restored[1].running_var.data is held  # loaded in place
    for name in ("running_mean", "running_var"):
        np.testing.assert_array_equal(getattr(restored[1], name).data, getattr(norm, name).data, err_msg=name)
    x = Tensor(X[:5])
    np.testing.assert_array_equal(restored.eval()(x).data, model.eval()(x).data)


def test_a_checkpoint_with_a_wrong_buffer_changes_nothing(tmp_path):
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(8, 1, 4, 4)).astype(np.float32), rng.integers(0, 3, size=8)
    model = small_cnn(0)
    optimizer = Adam(model.parameters(), lr=0.01)
    Trainer(model, optimizer, CrossEntropyLoss()).fit(Batches(X, y, 4, rng=0), epochs=1, progress=False)
    wrong = small_cnn(2)
    wrong[1].register_buffer("running_var", np.ones(4, dtype=np.float32))  # the last key, of the wrong shape
    save_checkpoint(tmp_path / "wrong.npz", wrong, Adam(wrong.parameters(), lr=0.01), epoch=1)
    before, statistics = snapshot(model, optimizer), model.state_dict()
    with pytest.raises(ValueError, match=r"1\.running_var.*\(4,\).*\(3,\)"):
        load_checkpoint(tmp_path / "wrong.npz", model, optimizer)
    assert snapshot(model, optimizer) == before
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, statistics[name], err_msg=name)


class Payload:
    """Unpickling it records that code ran."""

    ran = []

    def __reduce__(self):
        return Payload.ran.append, ("unpickled",)


def test_pickled_content_is_refused_without_running_it(tmp_path):
    model, optimizer = trained(0)
    save_checkpoint(tmp_path / "good.npz", model, optimizer, epoch=1)
    with np.load(tmp_path / "good.npz", allow_pickle=False) as file:
        arrays = {name: file[name] for name in file.files}
    arrays["a0"] = np.array([Payload()], dtype=object)
    np.savez(tmp_path / "bad.npz", **arrays)
    before = snapshot(model, optimizer)
    with pytest.raises(ValueError, match="allow_pickle"):
        load_checkpoint(tmp_path / "bad.npz", model, optimizer)
    assert Payload.ran == [] and snapshot(model, optimizer) == before
    with pytest.raises(ValueError, match="allow_pickle"):  # a pickle in place of the JSON text as well
        np.savez(tmp_path / "bad_meta.npz", meta=np.array([Payload()], dtype=object))
        load_checkpoint(tmp_path / "bad_meta.npz", model)
    assert Payload.ran == []


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model = small_classifier(0)
    optimizer = SGD(model.parameters(), lr=0.1)
    path = tmp_path / "last.npz"
    save_checkpoint(path, model, optimizer, epoch=1)
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, optimizer, epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["last.npz"]
    assert load_checkpoint(path, model, optimizer)["epoch"] == 1

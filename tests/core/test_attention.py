"""Package tests for tinytorch.core.attention (generated from source/12_attention).

The masked softmax's gradient against float64 central differences is in tests/catalogue.py; here the layers
are checked against PyTorch when it is installed (always under CI: tests/pytorch.py).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tests.pytorch import require_torch
from tinytorch.core.attention import (
    MultiHeadAttention,
    attention_weights,
    causal_mask,
    masked_softmax,
    scaled_dot_product_attention,
)
from tinytorch.core.tensor import Tensor


def torch_sdpa(q, k, v, mask):
    torch = require_torch()
    as_torch = [torch.tensor(a, dtype=torch.float64) for a in (q, k, v)]
    return torch.nn.functional.scaled_dot_product_attention(
        *as_torch, attn_mask=None if mask is None else torch.tensor(mask)).numpy()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), st.booleans(), st.integers(0, 2**31 - 1))
def test_attention_matches_pytorch(batch, queries, keys, width, causal, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(batch, length, width)) for length in (queries, keys, keys))
    mask = np.tril(np.ones((queries, keys), dtype=bool)) if causal and queries == keys else None
    out = scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask=mask)
    np.testing.assert_allclose(out.data, torch_sdpa(q, k, v, mask), rtol=1e-10, atol=1e-12)


def test_multi_head_attention_matches_pytorch_forward_and_backward():
    torch = require_torch()
    rng = np.random.default_rng(0)
    ours = MultiHeadAttention(12, 3, rng=1)
    for parameter in ours.parameters():
        parameter.data = parameter.data.astype(np.float64)
    theirs = torch.nn.MultiheadAttention(12, 3, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # PyTorch keeps (out, in) weights and the three input projections stacked
        theirs.in_proj_weight.copy_(torch.tensor(np.concatenate([ours.q_proj.weight.data.T, ours.k_proj.weight.data.T,
                                                                 ours.v_proj.weight.data.T])))
        theirs.in_proj_bias.copy_(torch.tensor(np.concatenate([ours.q_proj.bias.data, ours.k_proj.bias.data,
                                                               ours.v_proj.bias.data])))
        theirs.out_proj.weight.copy_(torch.tensor(ours.out_proj.weight.data.T))
        theirs.out_proj.bias.copy_(torch.tensor(ours.out_proj.bias.data))
    x = rng.normal(size=(2, 5, 12))
    upstream = rng.normal(size=(2, 5, 12))
    x_ours, x_theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = ours(x_ours, mask=causal_mask(5))
    expected, _ = theirs(x_theirs, x_theirs, x_theirs, attn_mask=~torch.tensor(causal_mask(5)), need_weights=False)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    (out * Tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.out_proj.weight.grad, theirs.out_proj.weight.grad.numpy().T, rtol=1e-9, atol=1e-12)
    stacked = np.concatenate([ours.q_proj.weight.grad.T, ours.k_proj.weight.grad.T, ours.v_proj.weight.grad.T])
    np.testing.assert_allclose(stacked, theirs.in_proj_weight.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_causal_outputs_ignore_the_future():
    layer = MultiHeadAttention(8, 2, rng=0)
    x = np.random.default_rng(1).normal(size=(3, 7, 8)).astype(np.float32)
    before = layer(Tensor(x), mask=causal_mask(7)).data
    x[:, 4:] += 10.0
    after = layer(Tensor(x), mask=causal_mask(7)).data
    np.testing.assert_array_equal(after[:, :4], before[:, :4])
    assert np.abs(after[:, 4:] - before[:, 4:]).min() > 0


def test_fully_masked_rows_give_zero_weights_and_zero_gradients():
    scores = Tensor(np.random.default_rng(2).normal(size=(2, 3)), requires_grad=True)
    weights = masked_softmax(scores, np.array([[True, False, True], [False, False, False]]))
    np.testing.assert_array_equal(weights.data[1], 0.0)
    np.testing.assert_allclose(weights.data[0].sum(), 1.0)
    assert weights.data[0, 1] == 0.0
    (weights * Tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    np.testing.assert_array_equal(scores.grad[1], 0.0)
    assert scores.grad[0, 1] == 0.0


def test_float32_stays_float32_and_huge_scores_stay_finite():
    weights = masked_softmax(Tensor(np.array([[3e4, -3e4, 3e4]], dtype=np.float32)))
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights.data, [[0.5, 0.0, 0.5]])
    q = Tensor(np.ones((2, 4, 8), dtype=np.float32))
    assert scaled_dot_product_attention(q, q, q, mask=causal_mask(4)).dtype == np.float32
    assert MultiHeadAttention(8, 4, rng=0)(q).dtype == np.float32


def test_weights_rows_sum_to_one_and_respect_the_mask():
    rng = np.random.default_rng(3)
    q, k = Tensor(rng.normal(size=(2, 4, 6, 3))), Tensor(rng.normal(size=(2, 4, 6, 3)))
    weights = attention_weights(q, k, causal_mask(6)).data
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    assert (weights[..., ~causal_mask(6)] == 0).all()


def test_heads_split_and_merge_without_mixing_positions():
    layer = MultiHeadAttention(6, 3, rng=0)
    x = Tensor(np.arange(2 * 4 * 6, dtype=float).reshape(2, 4, 6))
    heads = layer.split_heads(x)
    assert heads.shape == (2, 3, 4, 2)
    np.testing.assert_array_equal(heads.data[1, 2, 3], x.data[1, 3, 4:6])
    np.testing.assert_array_equal(layer.merge_heads(heads).data, x.data)


def test_seeds_and_namespaces():
    first, second = MultiHeadAttention(8, 2, rng=5), MultiHeadAttention(8, 2, rng=5)
    for (name, a), (_, b) in zip(first.named_parameters(), second.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    assert tinytorch.nn.MultiHeadAttention is MultiHeadAttention
    assert tinytorch.nn.functional.scaled_dot_product_attention is scaled_dot_product_attention
    assert tinytorch.nn.functional.causal_mask is causal_mask


@pytest.mark.parametrize("action, error, words", [
    (lambda: MultiHeadAttention(10, 4), ValueError, ["embed_dim=10", "num_heads=4"]),
    (lambda: MultiHeadAttention(0, 1), ValueError, ["embed_dim=0"]),
    (lambda: MultiHeadAttention(8, 2)(Tensor(np.ones((3, 6)))), ValueError, ["(3, 6)"]),
    (lambda: causal_mask(0), ValueError, ["n=0"]),
    (lambda: masked_softmax(Tensor(np.ones((2, 2))), np.ones((2, 2))), TypeError, ["float64"]),
    (lambda: masked_softmax(Tensor(np.ones((2, 2))), np.ones((3, 2), dtype=bool)), ValueError, ["(3, 2)", "(2, 2)"]),
    (lambda: attention_weights(Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))), ValueError, ["(2, 3)", "(2, 4)"]),
    (lambda: attention_weights(Tensor(np.ones(3)), Tensor(np.ones(3))), ValueError, ["(3,)"]),
])
def test_clear_errors(action, error, words):
    with pytest.raises(error) as raised:
        action()
    for word in words:
        assert word in str(raised.value)

"""Package tests for tinytorch.core.transformers (generated from source/13_transformers).

The layer_norm op's gradients against float64 central differences are in tests/catalogue.py; here the layers
are checked against PyTorch when it is installed (always under CI: tests/pytorch.py).
"""

import numpy as np
import pytest

import tinytorch
from tests.pytorch import require_torch
from tinytorch.core.attention import causal_mask
from tinytorch.core.layers import manual_seed
from tinytorch.core.losses import cross_entropy
from tinytorch.core.optimizers import Adam
from tinytorch.core.tensor import Tensor
from tinytorch.core.transformers import GPT, MLP, LayerNorm, TransformerBlock, layer_norm, sample_next_token


def as_float64(model):
    for parameter in model.parameters():
        parameter.data = parameter.data.astype(np.float64)
    return model


@pytest.mark.parametrize("shape, eps", [((5,), 1e-5), ((3, 7), 1e-5), ((2, 4, 6), 0.1)])
def test_layer_norm_matches_pytorch_forward_and_backward(shape, eps):
    torch = require_torch()
    rng = np.random.default_rng(0)
    x, weight, bias, upstream = rng.normal(size=shape) * 3, rng.normal(size=shape[-1]), rng.normal(size=shape[-1]), \
        rng.normal(size=shape)
    ours = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    out = layer_norm(*ours, eps=eps)
    expected = torch.nn.functional.layer_norm(theirs[0], (shape[-1],), theirs[1], theirs[2], eps=eps)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    (out * Tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_layer_norm_layer_defaults_and_dtype():
    norm = LayerNorm(4)
    assert norm.eps == 1e-5 and norm.weight.dtype == np.float32 and norm.bias.dtype == np.float32
    out = norm(Tensor(np.full((2, 4), 3.0, dtype=np.float32)))
    assert out.dtype == np.float32 and np.array_equal(out.data, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="positive integer"):
        LayerNorm(0)


def test_mlp_matches_pytorch_with_tanh_gelu():
    torch = require_torch()
    mlp = as_float64(MLP(6, rng=0))
    x = np.random.default_rng(1).normal(size=(2, 3, 6))
    hidden = torch.nn.functional.gelu(torch.tensor(x) @ torch.tensor(mlp.fc1.weight.data) + torch.tensor(mlp.fc1.bias.data),
                                      approximate="tanh")
    expected = hidden @ torch.tensor(mlp.fc2.weight.data) + torch.tensor(mlp.fc2.bias.data)
    np.testing.assert_allclose(mlp(Tensor(x)).data, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_block_is_pre_norm_with_residuals():
    block = as_float64(TransformerBlock(8, 2, rng=0))
    x = Tensor(np.random.default_rng(2).normal(size=(2, 5, 8)))
    middle = x.data + block.attention(block.ln1(x), mask=causal_mask(5)).data
    expected = middle + block.mlp(block.ln2(Tensor(middle))).data
    np.testing.assert_allclose(block(x, mask=causal_mask(5)).data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("vocab, context, width, heads, layers", [(10, 8, 4, 2, 1), (65, 32, 16, 4, 3), (3, 1, 8, 8, 0)])
def test_parameter_count_matches_the_hand_count(vocab, context, width, heads, layers):
    model = GPT(vocab, context, width, heads, layers, rng=0)
    hand = vocab * width + context * width + layers * (12 * width**2 + 13 * width) + 2 * width + width * vocab
    assert sum(p.size for p in model.parameters()) == hand


def test_gpt_is_causal_and_takes_one_or_many_sequences():
    model = GPT(20, 8, 8, 2, 2, rng=1)
    ids = np.random.default_rng(3).integers(0, 20, size=(2, 8))
    logits = model(ids).data
    changed = ids.copy()
    changed[:, 5:] = (changed[:, 5:] + 7) % 20
    np.testing.assert_allclose(model(changed).data[:, :5], logits[:, :5], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model(ids[1]).data, logits[1], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="context_length=8"):
        model(np.zeros((1, 9), dtype=np.int64))


def test_generate_is_repeatable_and_greedy_at_temperature_zero():
    model = GPT(15, 6, 8, 2, 1, dropout=0.2, rng=2)
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    first = model.generate(prompt, 8, temperature=0.8, top_k=5, rng=11)
    assert first.shape == (2, 11) and first.dtype.kind == "i"
    np.testing.assert_array_equal(first, model.generate(prompt, 8, temperature=0.8, top_k=5, rng=11))
    assert model.training
    greedy = model.generate(prompt, 3, temperature=0)
    np.testing.assert_array_equal(greedy, model.generate(prompt, 3, top_k=1, rng=0))
    manual_seed(4)
    a = model.generate(prompt[0], 4)
    manual_seed(4)
    np.testing.assert_array_equal(a, model.generate(prompt[0], 4))
    with pytest.raises(ValueError, match="top_k"):
        model.generate(prompt, 1, top_k=0)


def test_sample_next_token_is_greedy_at_zero_keeps_top_k_and_follows_the_generator():
    logits = np.array([[0.0, 3.0, 1.0, 2.0], [5.0, 0.0, 0.0, 4.0]], dtype=np.float32)
    assert sample_next_token(logits, 0).tolist() == [1, 0]
    drawn = np.stack([sample_next_token(logits, 1.0, 2, np.random.default_rng(seed)) for seed in range(200)])
    assert set(drawn[:, 0]) == {1, 3} and set(drawn[:, 1]) == {0, 3}
    # One uniform draw per row, mapped through the cumulative distribution of softmax(logits / T) in float64.
    draws = np.random.default_rng(7).random((2, 1))
    scaled = logits.astype(np.float64) / 0.5
    probs = np.exp(scaled - scaled.max(-1, keepdims=True))
    expected = (np.cumsum(probs / probs.sum(-1, keepdims=True), axis=-1) < draws).sum(-1)
    assert sample_next_token(logits, 0.5, None, np.random.default_rng(7)).tolist() == expected.tolist()


def test_a_tiny_gpt_learns_to_copy():
    rng = np.random.default_rng(0)
    model = GPT(6, 8, 32, 4, 1, rng=0)
    optimizer = Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        digits = rng.integers(0, 5, size=(32, 4))
        batch = np.concatenate([digits, np.full((32, 1), 5), digits[:, :3]], axis=1)
        loss = cross_entropy(model(batch[:, :-1])[:, 4:].reshape(-1, 6), Tensor(batch[:, 5:].reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.data) < 0.1


def test_namespaces():
    assert tinytorch.nn.GPT is GPT and tinytorch.nn.LayerNorm is LayerNorm
    assert tinytorch.nn.functional.layer_norm is layer_norm
    # Picking a token is a tool of generation, not an op: it stays in its module (tools/conventions.py).
    assert not hasattr(tinytorch.nn.functional, "sample_next_token") and not hasattr(tinytorch.nn, "sample_next_token")

"""Package tests for tinytorch.perf.memoization (generated from source/17_memoization).

Cached generation must give the tokens of GPT.generate; the cached logits must equal the uncached ones to float32
rounding (float64 models: to 1e-10); the cache must hold exactly what was appended, in its own dtype.
"""

import numpy as np
import pytest

import tinytorch  # noqa: F401  (turns autograd on)
from tinytorch.core.attention import MultiHeadAttention, causal_mask
from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import manual_seed
from tinytorch.core.tensor import Tensor
from tinytorch.core.transformers import GPT
from tinytorch.perf.memoization import KVCache, cached_attention, generate_cached, gpt_forward_cached


def small_gpt(layers=2, heads=2, context=24, vocab=32, width=16, rng=0, **kwargs):
    return GPT(vocab, context, width, heads, layers, rng=rng, **kwargs)


def test_update_appends_per_layer_and_returns_views_of_everything_so_far():
    cache = KVCache(num_layers=2, batch_size=2, num_heads=3, max_len=5, head_dim=4, dtype=np.float64)
    rng = np.random.default_rng(0)
    k1, v1, k2, v2 = (rng.normal(size=(2, 3, t, 4)) for t in (2, 2, 3, 3))
    cache.update(0, k1, v1)
    keys, values = cache.update(0, k2, v2)
    np.testing.assert_array_equal(keys, np.concatenate([k1, k2], axis=2))
    np.testing.assert_array_equal(values, np.concatenate([v1, v2], axis=2))
    assert np.shares_memory(keys, cache.keys) and np.shares_memory(values, cache.values)
    assert cache.lengths.tolist() == [5, 0] and cache.length == 0
    cache.update(1, Tensor(k1), Tensor(v1))
    assert cache.length == 2
    cache.reset()
    assert cache.lengths.tolist() == [0, 0]


def test_values_are_stored_in_the_cache_dtype():
    cache = KVCache(1, 1, 1, 3, 2)
    keys, _ = cache.update(0, np.full((1, 1, 1, 2), 1 / 3), np.zeros((1, 1, 1, 2)))
    assert keys.dtype == np.float32 and keys[0, 0, 0, 0] == np.float32(1 / 3)


@pytest.mark.parametrize("layers, batch, heads, max_len, head_dim, dtype", [(1, 1, 1, 1, 1, np.float32),
                                                                            (2, 3, 4, 7, 8, np.float32),
                                                                            (3, 2, 2, 5, 4, np.float64)])
def test_nbytes_is_the_arrays_bytes_and_the_formula(layers, batch, heads, max_len, head_dim, dtype):
    cache = KVCache(layers, batch, heads, max_len, head_dim, dtype=dtype)
    assert cache.nbytes == cache.keys.nbytes + cache.values.nbytes
    assert cache.nbytes == 2 * layers * batch * heads * max_len * head_dim * np.dtype(dtype).itemsize


@pytest.mark.parametrize("call, words", [
    (lambda c: c.update(0, np.ones((1, 2, 4, 3)), np.ones((1, 2, 4, 3))), ["overflow", "layer 0", "0", "max_len=3", "4"]),
    (lambda c: c.update(0, np.ones((1, 2, 1, 3)), np.ones((1, 2, 1, 2))), ["(1, 2, 1, 3)", "(1, 2, 1, 2)"]),
    (lambda c: c.update(0, np.ones((2, 2, 1, 3)), np.ones((2, 2, 1, 3))), ["(1, 2, t, 3)", "(2, 2, 1, 3)"]),
    (lambda c: c.update(0, np.ones((2, 1, 3)), np.ones((2, 1, 3))), ["(B, H, t, D)", "(2, 1, 3)"]),
    (lambda c: c.update(-1, np.ones((1, 2, 1, 3)), np.ones((1, 2, 1, 3))), ["layers 0..1", "layer=-1"]),
    (lambda c: KVCache(1, 1, 1, 0, 1), ["max_len=0"]),
    (lambda c: KVCache(1.5, 1, 1, 1, 1), ["num_layers=1.5"]),
])
def test_errors_name_the_values(call, words):
    cache = KVCache(2, 1, 2, 3, 3)
    with pytest.raises(ValueError) as error:
        call(cache)
    for word in words:
        assert word in str(error.value)


def test_cached_attention_equals_causal_attention_for_any_split():
    attention = MultiHeadAttention(12, 3, rng=1)
    x = Tensor(np.random.default_rng(2).normal(size=(2, 9, 12)))
    full = attention(x, mask=causal_mask(9)).data
    for pieces in ([9], [1] * 9, [4, 1, 3, 1], [2, 7]):
        cache = KVCache(1, 2, 3, 9, 4, dtype=np.float64)
        out, start = [], 0
        for size in pieces:
            out.append(cached_attention(attention, x[:, start:start + size], cache, 0).data)
            start += size
        np.testing.assert_allclose(np.concatenate(out, axis=1), full, rtol=1e-6, atol=1e-6)


def as_float64(model):
    for parameter in model.parameters():
        parameter.data = parameter.data.astype(np.float64)
    return model


@pytest.mark.parametrize("layers, heads", [(1, 1), (2, 4), (3, 2)])
def test_cached_forward_matches_the_model_step_by_step(layers, heads):
    model = small_gpt(layers, heads)
    ids = np.random.default_rng(layers).integers(0, 32, size=(3, 20))
    cache = KVCache.for_model(model, 3)
    steps = [gpt_forward_cached(model, ids[:, :5], cache).data]
    steps += [gpt_forward_cached(model, ids[:, t:t + 1], cache).data for t in range(5, 20)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), model(ids).data, atol=2e-5)
    as_float64(model)
    cache = KVCache.for_model(model, 3)
    assert cache.keys.dtype == np.float64
    steps = [gpt_forward_cached(model, ids[:, t:t + 1], cache).data for t in range(20)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), model(ids).data, rtol=1e-10, atol=1e-12)


def test_cached_forward_refuses_ids_past_the_context():
    model = small_gpt(context=6)
    cache = KVCache.for_model(model, 1)
    gpt_forward_cached(model, np.zeros((1, 5), dtype=np.int64), cache)
    with pytest.raises(ValueError, match="context_length=6"):
        gpt_forward_cached(model, np.zeros((1, 2), dtype=np.int64), cache)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        gpt_forward_cached(model, np.zeros(3, dtype=np.int64), KVCache.for_model(model, 1))


@pytest.mark.parametrize("temperature, top_k", [(0, None), (1.0, None), (0.8, 4), (2.0, 1), (1.3, 32)])
@pytest.mark.parametrize("seed", range(4))
def test_generate_cached_gives_the_tokens_of_generate(temperature, top_k, seed):
    model = small_gpt(layers=2, heads=4, context=16, rng=seed)
    model.head.weight.data *= 4.0
    prompt = np.random.default_rng(seed).integers(0, 32, size=(3, 4))
    # 4 + 20 ids with a context of 16: the last steps refill the cache from the cropped window.
    expected = model.generate(prompt, 20, temperature=temperature, top_k=top_k, rng=seed)
    got = generate_cached(model, prompt, 20, temperature=temperature, top_k=top_k, rng=seed)
    np.testing.assert_array_equal(got, expected)


def test_generate_cached_shapes_prompts_past_the_context_and_zero_tokens():
    model = small_gpt(context=8)
    single = np.arange(5)
    assert generate_cached(model, single, 3, rng=0).shape == (8,)
    np.testing.assert_array_equal(generate_cached(model, single, 3, rng=0), model.generate(single, 3, rng=0))
    long = np.arange(12) % 32
    np.testing.assert_array_equal(generate_cached(model, long, 4, rng=1), model.generate(long, 4, rng=1))
    np.testing.assert_array_equal(generate_cached(model, single, 0), single)


def test_a_reused_cache_gives_what_a_fresh_one_gives():
    model = small_gpt(layers=3)
    shared = KVCache.for_model(model, 2)
    generate_cached(model, np.array([[1, 2, 3], [4, 5, 6]]), 10, rng=0, cache=shared)
    prompt = np.array([[9, 8], [7, 6]])
    np.testing.assert_array_equal(generate_cached(model, prompt, 10, rng=1, cache=shared),
                                  generate_cached(model, prompt, 10, rng=1))


def test_generation_changes_neither_model_nor_prompt_and_follows_the_default_generator():
    model = small_gpt(dropout=0.3)
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    prompt = np.array([[1, 2], [3, 4]])
    generate_cached(model, prompt, 6, rng=0)
    assert model.training
    assert prompt.tolist() == [[1, 2], [3, 4]]
    for name, parameter in model.named_parameters():
        np.testing.assert_array_equal(parameter.data, before[name])
        assert parameter.grad is None
    model.eval()
    with no_grad():
        generate_cached(model, prompt, 2, rng=0)
    assert not model.training
    manual_seed(3)
    unseeded = generate_cached(model, prompt, 5)
    manual_seed(3)
    np.testing.assert_array_equal(unseeded, model.generate(prompt, 5))


@pytest.mark.parametrize("kwargs, words", [({"temperature": -0.5}, ["temperature=-0.5"]),
                                           ({"top_k": 0}, ["top_k=0", "vocab_size=32"]),
                                           ({"top_k": 33}, ["top_k=33"]),
                                           ({"max_new_tokens": -2}, ["max_new_tokens=-2"])])
def test_generate_cached_checks_its_arguments(kwargs, words):
    arguments = {"max_new_tokens": 3, **kwargs}
    with pytest.raises(ValueError) as error:
        generate_cached(small_gpt(), np.array([1, 2]), **arguments)
    for word in words:
        assert word in str(error.value)


def test_a_gpt_without_blocks_has_nothing_to_cache():
    with pytest.raises(ValueError, match="without transformer blocks"):
        KVCache.for_model(small_gpt(layers=0), 1)

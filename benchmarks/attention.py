"""Multi-head causal self-attention, forward and backward: TinyTorch against the same maths by hand in NumPy.

Batch 8, sequence 64, width 128, 4 heads, as in issue 10. Run through `python -m benchmarks.run`.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.attention import MultiHeadAttention, causal_mask
from tinytorch.core.tensor import Tensor

BATCH, LENGTH, WIDTH, HEADS = 8, 64, 128, 4


def numpy_attention_step(x, upstream, weights, mask):
    """Forward and backward of out_proj(attention(q_proj(x), k_proj(x), v_proj(x))); returns every gradient."""
    (wq, bq), (wk, bk), (wv, bv), (wo, bo) = weights
    batch, length, width = x.shape
    head_dim = width // HEADS

    def split(a):
        return a.reshape(batch, length, HEADS, head_dim).transpose(0, 2, 1, 3)

    def merge(a):
        return a.transpose(0, 2, 1, 3).reshape(batch, length, width)

    q, k, v = split(x @ wq + bq), split(x @ wk + bk), split(x @ wv + bv)
    scale = np.asarray(1.0 / np.sqrt(head_dim), dtype=x.dtype)
    scores = np.where(mask, q @ k.transpose(0, 1, 3, 2) * scale, -np.inf)
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p = exps / exps.sum(axis=-1, keepdims=True)
    merged = merge(p @ v)
    flat_merged, flat_up, flat_x = merged.reshape(-1, width), upstream.reshape(-1, width), x.reshape(-1, width)
    grad_wo, grad_bo = flat_merged.T @ flat_up, flat_up.sum(axis=0)
    grad_heads = split(upstream @ wo.T)
    grad_p = grad_heads @ v.transpose(0, 1, 3, 2)
    grad_v = p.transpose(0, 1, 3, 2) @ grad_heads
    grad_scores = p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True)) * scale
    grad_q, grad_k = grad_scores @ k, grad_scores.transpose(0, 1, 3, 2) @ q
    grads, grad_x = [], np.zeros_like(x)
    for grad, (w, _) in zip((grad_q, grad_k, grad_v), weights[:3], strict=True):
        flat = merge(grad).reshape(-1, width)
        grads.append((flat_x.T @ flat, flat.sum(axis=0)))
        grad_x += (flat @ w.T).reshape(x.shape)
    return grads + [(grad_wo, grad_bo)], grad_x


def bench_attention(process_time, optional_torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, LENGTH, WIDTH)).astype(np.float32)
    upstream = rng.standard_normal((BATCH, LENGTH, WIDTH)).astype(np.float32)
    mask = causal_mask(LENGTH)
    layer = MultiHeadAttention(WIDTH, HEADS, rng=0)
    projections = (layer.q_proj, layer.k_proj, layer.v_proj, layer.out_proj)
    weights = [(p.weight.data, p.bias.data) for p in projections]
    x_tensor, up_tensor = Tensor(x, requires_grad=True), Tensor(upstream)

    def tinytorch_step():
        layer.zero_grad()
        x_tensor.grad = None
        (layer(x_tensor, mask=mask) * up_tensor).sum().backward()

    tinytorch_step()
    reference, reference_x = numpy_attention_step(x, upstream, weights, mask)
    assert np.allclose(x_tensor.grad, reference_x, rtol=1e-3, atol=1e-4), "TinyTorch and NumPy disagree on dL/dx"
    for projection, (grad_w, grad_b) in zip(projections, reference, strict=True):
        assert np.allclose(projection.weight.grad, grad_w, rtol=1e-3, atol=1e-3), "TinyTorch and NumPy disagree"
        assert np.allclose(projection.bias.grad, grad_b, rtol=1e-3, atol=1e-3), "TinyTorch and NumPy disagree"
    numpy_ms = process_time(lambda: numpy_attention_step(x, upstream, weights, mask)) * 1e3
    tiny_ms = process_time(tinytorch_step) * 1e3
    torch = optional_torch()
    torch_ms = None
    if torch is not None:
        module = torch.nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
        xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(upstream)
        hidden = ~torch.tensor(mask)  # PyTorch's module masks where True

        def torch_step():
            module.zero_grad()
            xt.grad = None
            out, _ = module(xt, xt, xt, attn_mask=hidden, need_weights=False)
            (out * gt).sum().backward()

        torch_ms = process_time(torch_step) * 1e3
    return numpy_ms, tiny_ms, torch_ms

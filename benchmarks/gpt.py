"""One GPT training step (forward, cross-entropy, backward, SGD update): TinyTorch against the same maths in NumPy.

2 blocks, width 128, context 64, batch 16, 4 heads, as in issue 10; vocabulary 512, MLP width 4 x 128.
Run through `python -m benchmarks.run`.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.losses import cross_entropy
from tinytorch.core.optimizers import SGD
from tinytorch.core.tensor import Tensor
from tinytorch.core.transformers import GPT

BATCH, LENGTH, WIDTH, HEADS, LAYERS, VOCAB, LR, EPS = 16, 64, 128, 4, 2, 512, 0.01, 1e-5
GELU_C = math.sqrt(2 / math.pi)


def weights_of(model):
    """The model's parameters as a dict of NumPy copies, keyed by their dotted names."""
    return {name: param.data.copy() for name, param in model.named_parameters()}


def layer_norm_forward(x, gain, shift):
    centred = x - x.mean(axis=-1, keepdims=True)
    inv_std = 1 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + EPS)
    xhat = centred * inv_std
    return xhat * gain + shift, (xhat, inv_std, gain)


def layer_norm_backward(grad, cache):
    xhat, inv_std, gain = cache
    h = grad * gain
    grad_x = inv_std * (h - h.mean(axis=-1, keepdims=True) - xhat * (h * xhat).mean(axis=-1, keepdims=True))
    flat_grad, flat_xhat = grad.reshape(-1, grad.shape[-1]), xhat.reshape(-1, grad.shape[-1])
    return grad_x, (flat_grad * flat_xhat).sum(axis=0), flat_grad.sum(axis=0)


def linear_forward(x, w, b):
    out = (x.reshape(-1, w.shape[0]) @ w).reshape(*x.shape[:-1], w.shape[1])
    return out if b is None else out + b


def linear_backward(grad, x, w):
    """dL/dx, dL/dw and dL/db of x @ w + b, with the leading axes flattened into one GEMM."""
    flat_grad, flat_x = grad.reshape(-1, w.shape[1]), x.reshape(-1, w.shape[0])
    grad_x = (flat_grad @ w.T).reshape(x.shape)
    return grad_x, flat_x.T @ flat_grad, flat_grad.sum(axis=0)


def split(a):
    batch, length, width = a.shape
    return a.reshape(batch, length, HEADS, width // HEADS).transpose(0, 2, 1, 3)


def merge(a):
    batch, heads, length, head_dim = a.shape
    return a.transpose(0, 2, 1, 3).reshape(batch, length, heads * head_dim)


def attention_forward(x, w, prefix, mask):
    q, k, v = (split(linear_forward(x, w[f"{prefix}.{n}_proj.weight"], w[f"{prefix}.{n}_proj.bias"])) for n in "qkv")
    scale = np.asarray(1 / math.sqrt(q.shape[-1]), dtype=x.dtype)
    scores = np.where(mask, q @ k.transpose(0, 1, 3, 2) * scale, -np.inf)
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p = exps / exps.sum(axis=-1, keepdims=True)
    merged = merge(p @ v)
    out = linear_forward(merged, w[f"{prefix}.out_proj.weight"], w[f"{prefix}.out_proj.bias"])
    return out, (x, q, k, v, p, scale, merged)


def attention_backward(grad, w, prefix, cache, grads):
    x, q, k, v, p, scale, merged = cache
    grad_merged, grads[f"{prefix}.out_proj.weight"], grads[f"{prefix}.out_proj.bias"] = linear_backward(
        grad, merged, w[f"{prefix}.out_proj.weight"])
    grad_heads = split(grad_merged)
    grad_p = grad_heads @ v.transpose(0, 1, 3, 2)
    grad_v = p.transpose(0, 1, 3, 2) @ grad_heads
    grad_scores = p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True)) * scale
    grad_x = np.zeros_like(x)
    for name, grad_part in zip("qkv", (grad_scores @ k, grad_scores.transpose(0, 1, 3, 2) @ q, grad_v), strict=True):
        key = f"{prefix}.{name}_proj"
        grad_in, grads[f"{key}.weight"], grads[f"{key}.bias"] = linear_backward(merge(grad_part), x, w[f"{key}.weight"])
        grad_x += grad_in
    return grad_x


def numpy_gpt_step(w, ids, targets, mask, update=True):
    """Forward, mean cross-entropy, backward and SGD update of the whole GPT in NumPy; returns the gradients."""
    length = ids.shape[1]
    x = w["token_embedding.weight"][ids] + w["position_embedding.weight"][:length]
    caches = []
    for i in range(LAYERS):
        block = f"blocks.{i}"
        a, ln1 = layer_norm_forward(x, w[f"{block}.ln1.weight"], w[f"{block}.ln1.bias"])
        attended, attention = attention_forward(a, w, f"{block}.attention", mask)
        x = x + attended
        m, ln2 = layer_norm_forward(x, w[f"{block}.ln2.weight"], w[f"{block}.ln2.bias"])
        h = linear_forward(m, w[f"{block}.mlp.fc1.weight"], w[f"{block}.mlp.fc1.bias"])
        t = np.tanh(GELU_C * (h + 0.044715 * h * h * h))
        g = 0.5 * h * (1 + t)
        x = x + linear_forward(g, w[f"{block}.mlp.fc2.weight"], w[f"{block}.mlp.fc2.bias"])
        caches.append((ln1, attention, ln2, m, h, t, g))
    z, ln_f = layer_norm_forward(x, w["ln_f.weight"], w["ln_f.bias"])
    logits = linear_forward(z, w["head.weight"], None).reshape(-1, VOCAB)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    probs = exps / exps.sum(axis=1, keepdims=True)
    rows = np.arange(len(targets))
    loss = -np.log(probs[rows, targets]).mean()

    grads = {}
    probs[rows, targets] -= 1
    grad_logits = (probs / len(targets)).reshape(*ids.shape, VOCAB)
    grad_z, grads["head.weight"], _ = linear_backward(grad_logits, z, w["head.weight"])
    grad_x, grads["ln_f.weight"], grads["ln_f.bias"] = layer_norm_backward(grad_z, ln_f)
    for i in reversed(range(LAYERS)):
        block = f"blocks.{i}"
        ln1, attention, ln2, m, h, t, g = caches[i]
        grad_g, grads[f"{block}.mlp.fc2.weight"], grads[f"{block}.mlp.fc2.bias"] = linear_backward(
            grad_x, g, w[f"{block}.mlp.fc2.weight"])
        h2 = h * h
        grad_h = grad_g * (0.5 * (1 + t) + 0.5 * GELU_C * h * (1 - t * t) * (1 + 3 * 0.044715 * h2))
        grad_m, grads[f"{block}.mlp.fc1.weight"], grads[f"{block}.mlp.fc1.bias"] = linear_backward(
            grad_h, m, w[f"{block}.mlp.fc1.weight"])
        grad_in, grads[f"{block}.ln2.weight"], grads[f"{block}.ln2.bias"] = layer_norm_backward(grad_m, ln2)
        grad_x = grad_x + grad_in
        grad_a = attention_backward(grad_x, w, f"{block}.attention", attention, grads)
        grad_in, grads[f"{block}.ln1.weight"], grads[f"{block}.ln1.bias"] = layer_norm_backward(grad_a, ln1)
        grad_x = grad_x + grad_in
    grads["position_embedding.weight"] = np.zeros_like(w["position_embedding.weight"])
    grads["position_embedding.weight"][:length] = grad_x.sum(axis=0)
    grads["token_embedding.weight"] = np.zeros_like(w["token_embedding.weight"])
    np.add.at(grads["token_embedding.weight"], ids.reshape(-1), grad_x.reshape(-1, WIDTH))
    if update:
        for name, grad in grads.items():
            w[name] -= LR * grad
    return loss, grads


def bench_gpt(process_time, optional_torch):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, VOCAB, size=(BATCH, LENGTH + 1))
    ids, targets = tokens[:, :-1], tokens[:, 1:].reshape(-1)
    mask = np.tril(np.ones((LENGTH, LENGTH), dtype=bool))
    model = GPT(VOCAB, LENGTH, WIDTH, HEADS, LAYERS, rng=0)
    initial = weights_of(model)
    weights = {name: value.copy() for name, value in initial.items()}  # the NumPy step updates these in place
    optimizer = SGD(model.parameters(), lr=LR)
    target_tensor = Tensor(targets)

    def tinytorch_step():
        optimizer.zero_grad()
        loss = cross_entropy(model(ids).reshape(-1, VOCAB), target_tensor)
        loss.backward()
        optimizer.step()
        return loss

    loss = tinytorch_step()
    # The step moved the model's weights; `weights` still holds the ones its gradients were taken at.
    reference_loss, reference = numpy_gpt_step(weights, ids, targets, mask, update=False)
    assert np.isclose(loss.item(), reference_loss, rtol=1e-4), "TinyTorch and NumPy disagree on the loss"
    # Some gradients are ~0 (a key bias cannot change a softmax): measure the slack against the largest one.
    slack = 1e-5 * max(np.abs(grad).max() for grad in reference.values())
    for name, param in model.named_parameters():
        assert np.allclose(param.grad, reference[name], rtol=1e-4, atol=slack), f"TinyTorch and NumPy disagree on {name}"
    numpy_ms = process_time(lambda: numpy_gpt_step(weights, ids, targets, mask)) * 1e3
    tiny_ms = process_time(tinytorch_step) * 1e3
    torch = optional_torch()
    torch_ms = None
    if torch is not None:
        torch_step = torch_gpt_step(torch, initial, ids, targets)
        assert np.isclose(torch_step(), loss.item(), rtol=1e-4), "TinyTorch and PyTorch disagree on the loss"
        torch_ms = process_time(torch_step) * 1e3
    return numpy_ms, tiny_ms, torch_ms


def torch_gpt_step(torch, weights, ids, targets):
    """The same step in PyTorch, built from torch.nn.functional on copies of the same weights."""
    functional = torch.nn.functional
    w = {name: torch.tensor(value.copy(), requires_grad=True) for name, value in weights.items()}
    ids_t, targets_t = torch.tensor(ids), torch.tensor(targets)
    mask = torch.ones(LENGTH, LENGTH, dtype=torch.bool).tril()

    def linear(x, prefix, bias=True):
        out = x @ w[f"{prefix}.weight"]
        return out + w[f"{prefix}.bias"] if bias else out

    def norm(x, prefix):
        return functional.layer_norm(x, (WIDTH,), w[f"{prefix}.weight"], w[f"{prefix}.bias"], EPS)

    def heads(x):
        return x.view(BATCH, LENGTH, HEADS, WIDTH // HEADS).transpose(1, 2)

    def step():
        for param in w.values():
            param.grad = None
        x = w["token_embedding.weight"][ids_t] + w["position_embedding.weight"][:LENGTH]
        for i in range(LAYERS):
            block = f"blocks.{i}"
            a = norm(x, f"{block}.ln1")
            q, k, v = (heads(linear(a, f"{block}.attention.{n}_proj")) for n in "qkv")
            attended = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            x = x + linear(attended.transpose(1, 2).reshape(BATCH, LENGTH, WIDTH), f"{block}.attention.out_proj")
            hidden = functional.gelu(linear(norm(x, f"{block}.ln2"), f"{block}.mlp.fc1"), approximate="tanh")
            x = x + linear(hidden, f"{block}.mlp.fc2")
        logits = linear(norm(x, "ln_f"), "head", bias=False)
        loss = functional.cross_entropy(logits.reshape(-1, VOCAB), targets_t)
        loss.backward()
        with torch.no_grad():
            for param in w.values():
                param -= LR * param.grad
        return loss.item()

    return step

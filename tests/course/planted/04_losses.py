"""Planted bugs for module 04: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # Visible tests use one example per batch, where a sum and a mean agree.
    bug("cross-entropy-sums-over-batch", "cross-entropy",
        "return Tensor(-picked.mean())", "return Tensor(-picked.sum())",
        "integration-mlp-losses", "integration-cross-entropy-softmax", "integration-extreme-logits",
        "integration-hand-computations"),
    # The textbook log-sum-exp: fine for moderate scores, inf/nan for logits of +-1e4.
    bug("log-softmax-without-max-shift", "log-softmax",
        "shifted = x.data - x.data.max(axis=dim, keepdims=True)", "shifted = x.data",
        "integration-extreme-logits"),
    # Comparing sizes instead of shapes lets (N, 1) against (N,) broadcast to (N, N).
    bug("mse-compares-sizes-not-shapes", "mse-loss",
        "if predictions.shape != targets.shape:", "if predictions.size != targets.size:",
        "integration-bad-targets-and-shapes"),
    # No clipping: log(0) turns probabilities of exactly 0 or 1 into inf or nan.
    bug("bce-without-clipping", "binary-cross-entropy",
        "p = np.clip(p, eps, 1 - eps)", "p = p",
        "integration-bce-extremes"),
    # Only the upper end of [0, 1] is checked: a negative "probability" slips through.
    bug("bce-checks-only-the-upper-end", "binary-cross-entropy",
        "if p.size and (p.min() < 0 or p.max() > 1):", "if p.size and p.max() > 1:",
        "integration-bad-targets-and-shapes"),
    # The textbook log(1 + exp(-z)) overflows for large negative logits.
    bug("bce-with-logits-naive-softplus", "bce-with-logits",
        "np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
        "-(y * np.log(1 / (1 + np.exp(-z))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z))))",
        "integration-bce-with-logits"),
]

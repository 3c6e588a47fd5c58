"""Planted bugs for module 12: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # The row sum of the softmax rule taken over every axis: right for one row, wrong for a batch.
    bug("softmax-rule-sums-all-axes", "masked-softmax-backward",
        "(grad * p).sum(axis=-1, keepdims=True)", "(grad * p).sum(keepdims=True)",
        "integration-attention-gradcheck", "integration-masks", "integration-tokens-attention-train"),
    # A fully masked row: -inf - (-inf) is NaN.
    bug("fully-masked-row-nan", "masked-softmax",
        "exps = np.exp(x - np.where(np.isfinite(top), top, 0))", "exps = np.exp(x - top)",
        "integration-masks"),
    # Hidden scores set to a large negative number: a fully masked row becomes uniform, not zero.
    bug("mask-with-large-negative", "masked-softmax",
        "np.where(mask, scores.data, -np.inf)", "np.where(mask, scores.data, -1e9)",
        "integration-masks"),
    # The heads split as if every input had exactly one batch axis.
    bug("split-assumes-one-batch-axis", "multi-head",
        "self.head_dim).transpose(-3, -2)", "self.head_dim).transpose(1, 2)",
        "integration-heads-and-batches"),
    # Only float masks refused: integer 0/1 masks slip through as booleans.
    bug("integer-masks-accepted", "masked-softmax",
        "if array.dtype != bool:", 'if array.dtype.kind == "f":',
        "integration-clear-errors"),
]

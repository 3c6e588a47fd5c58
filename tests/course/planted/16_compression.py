"""Planted bugs for module 16: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # The default (unstable) sort: ties fall in any order once an array is longer than 16 entries.
    bug("ties-in-any-order", "magnitude-mask",
        'np.argsort(np.abs(values).ravel(), kind="stable")', "np.argsort(np.abs(values).ravel())",
        "integration-magnitude-pruning"),
    # prune_magnitude forgets include_bias: biases are never pruned.
    bug("include-bias-ignored", "pruning-masks",
        "params = [param for _, param in prunable_parameters(model, include_bias)]",
        "params = [param for _, param in prunable_parameters(model)]",
        "integration-magnitude-pruning"),
    # Only the gradients are masked: momentum and Adam's moments bring pruned weights back.
    bug("masks-not-applied-after-the-step", "pruning-masks",
        "        self.optimizer.step()\n        self.masks.apply()", "        self.optimizer.step()",
        "integration-sparsity-survives-training"),
    # The masks applied before the step instead of after it.
    bug("masks-applied-before-the-step", "pruning-masks",
        "        self.optimizer.step()\n        self.masks.apply()", "        self.masks.apply()\n        self.optimizer.step()",
        "integration-sparsity-survives-training"),
    # After a Flatten, the features of a channel taken as interleaved instead of consecutive (right for an MLP).
    bug("flatten-features-interleaved", "structured-pruning",
        "rows = (keep[:, None] * features_per_channel + np.arange(features_per_channel)).ravel()",
        "rows = (np.arange(features_per_channel)[:, None] * channels + keep).ravel()",
        "integration-structured-equals-masked"),
    # BatchNorm2d loses its weight and bias of the removed channels, but keeps all running statistics.
    bug("batchnorm-statistics-not-pruned", "structured-pruning",
        "            later.running_mean = Tensor(later.running_mean.data[keep], dtype=later.running_mean.dtype)\n"
        "            later.running_var = Tensor(later.running_var.data[keep], dtype=later.running_var.dtype)\n",
        "",
        "integration-structured-equals-masked"),
    # The rank checked only from above: rank 0 gets a confusing error from Linear instead of a clear one.
    bug("rank-zero-not-refused", "low-rank",
        "not 1 <= rank <= limit", "not rank <= limit",
        "integration-low-rank"),
    # The soft term computed on a detached copy of the student's logits: right values, no gradient from the teacher.
    bug("student-detached-in-the-soft-term", "distillation",
        "log_softmax(student_logits * _constant(1 / temperature, dtype), dim=-1)",
        "log_softmax(Tensor(student_logits.data) * _constant(1 / temperature, dtype), dim=-1)",
        "integration-distillation-gradients", "integration-distillation-trains-student"),
    # The teacher's probabilities computed with recorded ops: the same value, but the teacher gets a gradient.
    bug("teacher-gets-a-gradient", "distillation",
        "Tensor(p, dtype=dtype) * log_q",
        "log_softmax(as_tensor(teacher_logits) * _constant(1 / temperature, dtype), dim=-1).exp() * log_q",
        "integration-distillation-gradients"),
]

"""Planted bugs for module 09: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # col2im that ignores the stride: right for stride 1 (all the visible tests), wrong for stride 2.
    bug("col2im-ignores-stride", "conv2d-backward",
        "grad_padded[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] += grad_columns[:, :, i, j]",
        "grad_padded[:, :, i:i + out_h, j:j + out_w] += grad_columns[:, :, i, j]",
        "integration-conv-gradients"),
    # The two `needs` checks swapped: the weight gradient only when the images need one.
    bug("weight-gradient-only-when-input-needs-one", "conv2d-backward",
        "    if needs[1]:\n        columns", "    if needs[0]:\n        columns",
        "integration-cnn-gradients", "integration-cnn-learns", "integration-rules-and-dtypes"),
    # Every input gradient computed, needed or not: right values, wasted work.
    bug("input-gradient-always-computed", "conv2d-backward",
        "    if needs[0]:\n        grad_columns", "    if True:\n        grad_columns",
        "integration-rules-and-dtypes"),
    # Max pooling: every tied maximum receives the gradient.
    bug("max-pool-gradient-to-every-tied-maximum", "pooling-backward",
        "        winner &= unclaimed\n", "",
        "integration-pooling-gradients"),
    # Max pooling: overlapping windows overwrite instead of adding up.
    bug("max-pool-overlapping-windows-overwrite", "pooling-backward",
        "grad_x[window] += grad * winner", "grad_x[window] = np.where(winner, grad, grad_x[window])",
        "integration-pooling-gradients"),
    # BatchNorm2d always in training mode: eval never uses the running statistics.
    bug("batchnorm-ignores-eval-mode", "layers",
        "training=self.training, momentum", "training=True, momentum",
        "integration-batchnorm-modes"),
    # The batch_norm2d rule differentiates through batch statistics even in eval mode.
    bug("batchnorm-backward-always-training", "batchnorm-backward",
        "    if training:\n        grad_x", "    if True:\n        grad_x",
        "integration-batchnorm-modes"),
    # The rule normalises with the batch's statistics in eval mode too (the forward used the running ones).
    bug("batchnorm-backward-batch-statistics-in-eval", "batchnorm-backward",
        "    if training:\n        mean, var", "    if True:\n        mean, var",
        "integration-batchnorm-modes"),
]

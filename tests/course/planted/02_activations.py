"""Planted bugs for module 02: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # A mask-based stable sigmoid that fills a fresh array: np.zeros is float64, so float32 in gives float64 out.
    bug("sigmoid-promotes-to-float64", "sigmoid",
        "return Tensor(np.where(x.data >= 0, 1 / (1 + z), z / (1 + z)))",
        "out = np.zeros(x.shape)\n"
        "    positive = x.data >= 0\n"
        "    out[positive] = 1 / (1 + z[positive])\n"
        "    out[~positive] = z[~positive] / (1 + z[~positive])\n"
        "    return Tensor(out)",
        "integration-shapes-dtypes"),
    # The textbook formula in both branches of np.where: exp overflows for large |x| (np.where computes both).
    bug("sigmoid-overflows-in-both-branches", "sigmoid",
        "return Tensor(np.where(x.data >= 0, 1 / (1 + z), z / (1 + z)))",
        "return Tensor(np.where(x.data >= 0, 1 / (1 + np.exp(-x.data)), np.exp(x.data) / (1 + np.exp(x.data))))",
        "integration-extreme-inputs"),
    # Copied from a 2-D example: always normalises the last axis, whatever dim says.
    bug("softmax-ignores-dim", "softmax",
        "shifted = x.data - x.data.max(axis=dim, keepdims=True)\n"
        "    exps = np.exp(shifted)\n"
        "    return Tensor(exps / exps.sum(axis=dim, keepdims=True))",
        "shifted = x.data - x.data.max(axis=-1, keepdims=True)\n"
        "    exps = np.exp(shifted)\n"
        "    return Tensor(exps / exps.sum(axis=-1, keepdims=True))",
        "integration-softmax-dims"),
    # Shifts by the maximum of the whole tensor: rows far below it underflow to 0 / 0.
    bug("softmax-shifts-by-global-max", "softmax",
        "x.data.max(axis=dim, keepdims=True)", "x.data.max()",
        "integration-extreme-inputs"),
]

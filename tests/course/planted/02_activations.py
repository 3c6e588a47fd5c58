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
        "integration-shapes-dtypes", "integration-extreme-inputs"),
    # The textbook formula in both branches of np.where: exp overflows for large |x| (np.where computes both).
    bug("sigmoid-overflows-in-both-branches", "sigmoid",
        "return Tensor(np.where(x.data >= 0, 1 / (1 + z), z / (1 + z)))",
        "return Tensor(np.where(x.data >= 0, 1 / (1 + np.exp(-x.data)), np.exp(x.data) / (1 + np.exp(x.data))))",
        "integration-extreme-inputs"),
    # The definition of tanh typed in: both exponentials overflow at |x| = 1000, giving inf / inf.
    bug("tanh-from-its-definition", "tanh",
        "return Tensor(np.tanh(x.data))",
        "return Tensor((np.exp(x.data) - np.exp(-x.data)) / (np.exp(x.data) + np.exp(-x.data)))",
        "integration-extreme-inputs"),
    # "Float32 in, float32 out" taken literally: float64 inputs come back as float32.
    bug("gelu-casts-to-float32", "gelu",
        "return Tensor(0.5 * x.data * (1 + np.tanh(inner)))",
        "return Tensor((0.5 * x.data * (1 + np.tanh(inner))).astype(np.float32))",
        "integration-shapes-dtypes"),
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
    # Saves a copy by shifting in place: the caller's tensor changes (softmax itself is unchanged by the shift).
    bug("softmax-shifts-its-input-in-place", "softmax",
        "shifted = x.data - x.data.max(axis=dim, keepdims=True)",
        "shifted = x.data  # no copy needed\n    shifted -= shifted.max(axis=dim, keepdims=True)",
        "integration-shapes-dtypes"),
    # dim = x.ndim slips through the check (NumPy then raises its own error, without dim= or the shape).
    bug("softmax-dim-check-off-by-one", "softmax",
        "if not -x.ndim <= dim < x.ndim:", "if not -x.ndim <= dim <= x.ndim:",
        "integration-softmax-dims"),
    # Checks only the upper end: dim=-ndim-1 reaches NumPy, whose error names neither dim= nor the shape.
    bug("softmax-checks-only-the-upper-end", "softmax",
        "if not -x.ndim <= dim < x.ndim:", "if dim >= x.ndim:",
        "integration-softmax-dims"),
]

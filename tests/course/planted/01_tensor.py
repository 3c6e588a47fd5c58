"""Planted bugs for module 01: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    bug("mean-ignores-keepdims", "tensor-reductions",
        "np.mean(a.data, axis=axis, keepdims=keepdims)", "np.mean(a.data, axis=axis)",
        "integration-numpy-reductions-shapes"),
    bug("mul-promotes-to-float64", "tensor-arithmetic",
        '_broadcast("multiply", a, b, np.multiply)',
        '_broadcast("multiply", a, b, lambda x, y: np.multiply(x, y, dtype=np.float64))',
        "integration-numpy-broadcasting"),
    bug("mul-error-without-shapes", "tensor-arithmetic",
        '_broadcast("multiply", a, b, np.multiply)', "Tensor(a.data * b.data)",
        "integration-shape-errors"),
]

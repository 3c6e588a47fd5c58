"""Planted bugs for module 01: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # Dtype rules of Tensor(...) (section 1).
    # Keeps every NumPy array's dtype, so integer and boolean arrays stay int64 / bool.
    bug("int-arrays-keep-their-dtype", "tensor-class",
        'elif isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f":',
        "elif isinstance(data, (np.ndarray, np.generic)):",
        "integration-dtype-rules"),
    # Checks only np.ndarray: a NumPy float64 number (what a float64 reduction returns) becomes float32.
    bug("numpy-numbers-become-float32", "tensor-class",
        'elif isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f":',
        'elif isinstance(data, np.ndarray) and data.dtype.kind == "f":',
        "integration-dtype-rules"),
    # Tests "floating array" before dtype=, so dtype= cannot change a floating array's type.
    bug("dtype-ignored-for-floating-arrays", "tensor-class",
        "if dtype is not None:\n"
        "            array = np.asarray(data, dtype=dtype)\n"
        '        elif isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f":\n'
        "            array = np.asarray(data)",
        'if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f":\n'
        "            array = np.asarray(data)\n"
        "        elif dtype is not None:\n"
        "            array = np.asarray(data, dtype=dtype)",
        "integration-dtype-rules"),
    # Arithmetic (section 3).
    bug("mul-promotes-to-float64", "tensor-arithmetic",
        '_broadcast("multiply", a, b, np.multiply)',
        '_broadcast("multiply", a, b, lambda x, y: np.multiply(x, y, dtype=np.float64))',
        "integration-numpy-broadcasting", "integration-dtype-rules"),
    bug("mul-error-without-shapes", "tensor-arithmetic",
        '_broadcast("multiply", a, b, np.multiply)', "Tensor(a.data * b.data)",
        "integration-shape-errors"),
    # Matmul (section 4).
    # Takes the inner size of b from its first axis: right for 1-d and 2-d b, wrong for a batch of matrices.
    bug("matmul-inner-size-from-first-axis", "tensor-matmul",
        "inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]", "inner_b = b.shape[0]",
        "integration-matmul-batches"),
    # Lets np.matmul's own message through when batch dimensions do not broadcast.
    bug("matmul-batch-error-unexplained", "tensor-matmul",
        "    try:\n"
        "        return Tensor(np.matmul(a.data, b.data))\n"
        "    except ValueError:\n"
        '        raise ValueError(f"matmul batch shapes do not broadcast: {a.shape} @ {b.shape}") from None',
        "    return Tensor(np.matmul(a.data, b.data))",
        "integration-shape-errors"),
    # Reductions (section 5).
    bug("mean-ignores-keepdims", "tensor-reductions",
        "np.mean(a.data, axis=axis, keepdims=keepdims)", "np.mean(a.data, axis=axis)",
        "integration-numpy-reductions-shapes"),
    # Divides the sum by one axis length: right for None and an int, a TypeError for a tuple of axes.
    bug("mean-divides-by-one-axis", "tensor-reductions",
        "np.mean(a.data, axis=axis, keepdims=keepdims)",
        "np.sum(a.data, axis=axis, keepdims=keepdims) / (a.size if axis is None else a.shape[axis])",
        "integration-numpy-reductions-shapes"),
    # Accumulates the mean in float64 "for accuracy": float32 in gives float64 out.
    bug("mean-accumulates-in-float64", "tensor-reductions",
        "np.mean(a.data, axis=axis, keepdims=keepdims)", "np.mean(a.data, axis=axis, keepdims=keepdims, dtype=np.float64)",
        "integration-dtype-rules"),
    # Shapes (section 6): skips the work when the shape does not change, returning the input itself.
    bug("reshape-returns-its-input", "tensor-shape-ops",
        "    try:\n        return Tensor(np.reshape(a.data, shape))",
        "    if tuple(shape) == a.shape:\n        return a  # nothing to do\n"
        "    try:\n        return Tensor(np.reshape(a.data, shape))",
        "integration-new-tensors"),
    # Elementwise maths (section 7): saves memory by writing exp into its input's array.
    bug("exp-writes-into-its-input", "tensor-math",
        "np.exp(a.data)", "np.exp(a.data, out=a.data)",
        "integration-numpy-broadcasting", "integration-new-tensors"),
]

"""Planted bugs for module 05: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

RECURSIVE_ORDER = '''    order, visited = [], set()

    def visit(tensor):
        if id(tensor) in visited:
            return
        visited.add(id(tensor))
        if tensor.grad_fn is not None:
            for parent in tensor.grad_fn.inputs:
                if parent.requires_grad:
                    visit(parent)
        order.append(tensor)

    visit(root)
    return order'''

ITERATIVE_ORDER = '''    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, inputs_listed = stack.pop()
        if inputs_listed:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor.grad_fn is not None:
            for parent in tensor.grad_fn.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order'''

BUGS = [
    bug("engine-forgets-unbroadcast", "backward-engine",
        "parent_grad = unbroadcast(parent_grad, parent.shape)", "parent_grad = parent_grad",
        "integration-mlp-gradients", "integration-broadcasting-gradients", "integration-reduction-gradients",
        "integration-batched-matmul-gradients"),
    bug("reused-tensor-gradient-added-in-place", "backward-engine",
        "grads[key] = grads[key] + parent_grad", "grads[key] += parent_grad",
        "integration-shared-tensors"),
    bug("recursive-topological-sort", "backward-engine",
        ITERATIVE_ORDER, RECURSIVE_ORDER,
        "integration-deep-chain"),
    bug("mean-count-ignores-tuple-axes", "reduction-rules",
        "count = a.size // max(node.output.size, 1)", "count = a.size if axis is None else a.shape[axis]",
        "integration-reduction-gradients"),
    bug("matmul-vector-row-ignores-batch", "matmul-rule",
        "a, grad = a[None, :], grad[..., None, :]", "a, grad = a[None, :], grad[None, :]",
        "integration-batched-matmul-gradients"),
    # One-sided differences: accurate enough for eps = 1e-6, off by eps / 2 for a larger step.
    bug("gradcheck-forward-differences", "gradcheck",
        "numeric[position] = (up - down) / (2 * eps)", "numeric[position] = (up - weighted_output()) / eps",
        "integration-gradcheck-method"),
    # All-ones weights: a rule that swaps elements' gradients looks right.
    bug("gradcheck-weights-all-ones", "gradcheck",
        "weights = np.random.default_rng(0).normal(size=output.shape)", "weights = np.ones(output.shape)",
        "integration-gradcheck-method"),
]

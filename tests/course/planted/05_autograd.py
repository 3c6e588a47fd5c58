"""Planted bugs for module 05: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

RECURSIVE_ORDER = '''    order, visited = [], set()

    def visit(tensor):
        if id(tensor) in visited:
            return
        visited.add(id(tensor))
        if tensor._ctx is not None:
            for parent in tensor._ctx.parents:
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
        if tensor._ctx is not None:
            for parent in tensor._ctx.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order'''

BUGS = [
    bug("engine-forgets-unbroadcast", "backward-engine",
        "parent_grad = unbroadcast(parent_grad, parent.shape)", "parent_grad = parent_grad",
        "integration-mlp-gradients", "integration-broadcasting-gradients", "integration-reduction-gradients",
        "integration-batched-matmul-gradients"),
    bug("reused-tensor-gradient-overwritten", "backward-engine",
        "grads[key] = grads[key] + parent_grad", "grads[key] = parent_grad",
        "integration-shared-tensors", "integration-reduction-gradients"),
    bug("recursive-topological-sort", "backward-engine",
        ITERATIVE_ORDER, RECURSIVE_ORDER,
        "integration-deep-chain"),
    bug("mean-divides-by-every-element", "reduction-rules",
        "count = a.size // max(np.size(out), 1)", "count = a.size",
        "integration-reduction-gradients"),
    bug("matmul-transposes-all-axes", "matmul-rule",
        "grad_a = grad @ np.swapaxes(b, -1, -2)", "grad_a = grad @ b.T",
        "integration-batched-matmul-gradients"),
]

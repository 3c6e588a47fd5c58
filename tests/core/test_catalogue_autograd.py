"""Autograd over the whole op catalogue (tests/catalogue.py): with autograd on, each op runs its own
forward once and records one node; each rule lives where the course puts it; every rule keeps float32;
bad input to the ops of later modules raises the forward's own message with autograd on (modules 01-04: see
tests/core/test_backward_rules.py).

These need every module's ops, so they are tests of the whole package, not of module 05 alone.
"""

import numpy as np
import pytest

import tinytorch.core.backward_rules as backward_rules
from tests.catalogue import CASES, Const
from tests.errors import error_message
from tinytorch.core import activations, attention, embeddings, losses, spatial
from tinytorch.core import tensor as tensor_module
from tinytorch.core.tensor import Tensor, install_autograd, installed_autograd
from tinytorch.perf import acceleration

OP_CASES = [case for case in CASES if case.op is not None]


def inputs_of(case, requires_grad):
    values = case.inputs(np.random.default_rng(0))
    return [Tensor(v.value) if isinstance(v, Const) else Tensor(v, requires_grad=requires_grad) for v in values]


@pytest.mark.parametrize("case", OP_CASES, ids=lambda case: case.name)
def test_with_autograd_on_each_op_runs_its_own_forward_once_and_records_one_node(case):
    operation, original = case.op, case.op.forward
    calls = []

    def spy(*args, **kwargs):
        calls.append(operation.__name__)
        return original(*args, **kwargs)

    operation.forward = spy
    try:
        out = case.call(*inputs_of(case, requires_grad=True))
    finally:
        operation.forward = original
    assert calls == [operation.__name__], f"{case.name}: the forward of {operation.__name__} ran {len(calls)} times"
    assert out.grad_fn is not None and out.grad_fn.op is operation, f"{case.name}: output node is {out.grad_fn!r}"


# Ops of modules 01-04 get their rules in module 05; later ops define theirs beside the forward.
EARLY_MODULES = {tensor_module.__name__, activations.__name__, losses.__name__}


def test_every_rule_lives_in_backward_rules_and_is_attached_to_its_op():
    for case in OP_CASES:
        rule = case.op.backward
        home = backward_rules.__name__ if case.op.__module__ in EARLY_MODULES else case.op.__module__
        assert rule is not None and rule.__module__ == home, f"{case.op.__name__}: {rule!r} should live in {home}"
        assert rule.__name__ == f"{case.op.__name__.removeprefix('tensor_')}_backward"


@pytest.mark.parametrize("case", OP_CASES, ids=lambda case: case.name)
def test_every_rule_keeps_float32_gradients_float32(case):
    """The leaf's .grad is cast to its dtype anyway, so look at what the rule itself returns."""
    values = case.inputs(np.random.default_rng(2))
    tensors = [Tensor(v.value.astype(np.float32)) if isinstance(v, Const) else Tensor(v.astype(np.float32), requires_grad=True)
               for v in values]  # everything float32, labels included: float32 in, float32 out
    operation, rule = case.op, case.op.backward
    returned = []

    def spy(*args, **kwargs):
        grads = rule(*args, **kwargs)
        returned.extend(grads if isinstance(grads, (tuple, list)) else [grads])
        return grads

    operation.backward = spy
    try:
        out = case.call(*tensors)
        out.backward(np.random.default_rng(3).normal(size=out.shape).astype(np.float32))
    finally:
        operation.backward = rule
    dtypes = [np.asarray(grad).dtype for grad in returned if grad is not None]
    assert dtypes and all(dtype == np.float32 for dtype in dtypes), f"{case.name}: the rule returned {dtypes}"


LATER_BAD_CALLS = {
    "conv2d 4 channels into a 3-channel weight": lambda g: spatial.conv2d(
        Tensor(np.ones((2, 4, 8, 8)), requires_grad=g), Tensor(np.ones((5, 3, 3, 3)))),
    "embedding id 5 of 4": lambda g: embeddings.embedding(Tensor(np.ones((4, 2)), requires_grad=g), np.array([0, 5])),
    "masked_softmax mask (2, 2) for (2, 3)": lambda g: attention.masked_softmax(
        Tensor(np.ones((2, 3)), requires_grad=g), np.ones((2, 2), dtype=bool)),
    "linear_gelu x (2, 4) with a weight (3, 5)": lambda g: acceleration.linear_gelu(
        Tensor(np.ones((2, 4)), requires_grad=g), Tensor(np.ones((3, 5)))),
}


@pytest.mark.parametrize("name", LATER_BAD_CALLS)
def test_errors_of_later_ops_with_autograd_on_are_the_forwards_own_messages(name):
    with_autograd = error_message(ValueError, lambda: LATER_BAD_CALLS[name](True))
    hooks = installed_autograd()
    install_autograd(None, None)
    try:
        plain = error_message(ValueError, lambda: LATER_BAD_CALLS[name](False))
    finally:
        install_autograd(*hooks)
    assert with_autograd == plain

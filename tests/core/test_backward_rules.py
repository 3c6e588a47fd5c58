"""tinytorch.core.backward_rules: with autograd on, the errors users see are the forward's own.

Every op of the catalogue (one forward per call, where its rule lives, float32 kept) is checked by
tests/core/test_catalogue_autograd.py, and its gradient against float64 central differences by
tests/core/test_catalogue.py: both need the whole package.
"""

from functools import partial

import numpy as np
import pytest

import tinytorch.core.backward_rules as backward_rules
from tests.errors import error_message
from tinytorch.core import activations, losses
from tinytorch.core import tensor as tensor_module
from tinytorch.core.tensor import Tensor, install_autograd, installed_autograd

message = partial(error_message, ValueError)


BAD_CALLS = {
    "matmul (2, 3) @ (4, 5)": lambda g: Tensor(np.ones((2, 3)), requires_grad=g) @ Tensor(np.ones((4, 5))),
    "add (2, 3) + (2,)": lambda g: Tensor(np.ones((2, 3)), requires_grad=g) + Tensor(np.ones(2)),
    "reshape (3, 4) -> (5, 2)": lambda g: Tensor(np.ones((3, 4)), requires_grad=g).reshape(5, 2),
    "softmax dim=3": lambda g: activations.softmax(Tensor(np.ones((2, 3)), requires_grad=g), dim=3),
    "mse_loss (4,) vs (4, 1)": lambda g: losses.mse_loss(Tensor(np.ones(4), requires_grad=g), Tensor(np.ones((4, 1)))),
    "cross_entropy class 5 of 3": lambda g: losses.cross_entropy(Tensor(np.zeros((2, 3)), requires_grad=g), Tensor([0, 5])),
    "binary_cross_entropy on logits": lambda g: losses.binary_cross_entropy(
        Tensor([[2.0, -1.0]], requires_grad=g), Tensor([[1.0, 0.0]])),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_errors_with_autograd_on_are_the_forwards_own_messages(name):
    with_autograd = message(lambda: BAD_CALLS[name](True))
    hooks = installed_autograd()
    install_autograd(None, None)
    try:
        plain = message(lambda: BAD_CALLS[name](False))
    finally:
        install_autograd(*hooks)
    assert with_autograd == plain


def test_the_matmul_message_users_see():
    text = message(lambda: BAD_CALLS["matmul (2, 3) @ (4, 5)"](True))
    assert text == "matmul shape mismatch: (2, 3) @ (4, 5): inner sizes 3 and 4 differ"
    assert tensor_module.matmul.backward is backward_rules.matmul_backward

"""Package tests for tinytorch.perf.op_timer (generated from source/14_profiling): the timer sees every op,
changes no gradient and puts back the very same recorder and engine."""

import numpy as np
import pytest

from tinytorch.core.autograd import backward, record
from tinytorch.core.tensor import Tensor, install_autograd, installed_autograd
from tinytorch.perf.op_timer import OpTimer


def test_op_timer_restores_the_same_engine_and_keeps_gradients():
    assert installed_autograd() == (record, backward)
    x = np.random.default_rng(0).standard_normal((4, 3))
    grads = []
    for timed in (False, True):
        a = Tensor(x, requires_grad=True)
        if timed:
            with OpTimer() as timer:
                (a @ a.T).exp().sum().backward()
        else:
            (a @ a.T).exp().sum().backward()
        grads.append(a.grad)
    assert np.array_equal(grads[0], grads[1])
    assert timer.calls[("forward", "matmul")] == timer.calls[("backward", "matmul")] == 1
    with pytest.raises(ZeroDivisionError), OpTimer():
        raise ZeroDivisionError
    recorder, engine = installed_autograd()
    assert recorder is record and engine is backward


def test_op_timer_refuses_to_start_with_autograd_off():
    original = installed_autograd()
    install_autograd(None, None)
    try:
        with pytest.raises(RuntimeError, match="autograd is off"):
            OpTimer().__enter__()
    finally:
        install_autograd(*original)



def test_inner_ops_of_a_forward_are_not_timed_twice_and_nested_timers_restore_in_order():
    original = installed_autograd()
    with OpTimer() as outer:
        x = Tensor(np.ones(3), requires_grad=True)
        with OpTimer() as inner:
            x.exp().sum().backward()
        assert installed_autograd() == (outer.record, outer.backward)
    assert installed_autograd()[0] is original[0] and installed_autograd()[1] is original[1]
    assert inner.calls[("forward", "exp")] == outer.calls[("forward", "exp")] == 1
    assert inner.calls[("backward", "exp")] == 1
    assert outer.engine_seconds >= 0 and "| exp |" in outer.table()

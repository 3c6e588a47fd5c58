"""Forward checks and float64 finite-difference gradient checks for every op in tests/catalogue.py."""

import functools
import importlib
import pkgutil

import numpy as np
import pytest

import tinytorch
import tinytorch.perf
from tests.catalogue import CASES, Const
from tinytorch.core.autograd import no_grad
from tinytorch.core.tensor import Op, Tensor
from tinytorch.testing import numeric_gradient


def as_tensors(values, dtype, requires_grad=False):
    return [Tensor(v.value) if isinstance(v, Const) else Tensor(v, dtype=dtype, requires_grad=requires_grad) for v in values]


def raw(values, dtype):
    return [v.value if isinstance(v, Const) else v.astype(dtype) for v in values]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_forward_matches_numpy_and_keeps_float32(case):
    values = case.inputs(np.random.default_rng(0))
    out = case.call(*as_tensors(raw(values, np.float32), np.float32))
    expected = case.reference(*raw(values, np.float64))
    assert out.shape == np.shape(expected), f"{case.name}: shape {out.shape}, NumPy gives {np.shape(expected)}"
    assert out.dtype == np.float32, f"{case.name}: float32 inputs gave {out.dtype}"
    np.testing.assert_allclose(out.data, expected, rtol=2e-4, atol=2e-5, err_msg=case.name)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_gradient_matches_central_differences_in_float64(case):
    rng = np.random.default_rng(1)
    values = case.inputs(rng)
    inputs = as_tensors(values, np.float64, requires_grad=True)
    out = case.call(*inputs)
    # A random upstream gradient, so a rule that only works for all-ones gradients fails.
    upstream = rng.normal(size=out.shape)
    (out * Tensor(upstream, dtype=np.float64)).sum().backward()

    def scalar(arrays):
        with no_grad():
            return float((case.call(*as_tensors(arrays, np.float64)).data * upstream).sum())

    for index, value in enumerate(values):
        if isinstance(value, Const):
            assert inputs[index].grad is None, f"{case.name}: a constant argument received a gradient"
            continue
        arrays = [v if isinstance(v, Const) else v.copy() for v in values]
        expected = numeric_gradient(functools.partial(scalar, arrays), arrays[index])
        got = inputs[index].grad
        assert got is not None, f"{case.name}: input {index} received no gradient"
        assert got.shape == value.shape, f"{case.name}: gradient of input {index} has shape {got.shape}, not {value.shape}"
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=f"{case.name}: input {index}")


def package_ops():
    perf = [importlib.import_module(f"tinytorch.perf.{info.name}") for info in pkgutil.iter_modules(tinytorch.perf.__path__)]
    modules = [m for name, m in vars(tinytorch.core).items() if not name.startswith("_") and hasattr(m, "__all__")] + perf
    return {obj for module in modules for obj in vars(module).values() if isinstance(obj, Op)}


def test_every_package_op_is_in_the_catalogue_and_has_a_backward_rule():
    ops = package_ops()
    covered = {case.op for case in CASES}
    missing = sorted(o.__name__ for o in ops - covered)
    assert not missing, f"add these ops to tests/catalogue.py: {missing}"
    without_rule = sorted(o.__name__ for o in ops if o.backward is None)
    assert not without_rule, f"ops without a backward rule after `import tinytorch`: {without_rule}"

"""tinytorch.core.layers: the Module registry, Linear, Dropout and Sequential against NumPy."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core.activations import ReLU, Sigmoid, Softmax, Tanh
from tinytorch.core.layers import (
    Dropout,
    Flatten,
    Linear,
    Module,
    Parameter,
    Sequential,
    default_generator,
    manual_seed,
)
from tinytorch.core.tensor import Tensor

sizes = st.integers(1, 12)
batch_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5)


class Block(Module):
    """A module with an own parameter, a Linear, a nested Sequential, a shared layer and a buffer."""

    def __init__(self, rng=0):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.gain = Parameter(np.ones(3, dtype=np.float32))
        self.inp = Linear(4, 3, rng=rng)
        self.shared = Linear(3, 3, rng=rng)
        self.body = Sequential(self.shared, ReLU(), Sequential(self.shared, Tanh(), Linear(3, 2, bias=False, rng=rng)))
        self.alias = self.inp
        self.note = Tensor(np.zeros(2))
        self.register_buffer("seen", np.zeros((2, 3), dtype=np.float32))

    def forward(self, x):
        return self.body(self.inp(x) * self.gain)


# Parameter and Module registry ------------------------------------------------------------


def test_parameter_is_a_tensor_that_requires_grad():
    p = Parameter(np.zeros((2, 3), dtype=np.float32))
    assert isinstance(p, Tensor) and p.requires_grad and p.shape == (2, 3)
    assert not Parameter([1.0], requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter(")


def test_named_parameters_walks_the_tree_once_per_parameter():
    block = Block()
    named = list(block.named_parameters())
    assert [name for name, _ in named] == [
        "gain", "inp.weight", "inp.bias", "shared.weight", "shared.bias", "body.2.2.weight",
    ]
    expected = [block.gain, block.inp.weight, block.inp.bias, block.shared.weight, block.shared.bias,
                block.body[2][2].weight]
    assert [id(p) for _, p in named] == [id(p) for p in expected]
    assert [id(p) for p in block.parameters()] == [id(p) for p in expected]
    assert isinstance(block.parameters(), list)


def test_registry_follows_reassignment_and_deletion():
    block = Block()
    new_weight = Parameter(np.zeros((4, 3), dtype=np.float32))
    block.inp.weight = new_weight
    assert dict(block.inp.named_parameters())["weight"] is new_weight
    block.inp.bias = None
    assert [name for name, _ in block.inp.named_parameters()] == ["weight"]
    block.gain = Tensor(np.ones(3))  # a plain tensor unregisters the name
    assert "gain" not in dict(block.named_parameters())
    del block.shared
    names = [name for name, _ in block.named_parameters()]
    assert "shared.weight" not in names and "body.0.weight" in names  # still reachable through body
    block.body = None  # a plain value unregisters a sub-module too
    assert not [name for name, _ in block.named_parameters() if name.startswith("body.")]
    assert "body" not in [name for name, _ in block.named_modules()]


def test_replacing_a_parameter_by_a_module_and_back_leaves_no_stale_entry():
    class Swap(Module):
        def __init__(self):
            super().__init__()
            self.part = Parameter(np.ones(3, dtype=np.float32))
            self.part = Linear(3, 2, rng=0)
            self.gate = Linear(2, 2, rng=1)
            self.gate = Parameter(np.zeros(2, dtype=np.float32))

    swap = Swap()
    assert [name for name, _ in swap.named_parameters()] == ["gate", "part.weight", "part.bias"]
    assert [name for name, _ in swap.named_modules()] == ["", "part"]


def test_assigning_before_super_init_is_a_clear_error():
    class Forgetful(Module):
        def __init__(self):
            self.weight = Parameter([1.0])

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_train_eval_reach_every_module_and_return_self():
    block = Block()
    assert block.eval() is block
    modules = [block, block.inp, block.shared, block.body, block.body[2], block.body[2][2]]
    assert not any(m.training for m in modules)
    assert block.train() is block
    assert all(m.training for m in modules)
    block.train(False)
    assert not any(m.training for m in modules)


def test_zero_grad_clears_every_gradient():
    block = Block()
    for p in block.parameters():
        p.grad = np.ones_like(p.data)
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


def test_call_dispatches_to_forward_and_base_forward_is_abstract():
    x = Tensor(np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32))
    block = Block()
    np.testing.assert_array_equal(block(x).data, block.forward(x).data)
    with pytest.raises(NotImplementedError, match="forward"):
        Module()(x)


def test_state_dict_is_a_copy_and_round_trips_exactly():
    source, target = Block(0), Block(1)
    x = Tensor(np.random.default_rng(2).normal(size=(6, 4)).astype(np.float32))
    source.seen.data[...] = 4.0
    state = source.state_dict()
    assert list(state) == [name for name, _ in source.named_parameters()] + ["seen"]
    for name, tensor in [*source.named_parameters(), *source.named_buffers()]:
        assert isinstance(state[name], np.ndarray) and state[name].dtype == np.float32
        assert not np.shares_memory(state[name], tensor.data), f"{name} is a view"
    target.load_state_dict(state)
    np.testing.assert_array_equal(target(x).data, source(x).data)
    for value in state.values():
        value[...] = 7.0
    np.testing.assert_array_equal(target(x).data, source(x).data)  # loading copied
    np.testing.assert_array_equal(target.seen.data, np.full((2, 3), 4.0))


def test_load_state_dict_writes_into_the_existing_arrays():
    block, other = Block(0), Block(1)
    other.seen.data[...] = 2.5
    held = {name: tensor.data for name, tensor in [*block.named_parameters(), *block.named_buffers()]}
    block.load_state_dict({name: value.astype(np.float64) for name, value in other.state_dict().items()})
    for name, tensor in [*block.named_parameters(), *block.named_buffers()]:
        assert tensor.data is held[name], f"{name}: load_state_dict replaced the array instead of writing into it"
        assert tensor.dtype == np.float32
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(held[name], value, err_msg=name)


def test_load_state_dict_keeps_dtype_and_accepts_tensors():
    layer = Linear(3, 2, rng=0)
    layer.load_state_dict({"weight": Tensor(np.ones((3, 2))), "bias": np.zeros(2, dtype=np.float64)})
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, np.ones((3, 2)))
    layer.load_state_dict({"weight": [[1.5, 2.0], [0.0, 1.0], [3.0, 4.0]], "bias": [0.25, -1.0]})  # nested lists
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, [0.25, -1.0])
    with pytest.raises(ValueError, match=r"bias.*\(3,\).*\(2,\)"):
        layer.load_state_dict({"weight": np.ones((3, 2)), "bias": [1.0, 2.0, 3.0]})


def test_bad_state_dicts_name_the_problem():
    block = Block()
    state = block.state_dict()
    with pytest.raises(KeyError, match=r"inp\.bias"):
        block.load_state_dict({k: v for k, v in state.items() if k != "inp.bias"})
    with pytest.raises(KeyError, match="surplus"):
        block.load_state_dict({**state, "surplus": np.zeros(1)})
    with pytest.raises(ValueError, match=r"inp\.weight.*\(3, 4\).*\(4, 3\)"):
        block.load_state_dict({**state, "inp.weight": np.zeros((3, 4))})
    several = {k: v for k, v in state.items() if k not in ("gain", "shared.bias")}
    with pytest.raises(KeyError) as error:
        block.load_state_dict({**several, "extra.one": np.zeros(1), "extra.two": np.zeros(1)})
    for name in ("gain", "shared.bias", "extra.one", "extra.two"):
        assert name in str(error.value)


@pytest.mark.parametrize("spoil", ["missing last key", "unexpected key", "wrong shape in last key"])
def test_a_failed_load_leaves_the_model_untouched(spoil):
    block, other = Block(0), Block(1).state_dict()
    last = list(other)[-1]
    assert last == "seen"  # the buffer comes last: a load that copied as it checked would have changed the rest
    before = block.state_dict()
    bad = {
        "missing last key": {k: v for k, v in other.items() if k != last},
        "unexpected key": {**other, "extra": np.zeros(1)},
        "wrong shape in last key": {**other, last: np.zeros((9, 9))},
    }[spoil]
    with pytest.raises((KeyError, ValueError)):
        block.load_state_dict(bad)
    for name, value in block.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=f"{name} changed by a failed load")


# Linear ----------------------------------------------------------------------------------


@given(sizes, sizes, batch_shapes, st.booleans(), st.integers(0, 2**16))
def test_linear_matches_numpy(fan_in, fan_out, batch, bias, seed):
    layer = Linear(fan_in, fan_out, bias=bias, rng=seed)
    x = np.random.default_rng(seed).normal(size=batch + (fan_in,)).astype(np.float32)
    out = layer(Tensor(x))
    expected = x @ layer.weight.data + (layer.bias.data if bias else 0)
    assert out.shape == batch + (fan_out,) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    assert len(layer.parameters()) == (2 if bias else 1)


@pytest.mark.parametrize("fan_in", [1, 10, 300, 4000])
def test_linear_init_is_uniform_in_plus_minus_sqrt_one_over_fan_in(fan_in):
    layer = Linear(fan_in, 64, rng=fan_in)
    bound = np.sqrt(1 / fan_in)
    w = layer.weight.data
    assert layer.weight.shape == (fan_in, 64) and layer.bias.shape == (64,)
    assert w.dtype == np.float32 and layer.bias.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(layer.bias.data).max() <= bound
    if w.size >= 10_000:  # statistics of U(-a, a): mean 0, variance a^2 / 3
        assert abs(w.mean()) < 0.02 * bound
        np.testing.assert_allclose(w.var(), bound**2 / 3, rtol=0.05)
        assert np.abs(w).max() > 0.99 * bound


def test_linear_output_scale_does_not_depend_on_width():
    rng = np.random.default_rng(0)
    stds = []
    for width in (16, 256, 4096):
        x = Tensor(rng.normal(size=(512, width)).astype(np.float32))
        stds.append(Linear(width, 32, bias=False, rng=rng)(x).data.std())
    np.testing.assert_allclose(stds, np.sqrt(1 / 3), rtol=0.1)


def test_linear_draws_weight_then_bias_from_one_stream():
    for rng in (7, np.random.default_rng(7)):
        layer = Linear(6, 4, rng=rng)
        stream, bound = np.random.default_rng(7), np.sqrt(1 / 6)
        np.testing.assert_array_equal(layer.weight.data, stream.uniform(-bound, bound, (6, 4)).astype(np.float32))
        np.testing.assert_array_equal(layer.bias.data, stream.uniform(-bound, bound, 4).astype(np.float32))


def test_linear_seeding():
    assert np.array_equal(Linear(5, 3, rng=4).weight.data, Linear(5, 3, rng=np.random.default_rng(4)).weight.data)
    assert not np.array_equal(Linear(5, 3, rng=4).weight.data, Linear(5, 3, rng=5).weight.data)
    manual_seed(9)
    first = Linear(5, 3).weight.data.copy()
    assert not np.array_equal(first, Linear(5, 3).weight.data)  # the default generator moves on
    manual_seed(9)
    np.testing.assert_array_equal(Linear(5, 3).weight.data, first)
    with pytest.raises(TypeError, match="rng"):
        Linear(5, 3, rng="seed")


@pytest.mark.parametrize("args, name", [((0, 3), "in_features=0"), ((3, -2), "out_features=-2"),
                                        ((2.5, 3), "in_features=2.5"), ((3, True), "out_features=True"),
                                        ((None, 3), "in_features=None"), ((3, "two"), "out_features='two'")])
def test_linear_rejects_bad_sizes(args, name):
    with pytest.raises(ValueError, match=name):
        Linear(*args)


def test_linear_wrong_feature_size_names_in_features_and_both_shapes():
    with pytest.raises(ValueError, match=r"in_features=4.*\(7, 5\).*\(4, 3\)"):
        Linear(4, 3)(Tensor(np.ones((7, 5))))
    with pytest.raises(ValueError, match=r"in_features=4.*\(\)"):
        Linear(4, 3)(Tensor(2.0))
    with pytest.raises(ValueError, match=r"in_features=4.*\(5,\)"):
        Linear(4, 3)(Tensor(np.ones(5)))


def test_linear_takes_a_single_example():
    layer = Linear(4, 3, rng=0)
    x = np.arange(4, dtype=np.float32)
    out = layer(Tensor(x))
    assert out.shape == (3,)
    np.testing.assert_allclose(out.data, x @ layer.weight.data + layer.bias.data, rtol=1e-6)


def test_linear_repr():
    assert repr(Linear(4, 3, bias=False)) == "Linear(in_features=4, out_features=3, bias=False)"


# Dropout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1, float("nan"), 10 ** 400])
def test_dropout_rejects_bad_probabilities(p):
    with pytest.raises(ValueError, match=f"p={p}"):
        Dropout(p)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_statistics_in_training(p):
    x = np.random.default_rng(0).normal(loc=1.0, size=(400, 500)).astype(np.float32)
    out = Dropout(p, rng=1)(Tensor(x)).data
    kept = out != 0
    assert out.dtype == np.float32
    assert abs(kept.mean() - (1 - p)) < 0.005
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
    ones = Dropout(p, rng=2)(Tensor(np.ones((400, 500), dtype=np.float32))).data
    assert abs(ones.mean() - 1) < 0.02


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = Tensor(np.random.default_rng(0).normal(size=(20, 30)).astype(np.float32))
    assert Dropout(0.7).eval()(x) is x
    assert Dropout(0.0)(x) is x
    assert Dropout(0.0, rng=1)(x) is x


def test_dropout_seeding():
    x = Tensor(np.ones((50, 50), dtype=np.float32))
    a, b = Dropout(0.5, rng=3), Dropout(0.5, rng=3)
    first = a(x).data
    np.testing.assert_array_equal(first, b(x).data)
    np.testing.assert_array_equal(first, Dropout(0.5, rng=np.random.default_rng(3))(x).data)
    assert not np.array_equal(first, a(x).data)  # a fresh mask on every call
    manual_seed(4)
    unseeded = Dropout(0.5)(x).data
    manual_seed(4)
    np.testing.assert_array_equal(Dropout(0.5)(x).data, unseeded)


def test_dropout_without_rng_follows_manual_seed_called_after_construction():
    x = Tensor(np.ones((50, 50), dtype=np.float32))
    early = Dropout(0.5)
    manual_seed(12)
    first = early(x).data
    manual_seed(12)
    np.testing.assert_array_equal(early(x).data, first)
    manual_seed(12)
    np.testing.assert_array_equal(Dropout(0.5)(x).data, first)


def test_dropout_leaves_its_input_alone():
    values = np.random.default_rng(0).normal(size=(30, 40)).astype(np.float32)
    x = Tensor(values.copy())
    out = Dropout(0.5, rng=0)(x)
    np.testing.assert_array_equal(x.data, values)
    assert not np.shares_memory(out.data, x.data)


# Sequential ------------------------------------------------------------------------------


def test_sequential_mlp_matches_numpy():
    rng = np.random.default_rng(0)
    model = Sequential(Linear(6, 8, rng=rng), ReLU(), Dropout(0.5), Linear(8, 8, rng=rng), Tanh(),
                       Linear(8, 5, rng=rng), Sigmoid(), Linear(5, 3, rng=rng), Softmax(dim=-1)).eval()
    x = rng.normal(size=(10, 6)).astype(np.float32)
    w = [layer.weight.data for layer in model if isinstance(layer, Linear)]
    b = [layer.bias.data for layer in model if isinstance(layer, Linear)]
    h = np.maximum(x @ w[0] + b[0], 0)
    h = np.tanh(h @ w[1] + b[1])
    h = 1 / (1 + np.exp(-(h @ w[2] + b[2])))
    h = h @ w[3] + b[3]
    expected = np.exp(h - h.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


def test_sequential_container_protocol_and_names():
    layers = [Linear(3, 4, rng=0), ReLU(), Dropout(0.2), Linear(4, 2, rng=1), lambda t: t * 2]
    model = Sequential(*layers)
    assert len(model) == 5 and all(a is b for a, b in zip(model, layers, strict=True))
    assert model[3] is layers[3] and model[-1] is layers[-1]
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    head = model[:2]
    assert isinstance(head, Sequential) and len(head) == 2 and head[0] is layers[0]
    x = Tensor(np.ones((2, 3), dtype=np.float32))
    np.testing.assert_allclose(model.eval()(x).data, 2 * layers[3](layers[1](layers[0](x))).data)
    assert Sequential()(x) is x


def test_sequential_rejects_non_layers_with_their_position():
    with pytest.raises(TypeError, match="layer 1.*int"):
        Sequential(Linear(2, 2), 3)
    with pytest.raises(TypeError, match=r"ReLU\(\)"):
        Sequential(Linear(2, 2), ReLU)


# Flatten ---------------------------------------------------------------------------------


@given(hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=4), st.data())
def test_flatten_matches_numpy_reshape(shape, data):
    ndim = len(shape)
    start = data.draw(st.integers(-ndim, ndim - 1))
    end = data.draw(st.integers(start % ndim, ndim - 1))
    end_arg = data.draw(st.sampled_from([end, end - ndim]))
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    first = start % ndim
    expected = x.reshape(shape[:first] + (int(np.prod(shape[first:end + 1])),) + shape[end + 1:])
    out = Flatten(start, end_arg)(Tensor(x))
    assert out.shape == expected.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, expected)


def test_flatten_defaults_like_pytorch():
    x = Tensor(np.zeros((32, 3, 8, 8), dtype=np.float32))
    assert Flatten()(x).shape == (32, 192)
    assert Flatten(0)(x).shape == (6144,)
    assert Flatten(1, 2)(x).shape == (32, 24, 8)
    assert repr(Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert isinstance(Flatten(), Module) and Flatten().parameters() == []
    empty = Tensor(np.zeros((0, 3, 4), dtype=np.float32))
    assert Flatten()(empty).shape == (0, 12)


@pytest.mark.parametrize("dims, shape, fragments", [
    ((2,), (4, 5), ["start_dim=2", "(4, 5)"]),
    ((2, 1), (2, 3, 4), ["start_dim=2", "end_dim=1", "(2, 3, 4)"]),
    ((0, 3), (2, 3), ["end_dim=3", "(2, 3)"]),
    ((0, 2), (2, 3), ["end_dim=2", "(2, 3)"]),
    ((3, 3), (2, 3, 4), ["start_dim=3", "end_dim=3"]),
    ((-4,), (2, 3, 4), ["start_dim=-4"]),
    ((1,), (), ["start_dim=1", "()"]),
])
def test_flatten_rejects_dims_outside_the_input(dims, shape, fragments):
    with pytest.raises(ValueError) as error:
        Flatten(*dims)(Tensor(np.zeros(shape, dtype=np.float32)))
    assert all(text in str(error.value) for text in fragments), str(error.value)


def test_gradients_flow_through_flatten():
    x = Tensor(np.random.default_rng(0).normal(size=(4, 2, 3)).astype(np.float32), requires_grad=True)
    model = Sequential(Flatten(), Linear(6, 2, rng=0))
    model(x).sum().backward()
    expected = np.broadcast_to(model[1].weight.data.sum(axis=1), (4, 6)).reshape(4, 2, 3)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_printing_a_model_shows_every_layer():
    text = repr(Sequential(Linear(3, 4), ReLU(), Dropout(0.1)))
    assert text.splitlines() == [
        "Sequential(",
        "  (0): Linear(in_features=3, out_features=4, bias=True)",
        "  (1): ReLU()",
        "  (2): Dropout(p=0.1)",
        ")",
    ]


# With autograd (module 05), gradients flow through the layers' tensor operations.


def test_gradients_flow_through_linear_and_dropout():
    rng = np.random.default_rng(0)
    layer, drop = Linear(4, 3, rng=rng), Dropout(0.5, rng=rng)
    x = Tensor(rng.normal(size=(6, 4)).astype(np.float32), requires_grad=True)
    out = drop(layer(x))
    out.sum().backward()
    mask = out.data != 0
    upstream = mask / 0.5
    np.testing.assert_allclose(layer.weight.grad, x.data.T @ upstream, rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad, upstream.sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(x.grad, upstream @ layer.weight.data.T, rtol=1e-5)


def test_named_modules_walks_the_tree_and_default_generator_follows_manual_seed():
    dropout = Dropout(0.5, rng=1)
    model = Sequential(Linear(2, 3, rng=0), ReLU(), Sequential(dropout))
    found = dict(model.named_modules())
    assert list(found) == ["", "0", "2", "2.0"]  # activations hold no state, so they are not Modules
    assert found[""] is model and found["2.0"] is dropout
    manual_seed(4)
    first = default_generator().random()
    manual_seed(4)
    assert default_generator().random() == first


# Buffers ---------------------------------------------------------------------------------


class Counter(Module):
    def __init__(self):
        super().__init__()
        self.weight = Parameter(np.ones(2, dtype=np.float32))
        self.register_buffer("count", np.zeros((), dtype=np.int64))
        self.register_buffer("mean", Tensor(np.zeros(2, dtype=np.float32)))


def test_buffers_are_state_but_not_parameters():
    array = np.zeros(3, dtype=np.float32)
    module = Module()
    module.register_buffer("stats", array)
    assert isinstance(module.stats, Tensor) and not isinstance(module.stats, Parameter)
    assert module.stats.data is array  # no copy: code holding the array sees the buffer
    assert not module.stats.requires_grad and module.parameters() == []
    model = Sequential(Counter(), Sequential(Counter()))
    model.again = model[0]  # a shared module: its buffers are listed once
    names = [name for name, _ in model.named_buffers()]
    assert names == ["0.count", "0.mean", "1.0.count", "1.0.mean"]
    assert [name for name, _ in model.named_buffers("net.")][0] == "net.0.count"
    assert model[0].count.dtype == np.int64
    buffers = {id(buffer) for _, buffer in model.named_buffers()}
    assert not buffers & {id(param) for param in model.parameters()}


@pytest.mark.parametrize("name, value, error, fragments", [
    ("a.b", np.zeros(1), KeyError, ["'a.b'", "identifier"]),
    ("", np.zeros(1), KeyError, ["''"]),
    ("stats", [1.0, 2.0], TypeError, ["stats", "list"]),
    ("stats", Parameter(np.zeros(1)), TypeError, ["stats", "Parameter"]),
    ("stats", Tensor(np.zeros(1), requires_grad=True), ValueError, ["stats", "gradients"]),
])
def test_register_buffer_rejects_what_is_not_a_buffer(name, value, error, fragments):
    with pytest.raises(error) as raised:
        Module().register_buffer(name, value)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_one_name_lives_in_one_registry():
    module = Counter()
    module.register_buffer("weight", np.zeros(2, dtype=np.float32))  # a buffer replaces a parameter
    assert module.parameters() == [] and "weight" in dict(module.named_buffers())
    module.count = Parameter(np.ones(1, dtype=np.float32))  # a parameter replaces a buffer
    assert [name for name, _ in module.named_parameters()] == ["count"]
    module.mean = Linear(2, 2, rng=0)  # a module replaces a buffer
    assert [name for name, _ in module.named_buffers()] == ["weight"]
    module.register_buffer("mean", np.ones(2, dtype=np.float32))  # and a buffer replaces a module
    assert [name for name, _ in module.named_parameters()] == ["count"]
    module.mean = Tensor(np.full(2, 3.0, dtype=np.float32))  # a new Tensor stays a buffer
    np.testing.assert_array_equal(module.state_dict()["mean"], [3.0, 3.0])
    module.weight = None  # anything else ends it
    del module.mean
    assert list(module.state_dict()) == ["count"]


def test_buffers_round_trip_with_their_dtype_and_fail_clearly():
    source, target = Counter(), Counter()
    source.count.data[...] = 7
    source.mean.data[...] = [1.5, -2.0]
    state = source.state_dict()
    assert list(state) == ["weight", "count", "mean"] and state["count"].dtype == np.int64
    target.load_state_dict(state)
    assert target.count.dtype == np.int64 and int(target.count.data) == 7
    np.testing.assert_array_equal(target.mean.data, [1.5, -2.0])
    with pytest.raises(KeyError, match=r"missing keys \['count'\]"):
        target.load_state_dict({k: v for k, v in state.items() if k != "count"})
    with pytest.raises(ValueError, match=r"mean.*\(3,\).*\(2,\)"):
        target.load_state_dict({**state, "mean": np.zeros(3)})

"""Package tests for tinytorch.perf.profiling (generated from source/14_profiling).

FLOP counts of matmuls and convolutions are checked against PyTorch's FlopCounterMode when it is
installed (always under CI: tests/pytorch.py); the other counts against hand formulas.
"""

import numpy as np
import pytest

from tests.pytorch import require_torch
from tinytorch.core.activations import ReLU
from tinytorch.core.attention import MultiHeadAttention
from tinytorch.core.layers import Flatten, Linear, Sequential
from tinytorch.core.losses import cross_entropy
from tinytorch.core.optimizers import SGD, Adam
from tinytorch.core.spatial import Conv2d, MaxPool2d
from tinytorch.core.tensor import Tensor
from tinytorch.core.transformers import GPT
from tinytorch.perf.profiling import (
    Profiler,
    count_flops,
    count_parameters,
    gradient_bytes,
    layers_of,
    measure_latency,
    optimizer_state_bytes,
    parameter_bytes,
    parameters_by_layer,
    trace,
)


def small_cnn(bias=True):
    return Sequential(Conv2d(1, 4, 3, padding=1, bias=bias, rng=0), ReLU(), MaxPool2d(2), Flatten(),
                      Linear(4 * 4 * 4, 10, bias=bias, rng=0))


def gpt_flops(V, E, H, L, B, T):
    """The hand count of section 2 of the notebook for GPT(V, C, E, H, L) on ids of shape (B, T)."""
    rows = B * T
    block = (14 * rows * E + 4 * (2 * rows * E * E + rows * E) + 4 * B * T * T * E + 5 * B * H * T * T
             + 2 * rows * E * 4 * E + rows * 4 * E + 9 * rows * 4 * E + 2 * rows * 4 * E * E + rows * E + 2 * rows * E)
    return rows * E + L * block + 7 * rows * E + 2 * rows * E * V


def test_parameter_counts_match_pytorch_and_shared_weights_count_once():
    torch = require_torch()
    reference = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                    torch.nn.Flatten(), torch.nn.Linear(64, 10))
    assert count_parameters(small_cnn()) == sum(p.numel() for p in reference.parameters()) == 690
    assert parameters_by_layer(small_cnn()) == {"0": 40, "4": 650}
    shared = Sequential(Linear(5, 5, rng=0), ReLU(), Linear(5, 5, rng=1))
    shared.layers[2].weight = shared.layers[0].weight
    assert count_parameters(shared) == 25 + 5 + 5
    assert parameter_bytes(shared) == 4 * 35


def test_matmul_and_conv_flops_match_pytorch_flop_counter():
    torch = require_torch()
    from torch.utils.flop_counter import FlopCounterMode

    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    model = small_cnn(bias=False)  # PyTorch counts the products only, not the bias adds
    _, calls = trace(model, Tensor(x))
    ours = {type(call.layer).__name__: call.flops for call in calls}
    reference = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1, bias=False), torch.nn.ReLU(),
                                    torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64, 10, bias=False))
    with FlopCounterMode(display=False) as counter:
        reference(torch.from_numpy(x))
    counted = {str(op): flops for op, flops in counter.get_flop_counts()["Global"].items()}
    assert ours["Conv2d"] == counted["aten.convolution"]
    assert ours["Linear"] == counted["aten.mm"]


@pytest.mark.parametrize("B, T", [(1, 5), (3, 8)])
def test_gpt_flops_equal_the_hand_count(B, T):
    model = GPT(23, 8, 8, 2, 2, rng=0)
    _, calls = trace(model, np.random.default_rng(0).integers(0, 23, size=(B, T)))
    assert sum(call.flops for call in calls) == gpt_flops(23, 8, 2, 2, B, T)
    assert count_parameters(model) == 23 * 8 + 8 * 8 + 2 * (12 * 64 + 13 * 8) + 16 + 8 * 23


def test_attention_core_flops_follow_the_batch_and_heads():
    attention = MultiHeadAttention(12, 3, rng=0)
    assert count_flops(attention, (2, 5, 12), (2, 5, 12)) == 4 * 2 * 25 * 12 + 5 * 2 * 3 * 25
    assert count_flops(attention, (5, 12), (5, 12)) == 4 * 25 * 12 + 5 * 3 * 25
    assert count_flops(object(), (2, 3), (2, 3)) == 0


def test_trace_leaves_the_model_unchanged_even_when_it_raises():
    model = small_cnn()
    x = Tensor(np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32))
    before = model(x).data.copy()
    output, calls = trace(model, x)
    assert np.array_equal(output.data, before)
    assert all("forward" not in vars(layer) for _, layer in layers_of(model))
    with pytest.raises(ValueError):
        trace(model, Tensor(np.zeros((2, 1, 12, 12), dtype=np.float32)))  # 144 features for a Linear(64, 10)
    assert all("forward" not in vars(layer) for _, layer in layers_of(model))
    assert np.array_equal(model(x).data, before)


def test_activation_bytes_count_each_output_array_once():
    model = Sequential(Linear(6, 4, rng=0), ReLU(), Linear(4, 2, rng=0))
    _, calls = trace(model, Tensor(np.ones((5, 6), dtype=np.float32)))
    assert [call.activation_bytes for call in calls] == [80, 80, 40, 0]


def test_profiler_reads_gradients_and_optimizer_state_as_they_are():
    model = Sequential(Linear(8, 8, rng=0), ReLU(), Linear(8, 3, rng=1))
    x, y = Tensor(np.random.default_rng(0).standard_normal((4, 8))), Tensor(np.arange(4) % 3)
    for optimizer, arrays_per_parameter in [(SGD(model.parameters(), lr=0.1, momentum=0.9), 1),
                                            (Adam(model.parameters(), lr=0.1), 2)]:
        model.zero_grad()
        cross_entropy(model(x), y).backward()
        optimizer.step()
        profile = Profiler(model, optimizer).run(x, repeats=1)
        assert profile.gradient_bytes == gradient_bytes(model) == 4 * 99
        assert profile.optimizer_bytes == optimizer_state_bytes(optimizer) == arrays_per_parameter * 4 * 99
        assert profile.parameter_bytes == 4 * 99
        assert "| **total** |" in profile.table()


def test_measure_latency_counts_calls_and_validates():
    calls = []
    latency = measure_latency(lambda: calls.append(1), warmup=3, repeats=4)
    assert len(calls) == 7 and latency.times.shape == (4,) and latency.q1 <= latency.median <= latency.q3
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(lambda: None, repeats=True)



def test_profile_table_and_plot_show_one_row_per_layer():
    import matplotlib

    matplotlib.use("Agg")
    profile = Profiler(small_cnn()).run(Tensor(np.zeros((2, 1, 8, 8), dtype=np.float32)), repeats=2)
    table = profile.table()
    assert [row.name for row in profile.layers] == ["0", "1", "2", "3", "4"]
    assert all(f"| {row.name} | {row.kind} |" in table for row in profile.layers)
    axis = profile.plot(metric="parameters")
    assert [bar.get_width() for bar in axis.patches] == [650, 0, 0, 0, 40]  # drawn top to bottom: layer 0 first
    with pytest.raises(ValueError, match="'bytes'"):
        profile.plot(metric="bytes")


def test_profiling_something_that_is_not_a_module_names_its_type():
    with pytest.raises(TypeError, match="got function"):
        trace(lambda x: x, Tensor(np.ones(2)))
    with pytest.raises(TypeError, match="got str"):
        Profiler("model")


def test_activations_are_counted_when_python_reuses_the_id_of_a_freed_output():
    from tinytorch.core.autograd import no_grad

    deep = Sequential(*[layer for index in range(6) for layer in (Linear(8, 8, rng=index), ReLU())])
    with no_grad():  # each output is freed once the next layer is done
        _, calls = trace(deep, Tensor(np.ones((4, 8), dtype=np.float32)))
    assert [call.activation_bytes for call in calls] == [128] * 12 + [0]

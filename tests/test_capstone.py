"""Package tests for tinytorch.capstone (generated from source/20_capstone).

Timings run on a fake clock that the models themselves move forward (a layer "costs" a known number of fake
seconds), so the tests check which variant the report calls faster, the ratios and the table, never the speed
of this machine. Quality and size are checked against values computed by hand.
"""

import copy

import numpy as np
import pytest

import tinytorch  # noqa: F401  (turns autograd on)
from tests.errors import error_message
from tinytorch.capstone import (
    Cache,
    CapstoneReport,
    Classification,
    Fuse,
    LanguageModelling,
    Prune,
    Quantize,
    Variant,
    apply_optimisations,
    capstone_report,
    masked_fine_tune,
    model_bytes,
    weight_sparsity,
)
from tinytorch.core.activations import GELU
from tinytorch.core.layers import Linear, Module, Sequential
from tinytorch.core.tensor import Tensor
from tinytorch.core.transformers import GPT
from tinytorch.perf.memoization import generate_cached
from tinytorch.perf.quantization import QuantizedLinear


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


CLOCK = FakeClock()


def tick(seconds):
    CLOCK.now += seconds


class Cost(Module):
    """The identity that takes `seconds` on the fake clock; quantization and copies keep it (no parameters)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        tick(self.seconds)
        return x


def classifier(cost=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(Cost(cost), Linear(4, 8, rng=rng), GELU(), Linear(8, 3, rng=rng))


def data(seed=1, n=30):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, rng.integers(0, 3, size=n)


def tiny_gpt():
    return GPT(vocab_size=12, context_length=8, embed_dim=8, num_heads=2, num_layers=1, rng=0)


def test_classification_quality_is_the_accuracy_of_the_argmax():
    x, y = data()
    model = classifier()
    logits = model(Tensor(x)).data
    assert Classification(x, y).quality(model) == pytest.approx(np.mean(logits.argmax(1) == y))
    perfect = Classification(x, logits.argmax(1))
    assert perfect.quality(model) == 1.0


def test_quality_leaves_the_training_mode_and_makes_no_graph():
    x, y = data()
    model = classifier()
    Classification(x, y).quality(model)
    assert model.training
    model.eval()
    Classification(x, y).quality(model)
    assert not model.training


def test_language_modelling_quality_is_the_next_token_cross_entropy():
    model = tiny_gpt()
    ids = np.random.default_rng(0).integers(0, 12, size=(3, 6))
    logits = model(ids[:, :-1]).data.astype(np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, ids[:, 1:, None], axis=-1).mean()
    assert LanguageModelling(ids, ids[:1, :2]).quality(model) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("make", [
    lambda: Classification(np.zeros((3, 2)), np.zeros(4, dtype=int)),
    lambda: Classification(np.zeros((3, 2)), np.zeros(3)),
    lambda: LanguageModelling(np.zeros((2, 1), dtype=int), [[1]]),
    lambda: LanguageModelling(np.zeros((2, 4), dtype=int), [[1]], new_tokens=0),
])
def test_tasks_refuse_bad_data_and_say_what_they_got(make):
    assert "got" in error_message(ValueError, make)


def test_model_bytes_counts_float_parameters_and_int8_weights():
    x, _ = data()
    model = classifier()
    assert model_bytes(model) == 4 * (4 * 8 + 8 + 8 * 3 + 3)
    quantized = Quantize([Tensor(x)])(Variant("baseline", model)).model
    layers = [m for _, m in quantized.named_modules() if isinstance(m, QuantizedLinear)]
    assert len(layers) == 2
    expected = sum(layer.weight.values.nbytes + layer.weight.scale.nbytes + layer.weight.zero_point.nbytes
                   + layer.bias.nbytes for layer in layers)
    assert model_bytes(quantized) == expected < model_bytes(model)


def test_weight_sparsity_counts_zero_weights_float_and_int8():
    x, _ = data()
    model = classifier()
    assert weight_sparsity(model) == 0.0
    pruned = Prune(0.5)(Variant("baseline", model))
    assert weight_sparsity(pruned.model) == pytest.approx(0.5, abs=0.02)
    quantized = Quantize([Tensor(x)])(pruned)
    assert weight_sparsity(quantized.model) == pytest.approx(weight_sparsity(pruned.model))


def test_optimisations_make_new_variants_and_leave_the_baseline_alone():
    x, y = data()
    model = classifier()
    before = copy.deepcopy([p.data for p in model.parameters()])
    baseline = Variant("baseline", model)
    for optimisation in (Quantize([Tensor(x)]), Prune(0.5), Fuse(), Prune(0.5, masked_fine_tune(Classification(x, y).loss, 3))):
        assert optimisation(baseline).model is not model
    for param, saved in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(param.data, saved)


def test_pruning_fine_tune_keeps_pruned_weights_at_zero_and_lowers_the_loss():
    x, y = data()
    task = Classification(x, y)
    model = classifier()
    untuned = Prune(0.5)(Variant("baseline", model)).model
    tuned = Prune(0.5, masked_fine_tune(task.loss, steps=30, lr=0.1))(Variant("baseline", model)).model
    assert weight_sparsity(tuned) == weight_sparsity(untuned)
    weights = [(a.data, b.data) for a, b in zip(untuned.parameters(), tuned.parameters(), strict=True) if a.ndim == 2]
    assert len(weights) == 2
    for pruned, fine_tuned in weights:
        assert np.all(fine_tuned[pruned == 0] == 0), "fine-tuning must keep the pruned weights at zero"
    assert float(task.loss(tuned).data) < float(task.loss(untuned).data)


def test_fuse_gives_the_same_outputs_and_chains_name_their_steps():
    x, _ = data()
    model = classifier()
    fused = apply_optimisations(Variant("baseline", model), (Fuse(), Prune(0.25)))
    assert fused.name == "fused + pruned 25%"
    plain = Fuse()(Variant("baseline", model)).model
    np.testing.assert_allclose(plain(Tensor(x)).data, model(Tensor(x)).data, rtol=1e-5, atol=1e-6)


def test_cache_generates_the_same_tokens_with_generate_cached():
    model = tiny_gpt()
    prompt = np.array([[1, 2, 3]])
    cached = Cache()(Variant("baseline", model))
    assert cached.name == "kv-cache" and cached.model is model
    np.testing.assert_array_equal(cached.generate(model, prompt, 4, rng=3), model.generate(prompt, 4, rng=3))
    np.testing.assert_array_equal(cached.generate(model, prompt, 4, rng=3), generate_cached(model, prompt, 4, rng=3))


@pytest.mark.parametrize("optimisation", [(), 3, (Fuse(), "int8")])
def test_apply_optimisations_refuses_what_is_not_an_optimisation(optimisation):
    assert "got" in error_message(TypeError, lambda: apply_optimisations(Variant("baseline", classifier()), optimisation))


def test_an_optimisation_must_return_a_variant():
    message = error_message(TypeError, lambda: apply_optimisations(Variant("baseline", classifier()), lambda v: v.model))
    assert "not a Variant" in message


class Slower:
    """An optimisation that makes the model `factor` times as slow on the fake clock (a test double)."""

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, variant):
        model = copy.deepcopy(variant.model)
        model.layers[0].seconds *= self.factor
        return variant.derive(f"x{self.factor}", model)


def test_the_report_measures_every_variant_against_the_baseline_on_the_clock():
    x, y = data()
    report = capstone_report(classifier(cost=2e-3), [Slower(0.5), Slower(3), Quantize([Tensor(x)])],
                             Classification(x, y), warmup=1, repeats=6, clock=CLOCK)
    assert isinstance(report, CapstoneReport)
    assert [r.name for r in report.rows] == ["baseline", "x0.5", "x3", "int8"]
    base, fast, slow, int8 = report.rows
    assert base.versus_baseline is None and base.verdict == "baseline"
    assert base.latency.median == pytest.approx(2e-3)
    assert fast.latency.median == pytest.approx(1e-3) and slow.latency.median == pytest.approx(6e-3)
    assert fast.versus_baseline.ratio == pytest.approx(0.5)
    assert fast.versus_baseline.low == pytest.approx(0.5) and slow.versus_baseline.high == pytest.approx(3.0)
    assert int8.weight_bytes < base.weight_bytes
    assert base.quality == pytest.approx(Classification(x, y).quality(classifier()))
    assert all(r.generation is None and r.tokens_per_second is None for r in report.rows)
    assert report.settings["repeats"] == 6 and report.settings["clock"] == "FakeClock"


def test_verdicts_take_sides_only_when_the_interval_excludes_one():
    x, y = data()
    report = capstone_report(classifier(cost=2e-3), [Slower(0.5), Slower(3), Slower(1)], Classification(x, y),
                             repeats=6, clock=CLOCK)
    fast, slow, same = report.rows[1:]
    assert fast.versus_baseline.high < 1 and fast.verdict == "faster"
    assert slow.versus_baseline.low > 1 and slow.verdict == "slower"
    assert same.versus_baseline.low <= 1 <= same.versus_baseline.high and same.verdict == "undecided"


class TickingClock:
    """Moves 1 ms each time it is read, so every timed call takes exactly 1 ms."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1e-3
        return self.now


def test_language_report_measures_generation_speed():
    model = tiny_gpt()
    ids = np.random.default_rng(0).integers(0, 12, size=(2, 7))
    task = LanguageModelling(ids, ids[:, :3], new_tokens=4)
    report = capstone_report(model, [Cache()], task, warmup=0, repeats=3, clock=TickingClock())
    base, cached = report.rows
    assert base.quality == cached.quality == pytest.approx(task.quality(model))
    assert base.tokens == cached.tokens == 2 * 4
    assert base.generation.times.shape == (3,)
    assert base.generation.median == pytest.approx(1e-3)
    assert base.tokens_per_second == pytest.approx(8 / 1e-3)
    assert base.generation_versus_baseline is None
    assert cached.generation_versus_baseline.ratio == pytest.approx(1.0)
    assert cached.generation is cached.generation_versus_baseline.a
    assert report.table().splitlines()[3].endswith("| 1.00 (1.00-1.00) undecided |")


def test_table_has_a_line_per_variant_with_its_numbers():
    x, y = data()
    report = capstone_report(classifier(cost=2e-3), [Slower(3)], Classification(x, y), repeats=4, clock=CLOCK)
    lines = report.table().splitlines()
    assert len(lines) == 4 and "accuracy" in lines[0] and "95% interval" in lines[0]
    assert lines[2].endswith("| - | - |"), "no generation for a classifier"
    assert lines[2].startswith("| baseline |") and "| 2.000 (2.000-2.000) |" in lines[2]
    assert lines[3].startswith("| x3 |") and "| 3.00 (3.00-3.00) |" in lines[3]
    assert report.row("x3") is report.rows[1]
    assert "x3" in error_message(KeyError, lambda: report.row("missing"))


def test_variants_need_distinct_names():
    x, y = data()
    message = error_message(ValueError, lambda: capstone_report(classifier(), [Fuse(), Fuse()],
                                                                 Classification(x, y), repeats=2, clock=CLOCK))
    assert "fused" in message


def test_plot_draws_three_panels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = data()
    report = capstone_report(classifier(cost=2e-3), [Slower(3)], Classification(x, y), repeats=3, clock=CLOCK)
    figure = report.plot()
    assert len(figure.axes) == 3
    assert [bar.get_width() for bar in figure.axes[0].patches] == pytest.approx([3.0, 1.0])
    plt.close(figure)


def test_save_writes_json_with_every_run_and_a_plot(tmp_path):
    import json

    import matplotlib

    matplotlib.use("Agg")
    x, y = data()
    report = capstone_report(classifier(cost=2e-3), [Slower(3)], Classification(x, y), repeats=3, clock=CLOCK)
    path = report.save(tmp_path / "capstone.json")
    record = json.loads(path.read_text())
    assert record["schema"] == "tinytorch.capstone/1" and record["quality_name"] == "accuracy"
    assert [v["name"] for v in record["variants"]] == ["baseline", "x3"]
    base, slow = record["variants"]
    assert base["latency"]["times"] == pytest.approx([2e-3] * 3) and base["versus_baseline"] is None
    assert slow["versus_baseline"]["ratio"] == pytest.approx(3.0) and slow["versus_baseline"]["verdict"] == "slower"
    assert record["settings"]["repeats"] == 3 and "numpy" in record["environment"]
    assert (tmp_path / "capstone.png").stat().st_size > 0


def test_a_gpt_can_be_pruned_and_fine_tuned_but_not_fused():
    model = tiny_gpt()
    ids = np.random.default_rng(0).integers(0, 12, size=(2, 7))
    task = LanguageModelling(ids, ids[:, :2])
    pruned = Prune(0.5, masked_fine_tune(task.loss, steps=2, lr=0.01))(Variant("baseline", model))
    assert weight_sparsity(pruned.model) == pytest.approx(0.5, abs=0.02) and weight_sparsity(model) == 0.0
    assert "GPT" in error_message(TypeError, lambda: Fuse()(Variant("baseline", model)))


def test_each_row_keeps_its_variant_and_the_baseline_is_profiled():
    from tinytorch.perf.profiling import count_parameters

    x, y = data()
    model = classifier(cost=2e-3)
    report = capstone_report(model, [Slower(3), Quantize([Tensor(x)])], Classification(x, y), repeats=3, clock=CLOCK)
    base, slow, int8 = report.rows
    assert base.variant.model is model and base.name == base.variant.name == "baseline"
    assert slow.variant.model.layers[0].seconds == pytest.approx(6e-3)
    assert any(isinstance(layer, QuantizedLinear) for _, layer in int8.variant.model.named_modules())
    assert report.profile.parameters == count_parameters(model)
    assert [layer.kind for layer in report.profile.layers if layer.parameters] == ["Linear", "Linear"]
    record = report.to_dict()["profile"]
    assert record["parameters"] == count_parameters(model) and record["flops"] == report.profile.flops > 0
    assert [layer["name"] for layer in record["layers"]] == [layer.name for layer in report.profile.layers]
    unprofiled = capstone_report(model, [Slower(3)], Classification(x, y), repeats=3, clock=CLOCK, profile=False)
    assert unprofiled.profile is None and unprofiled.to_dict()["profile"] is None

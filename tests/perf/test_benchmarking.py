"""Package tests for tinytorch.perf.benchmarking (generated from source/19_benchmarking).

Every timing here runs on a fake clock, so the tests check the harness's arithmetic and order, never the speed
of this machine: the statistics of known samples, A and B in turns, verdicts only when the interval excludes 1,
the clock asked for, and a JSON report that round-trips and refuses damage.
"""

import json

import numpy as np
import pytest

import tinytorch  # noqa: F401  (turns autograd on)
from tinytorch.perf.benchmarking import (
    CLOCKS,
    ENVIRONMENT_KEYS,
    SCHEMA,
    Comparison,
    Measurement,
    benchmark,
    compare,
    environment,
    interleaved,
    load_report,
    ratio_interval,
    run_suite,
    save_report,
)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def test_outliers_use_both_tukey_fences_and_stay_in_the_record():
    m = Measurement([0.0, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 12.0], name="m")
    q1, q3 = np.percentile(m.times, [25, 75])
    expected = (m.times < q1 - 1.5 * (q3 - q1)) | (m.times > q3 + 1.5 * (q3 - q1))
    assert m.outliers.tolist() == expected.tolist() == [True] + [False] * 10 + [True]
    kept = m.summary(drop_outliers=True)
    assert (kept["runs"], kept["outliers"], kept["min"], kept["max"]) == (10, 2, 5.0, 7.0)
    assert m.summary()["runs"] == 12 and len(m.times) == 12
    assert m.to_dict()["outliers"] == [0, 11]


def test_a_value_on_a_fence_is_not_an_outlier():
    assert not Measurement([2.0] * 5 + [4.0] * 5 + [7.0]).outliers.any()
    assert Measurement([2.0] * 5 + [4.0] * 5 + [7.001]).outliers[-1]


@pytest.mark.parametrize("times", [[], [[1.0, 2.0]], [1.0, float("nan")]])
def test_a_measurement_needs_finite_times(times):
    with pytest.raises(ValueError, match="finite times"):
        Measurement(times, name="bad")


def test_benchmark_warms_up_untimed_and_records_the_clock_asked_for():
    fake, calls = FakeClock(), []

    def step():
        calls.append(1)
        fake.advance(9.0 if len(calls) <= 3 else 1.0)

    m = benchmark(step, warmup=3, repeats=4, clock=fake)
    assert len(calls) == 7 and m.times.tolist() == [1.0] * 4
    assert (m.name, m.clock) == ("step", "FakeClock")
    with pytest.raises(ValueError, match="clock='gpu'"):
        benchmark(step, clock="gpu")


def test_wall_and_cpu_clocks_are_looked_up_when_called(monkeypatch):
    wall, cpu = FakeClock(), FakeClock()
    monkeypatch.setitem(CLOCKS, "wall", wall)
    monkeypatch.setitem(CLOCKS, "cpu", cpu)

    def work():
        wall.advance(3.0)
        cpu.advance(1.0)

    assert benchmark(work, 0, 2, clock="cpu").times.tolist() == [1.0, 1.0]
    assert benchmark(work, 0, 2).times.tolist() == [3.0, 3.0]
    a, b = interleaved(work, work, 0, 2, clock="cpu")
    assert a.times.tolist() == b.times.tolist() == [1.0, 1.0]


def test_interleaved_runs_a_and_b_in_turns_and_pairs_their_runs():
    fake, order = FakeClock(), []

    def run(label, seconds):
        order.append(label)
        fake.advance(seconds * len(order))

    a, b = interleaved(lambda: run("A", 1.0), lambda: run("B", 10.0), warmup=2, repeats=3, clock=fake)
    assert "".join(order) == "AB" * 5
    assert a.times.tolist() == [5.0, 7.0, 9.0] and b.times.tolist() == [60.0, 80.0, 100.0]


def test_ratio_interval_is_the_seeded_paired_bootstrap():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(1, 2, 12), rng.uniform(1, 2, 12)
    picks = np.random.default_rng(4).integers(0, 12, size=(300, 12))
    ratios = np.median(a[picks], axis=1) / np.median(b[picks], axis=1)
    expected = (np.median(a) / np.median(b), *np.quantile(ratios, [0.05, 0.95]))
    np.testing.assert_allclose(ratio_interval(a, b, confidence=0.9, resamples=300, seed=4), expected, rtol=1e-12)


@pytest.mark.parametrize("arguments, message", [
    (([1.0, 2.0], [1.0]), r"\(2,\) and \(1,\)"),
    (([1.0, 2.0], [1.0, 0.0]), "B's smallest is 0.0"),
    (([1.0, 2.0], [1.0, 2.0], 1.0), "confidence=1.0"),
])
def test_ratio_interval_refuses_bad_input(arguments, message):
    with pytest.raises(ValueError, match=message):
        ratio_interval(*arguments)


@pytest.mark.parametrize("scale, verdict", [(1.3, "A faster"), (1 / 1.3, "B faster"), (1.0, "undecided")])
def test_compare_names_a_winner_only_when_the_interval_excludes_one(scale, verdict):
    noise = np.random.default_rng(1)
    durations_a = iter(0.01 * (1 + 0.05 * noise.standard_normal(30)))
    durations_b = iter(scale * 0.01 * (1 + 0.05 * noise.standard_normal(30)))
    fake = FakeClock()
    result = compare(lambda: fake.advance(next(durations_a)), lambda: fake.advance(next(durations_b)),
                     warmup=0, repeats=30, clock=fake)
    assert result.verdict == verdict, str(result)
    assert result.low <= result.ratio <= result.high
    if verdict == "undecided":
        assert result.low < 1 < result.high


def test_an_interval_touching_one_is_undecided():
    m = Measurement([1.0])
    assert Comparison(m, m, 0.9, 0.8, 1.0, 0.95).verdict == "undecided"
    assert Comparison(m, m, 1.1, 1.0, 1.2, 0.95).verdict == "undecided"


def test_environment_records_the_machine():
    env = environment()
    assert tuple(env) == ENVIRONMENT_KEYS
    assert env["numpy"] == np.__version__ and 1 <= env["usable_cpus"] <= env["cpu_count"]
    json.dumps(env)  # JSON-ready


def _saved(tmp_path):
    path = tmp_path / "report.json"
    report = {"environment": environment(), "settings": {"repeats": 3},
              "measurements": [Measurement([0.1, 0.2, 0.3, 2.0], name="x", clock="cpu"), Measurement([1.0], name="y")]}
    save_report(report, path)
    return path, report


def test_report_round_trips_every_run(tmp_path):
    path, report = _saved(tmp_path)
    back = load_report(path)
    assert back["schema"] == SCHEMA and back["settings"] == {"repeats": 3}
    assert [(m.name, m.clock, m.times.tolist()) for m in back["measurements"]] == \
        [(m.name, m.clock, m.times.tolist()) for m in report["measurements"]]
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize("damage, message", [
    (lambda r: r.update(schema="x"), "schema"),
    (lambda r: r["environment"].pop("cpu"), "cpu"),
    (lambda r: r.update(measurements=None), "'measurements' must be a list"),
    (lambda r: r["measurements"][0].update(times=[]), "measurement 0"),
    (lambda r: r["measurements"][0]["summary"].update(median=0.5), "summary"),
    (lambda r: r["measurements"][0].update(outliers=[]), "outliers"),
])
def test_a_damaged_report_is_refused(tmp_path, damage, message):
    path, _ = _saved(tmp_path)
    record = json.loads(path.read_text())
    damage(record)
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=message):
        load_report(path)


def test_a_truncated_report_is_refused(tmp_path):
    path, _ = _saved(tmp_path)
    path.write_text(path.read_text()[:20])
    with pytest.raises(ValueError, match="invalid JSON"):
        load_report(path)


def test_the_suite_records_every_entry_with_each_clock(tmp_path):
    report = run_suite(tmp_path / "suite.json", warmup=0, repeats=1, clocks=("wall", "cpu"))
    names = ["mlp-step", "cnn-step", "gpt-step", "generation"]
    assert [(m.name, m.clock) for m in report["measurements"]] == [(n, c) for n in names for c in ("wall", "cpu")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["suite.json", "suite.png"]
    assert len(load_report(tmp_path / "suite.json")["measurements"]) == 8

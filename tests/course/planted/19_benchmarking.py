"""Planted bugs for module 19: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # Only slow runs are flagged: a run far below the lower quartile (a cached, skipped call) goes unnoticed.
    bug("only-upper-fence", "measurement",
        "return (self.times < low) | (self.times > high)", "return self.times > high",
        "integration-statistics"),
    # Runs on a fence count as outliers: with no spread at all, every run is flagged and dropped.
    bug("inclusive-fences", "measurement",
        "(self.times < low) | (self.times > high)", "(self.times <= low) | (self.times >= high)",
        "integration-statistics"),
    # A named clock is ignored: 'cpu' is timed on the wall clock (only a clock function is honoured).
    bug("named-clock-ignored", "benchmark",
        "clock_name, timer = _clock(clock)",
        "clock_name, timer = _clock(clock)[0], (clock if callable(clock) else CLOCKS['wall'])",
        "integration-clocks"),
    # The warm-up runs all of A, then all of B: the first timed A follows a B, not its own warm-up.
    bug("warmup-in-blocks", "interleaved",
        "for _ in range(warmup):\n        function_a()\n        function_b()",
        "for _ in range(warmup):\n        function_a()\n    for _ in range(warmup):\n        function_b()",
        "integration-interleaving"),
    # A and B are resampled independently: the pairs are broken, so drift no longer cancels in the ratio.
    bug("pairs-broken", "ratio-interval",
        "np.median(b[picks], axis=1)", "np.median(b[rng.integers(0, a.size, size=(resamples, a.size))], axis=1)",
        "integration-verdicts"),
    # The confidence is ignored: always a 95% interval.
    bug("confidence-ignored", "ratio-interval",
        "tail = (1 - confidence) / 2", "tail = 0.025",
        "integration-verdicts"),
    # The verdict follows the ratio alone: noise below 1 is crowned "A faster".
    bug("verdict-from-ratio", "compare",
        "if self.high < 1:", "if self.ratio < 1:",
        "integration-verdicts"),
    # A report's outliers are only checked to be a list, so a hidden outlier loads.
    bug("outliers-unchecked", "report",
        'if item.get("outliers") != expected["outliers"]:', 'if not isinstance(item.get("outliers"), list):',
        "integration-report"),
    # The environment is only checked to be an object: a report without the NumPy version loads.
    bug("environment-keys-unchecked", "report",
        "if not isinstance(environment_record, dict) or not set(ENVIRONMENT_KEYS) <= set(environment_record):",
        "if not isinstance(environment_record, dict):",
        "integration-report"),
    # Each entry is built again for every clock: the clocks time different models.
    bug("rebuilt-per-clock", "suite",
        "step = build(seed)\n        measurements += [benchmark(step,", "measurements += [benchmark(build(seed),",
        "integration-suite"),
    # The plot is written as suite.json.png, not beside the report as suite.png.
    bug("plot-misnamed", "suite",
        'f"{os.path.splitext(path)[0]}.png"', 'f"{path}.png"',
        "integration-suite"),
]

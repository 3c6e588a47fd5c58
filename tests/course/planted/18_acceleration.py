"""Planted bugs for module 18: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # The weight's gradient written for 2-d inputs only: batched and 1-d inputs break.
    bug("weight-gradient-for-2d-inputs-only", "linear-gelu-backward",
        "x.reshape(-1, x.shape[-1]).T @ rows", "x.T @ g",
        "integration-fused-equals-chain"),
    # The formula written out with a NumPy float64 constant: under NumPy 2's promotion rules a float32 layer now
    # returns float64.
    bug("float64-constant-in-the-forward", "linear-gelu",
        "    out = z * z\n    out *= z\n    out *= _GELU_A\n    out += z\n    out *= _GELU_C\n    np.tanh(out, out=out)\n"
        "    out += 1\n    out *= z\n    out *= 0.5\n",
        "    out = 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))\n",
        "integration-fused-equals-chain"),
    # The output sized from a's leading dimensions only: b's batch is lost.
    bug("batch-of-a-only", "blocked-matmul",
        "out = np.zeros(batch + (rows, columns), dtype=np.result_type(a, b))",
        "out = np.zeros(a.shape[:-2] + (rows, columns), dtype=np.result_type(a, b))",
        "integration-blocked-matmul"),
    # The dtype of a, not of the product: float32 @ float64 rounds to float32.
    bug("dtype-of-a", "blocked-matmul",
        "dtype=np.result_type(a, b))", "dtype=a.dtype)",
        "integration-blocked-matmul"),
    # Bytes counted for one input whatever `inputs` says.
    bug("elementwise-bytes-for-one-input", "roofline",
        "(inputs + 1) * size * itemsize", "2 * size * itemsize",
        "integration-roofline-arithmetic"),
    # The mean time instead of the median: one slow run moves the peak.
    bug("peak-from-the-mean", "roofline",
        "seconds = measure_latency(_matmul_workload(size), warmup=1, repeats=repeats, timer=timer).median",
        "seconds = measure_latency(_matmul_workload(size), warmup=1, repeats=repeats, timer=timer).times.mean()",
        "integration-roofline-arithmetic"),
    # The warm-up argument ignored.
    bug("speedup-ignores-warmup", "speedup",
        "slow = measure_latency(baseline, warmup=warmup,", "slow = measure_latency(baseline, warmup=1,",
        "integration-roofline-arithmetic"),
    # A Linear without bias: None handed to the op, which turns it into a Tensor.
    bug("bias-none-passed-to-the-op", "fused-layer",
        "        if self.bias is None:\n            return linear_gelu(x, self.weight)\n", "",
        "integration-fused-mlp-swap"),
]

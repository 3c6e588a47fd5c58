"""Planted bugs for module 08: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # Counting batches: an extra, empty batch when batch_size divides N.
    bug("len-extra-batch-when-divisible", "dataloader",
        "return -(-n // self.batch_size)", "return n // self.batch_size + 1",
        "integration-trains-digits", "integration-partial-batches"),
    bug("drop-last-one-batch-short", "dataloader",
        "return n // self.batch_size", "return (n - 1) // self.batch_size",
        "integration-partial-batches"),
    # Shuffling from NumPy's global state: not reproducible from a seed, disturbs other code.
    bug("shuffle-from-global-state", "dataloader",
        "order = self.rng.permutation(n) if self.shuffle else np.arange(n)",
        "order = np.random.permutation(n) if self.shuffle else np.arange(n)",
        "integration-epochs-seeded", "integration-batched-indexing"),
    # A Python loop over samples even for array-backed datasets.
    bug("per-sample-indexing-everywhere", "dataloader",
        "if isinstance(self.dataset, TensorDataset):", "if False:",
        "integration-batched-indexing"),
    # Transforms: one random choice for the whole batch instead of one per image.
    bug("flip-one-coin-per-batch", "transforms",
        "flip = rng.random(len(images)) < p", "flip = np.full(len(images), rng.random() < p)",
        "integration-transforms-aligned"),
    bug("crop-one-position-per-batch", "transforms",
        "top = rng.integers(0, height + 2 * padding - size + 1, size=n)",
        "top = rng.integers(0, height + 2 * padding - size + 1, size=1)",
        "integration-transforms-aligned"),
    bug("normalize-in-place", "transforms",
        "    return ((batch - mean) / std).astype(np.float32)\n",
        "    batch -= mean\n    batch /= std\n    return batch.astype(np.float32)\n",
        "integration-transforms-aligned"),
]

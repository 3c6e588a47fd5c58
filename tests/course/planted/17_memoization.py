"""Planted bugs for module 17: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # reset() empties only the first layer: harmless with one layer, an overflow as soon as a deeper cache is reused.
    bug("reset-only-first-layer", "kv-cache",
        "self.lengths[:] = 0", "self.lengths[0] = 0",
        "integration-cached-equals-uncached", "integration-cache-reset-and-memory", "integration-model-unchanged"),
    # The cache is always float32, whatever dtype it is given (or the model has).
    bug("cache-always-float32", "kv-cache",
        "self.keys = np.zeros(shape, dtype=dtype)\n        self.values = np.zeros(shape, dtype=dtype)",
        "self.keys = np.zeros(shape, dtype=np.float32)\n        self.values = np.zeros(shape, dtype=np.float32)",
        "integration-cached-logits", "integration-cache-reset-and-memory"),
    # The mask of several new positions ignores the ones already cached (right only for a prefill into an empty cache).
    bug("chunk-mask-not-offset", "cached-attention",
        "k=total - new)", "k=0)",
        "integration-cached-logits"),
    # The cache is never refilled past the context, so the cached forward refuses the next id.
    bug("never-refill-past-context", "generate-cached",
        "if cache.length in (0, context):", "if cache.length == 0:",
        "integration-cached-equals-uncached", "integration-model-unchanged"),
    # top_k is not passed on to the sampling function.
    bug("top-k-dropped", "generate-cached",
        "sample_next_token(logits, temperature, top_k, generator)", "sample_next_token(logits, temperature, None, generator)",
        "integration-cached-equals-uncached", "integration-model-unchanged"),
    # The model is left in evaluation mode after generating.
    bug("mode-not-restored", "generate-cached",
        "model.train(was_training)", "model.eval()",
        "integration-model-unchanged"),
]

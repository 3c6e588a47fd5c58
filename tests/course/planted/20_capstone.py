"""Planted bugs for module 20: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # Accuracy from the model as it is: in training mode Dropout drops, so the accuracy changes with every call.
    bug("accuracy-in-training-mode", "tasks",
        "logits = inference(model, Tensor(self.inputs)).data", "logits = model(Tensor(self.inputs)).data",
        "integration-tasks"),
    # The same for the validation loss: a GPT with dropout is measured with dropout on.
    bug("loss-in-training-mode", "tasks",
        "self._next_token_loss(inference(model, self.ids[:, :-1]))", "self._next_token_loss(model(self.ids[:, :-1]))",
        "integration-tasks"),
    # Every quantized layer is assumed to have a bias: a Linear(bias=False) breaks model_bytes.
    bug("bias-assumed", "variants",
        "module.weight.nbytes + (0 if module.bias is None else module.bias.nbytes)",
        "module.weight.nbytes + module.bias.nbytes",
        "integration-bytes"),
    # Every row reports the baseline's quality: a pruned variant seems as accurate as the model it came from.
    bug("quality-of-the-baseline", "report",
        "task.quality(variant.model)", "task.quality(model)",
        "integration-report", "integration-remeasure"),
    # Every row reports the baseline's sparsity: pruning seems to have done nothing.
    bug("sparsity-of-the-baseline", "report",
        "weight_sparsity(variant.model)", "weight_sparsity(model)",
        "integration-report", "integration-remeasure"),
    # The baseline is timed with the harness's default warm-up and repeats, not the ones asked for (its forward
    # pass and its generation alike).
    bug("baseline-repeats-ignored", "report",
        "benchmark(work, warmup, repeats, clock, name=variant.name)",
        "benchmark(work, clock=clock, name=variant.name)",
        "integration-report", "integration-generation"),
    # The interval is always a 95% one, whatever confidence was asked for.
    bug("confidence-ignored", "report",
        "compare(work, baseline_work, warmup, repeats, clock, confidence, seed=seed)",
        "compare(work, baseline_work, warmup, repeats, clock, seed=seed)",
        "integration-report"),
    # A variant's generation is compared with its own generation: the ratio is always about 1.
    bug("generation-versus-itself", "report",
        "variant, generate, task.generation(baseline))",
        "variant, generate, task.generation(variant))",
        "integration-generation"),
    # A variant's generation is compared with the baseline's forward pass instead of its generation.
    bug("generation-versus-forward", "report",
        "variant, generate, task.generation(baseline))",
        "variant, generate, task.workload(baseline))",
        "integration-generation"),
]

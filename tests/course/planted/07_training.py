"""Planted bugs for module 07: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    bug("trainer-forgets-zero-grad", "trainer",
        "self.optimizer.zero_grad()", "pass",
        "integration-trainer-matches-manual-loop", "integration-checkpoint-resume"),
    bug("loss-scaled-by-batch-size", "trainer",
        "loss.backward()", "(loss * len(inputs)).backward()",
        "integration-trainer-matches-manual-loop", "integration-batch-average"),
    bug("scheduler-never-stepped", "trainer",
        "self.scheduler.step()", "self.scheduler.step",
        "integration-xor-solved", "integration-train-step-order"),
    bug("checkpoint-skips-optimizer-state", "checkpoints",
        'optimizer.load_state_dict(state["optimizer"])', "pass",
        "integration-checkpoint-resume", "integration-checkpoint-safety"),
    # Saves the parameters only: a model with buffers (running statistics) cannot be restored.
    bug("checkpoint-saves-only-parameters", "checkpoints",
        '"model": model.state_dict()', '"model": {name: param.data for name, param in model.named_parameters()}',
        "integration-checkpoint-resume"),
    bug("clip-returns-post-clip-norm", "clip-grad-norm",
        "return total_norm", "return min(total_norm, max_norm)",
        "integration-clip-and-schedule-values"),
    # Order of the steps in one update.
    bug("clip-after-optimizer-step", "trainer",
        "        if self.clip_norm is not None:\n            clip_grad_norm(self.model.parameters(), self.clip_norm)\n"
        "        self.optimizer.step()\n",
        "        self.optimizer.step()\n"
        "        if self.clip_norm is not None:\n            clip_grad_norm(self.model.parameters(), self.clip_norm)\n",
        "integration-train-step-order"),
    bug("scheduler-before-optimizer-step", "trainer",
        "        self.optimizer.step()\n        if self.scheduler is not None:\n            self.scheduler.step()\n",
        "        if self.scheduler is not None:\n            self.scheduler.step()\n        self.optimizer.step()\n",
        "integration-train-step-order"),
    # Train and eval modes.
    bug("evaluate-leaves-dropout-on", "trainer",
        "        self.model.eval()\n", "",
        "integration-modes-and-weighting"),
    bug("evaluate-forgets-the-mode", "trainer",
        "self.model.train(was_training)", "self.model.train()",
        "integration-modes-and-weighting"),
    bug("fit-without-train-mode", "trainer",
        "                self.model.train()\n", "",
        "integration-modes-and-weighting"),
    # Means over batches instead of over samples.
    bug("fit-unweighted-epoch-mean", "trainer",
        "averages.add(self.train_step(inputs, targets), len(inputs))",
        "averages.add(self.train_step(inputs, targets), 1)",
        "integration-modes-and-weighting"),
    bug("evaluate-unweighted-mean", "trainer",
        "averages.add(self._results(loss, outputs, targets), len(inputs))",
        "averages.add(self._results(loss, outputs, targets), 1)",
        "integration-trainer-matches-manual-loop", "integration-modes-and-weighting"),
    bug("evaluate-records-the-graph", "trainer",
        "            with no_grad():\n", "            if True:\n",
        "integration-trainer-matches-manual-loop"),
    bug("fit-restarts-history", "trainer",
        "        bar = _progress_bar(epochs, enabled=progress)\n",
        "        self.history = {}\n        bar = _progress_bar(epochs, enabled=progress)\n",
        "integration-trainer-matches-manual-loop", "integration-checkpoint-resume"),
    bug("progress-bar-never-advanced", "trainer",
        "                bar.update(1)\n", "",
        "integration-trainer-matches-manual-loop"),
    # Checkpoints: pickles and half-done loads.
    bug("loader-allows-pickle", "checkpoints",
        "np.load(path, allow_pickle=False)", "np.load(path, allow_pickle=True)",
        "integration-checkpoint-safety"),
    bug("load-not-all-or-nothing", "checkpoints",
        '        try:\n            optimizer.load_state_dict(state["optimizer"])\n        except Exception:\n'
        "            model.load_state_dict(model_before)  # all or nothing: put the model back as it was\n"
        "            raise\n",
        '        optimizer.load_state_dict(state["optimizer"])\n',
        "integration-checkpoint-safety"),
    # Shuffling from NumPy's global state: not reproducible from a seed, not checkpointable.
    bug("batches-ignore-the-seed", "batches",
        "order = self.rng.permutation(n)", "order = np.random.permutation(n)",
        "integration-batches-seeded", "integration-checkpoint-resume"),
    # Parameter groups: every group gets the first group's rate.
    bug("scheduler-one-rate-for-all-groups", "cosine-warmup-scheduler",
        'group["lr"] = self.lr_at(self.step_count, index)', 'group["lr"] = self.lr_at(self.step_count)',
        "integration-clip-and-schedule-values"),
]

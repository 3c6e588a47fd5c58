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
        "integration-xor-solved"),
    bug("checkpoint-skips-optimizer-state", "checkpoints",
        'optimizer.load_state_dict(state["optimizer"])', "pass",
        "integration-checkpoint-resume"),
    bug("clip-returns-post-clip-norm", "clip-grad-norm",
        "return total_norm", "return min(total_norm, max_norm)",
        "integration-clip-and-schedule-values"),
]

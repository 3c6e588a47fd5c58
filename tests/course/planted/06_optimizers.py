"""Planted bugs for module 06: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # The classic: keep the iterable as given. A generator (model.parameters() in PyTorch, or a
    # filter over it) is used up by the type check, so step() and zero_grad() later do nothing.
    bug("params-kept-as-iterator", "optimizer-base",
        "        params = list(params)\n", "",
        "integration-linear-step", "integration-regression-training"),
    bug("adam-without-bias-correction", "adam",
        "        m_hat = exp_avg / (1 - beta1 ** step)\n        v_hat = exp_avg_sq / (1 - beta2 ** step)",
        "        m_hat = exp_avg\n        v_hat = exp_avg_sq",
        "integration-linear-step", "integration-hand-computed-steps", "integration-adamw-decoupled"),
    bug("adamw-decay-as-l2", "adamw",
        "param.data -= self.lr * self.weight_decay * param.data",
        "grad = grad + self.weight_decay * param.data",
        "integration-adamw-decoupled"),
    bug("adamw-decays-parameters-without-grad", "adamw",
        "            if param.grad is None:\n                continue\n            grad = _gradient(param)\n"
        "            param.data -= self.lr * self.weight_decay * param.data",
        "            param.data -= self.lr * self.weight_decay * param.data\n"
        "            if param.grad is None:\n                continue\n            grad = _gradient(param)",
        "integration-frozen-parameters"),
    bug("state-dict-shares-arrays", "optimizer-base",
        "state[position] = {key: copy.deepcopy(value) for key, value in self.state[param].items()}",
        "state[position] = dict(self.state[param])",
        "integration-state-dict-resume"),
]

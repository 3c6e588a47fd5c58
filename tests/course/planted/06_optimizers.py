"""Planted bugs for module 06: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # The classic: keep the iterable as given. A generator (model.parameters() in PyTorch, or a
    # filter over it) cannot be indexed or walked twice, so the optimizer breaks on it.
    bug("params-kept-as-iterator", "optimizer-base",
        "        params = list(params)\n", "",
        "integration-linear-step", "integration-regression-training"),
    bug("adam-without-bias-correction", "adam",
        "        m_hat = exp_avg / (1 - beta1 ** step)\n        v_hat = exp_avg_sq / (1 - beta2 ** step)",
        "        m_hat = exp_avg\n        v_hat = exp_avg_sq",
        "integration-linear-step", "integration-hand-computed-steps", "integration-adamw-decoupled",
        "integration-frozen-parameters"),
    bug("adamw-decay-as-l2", "adamw",
        'param.data -= group["lr"] * group["weight_decay"] * param.data',
        'grad = grad + group["weight_decay"] * param.data',
        "integration-adamw-decoupled", "integration-frozen-parameters"),
    # The decay before the `grad is None` check (and before `_gradient`): frozen weights shrink, and a
    # gradient of the wrong shape is refused only after its weight was decayed.
    bug("adamw-decays-parameters-without-grad", "adamw",
        "                if param.grad is None:\n                    continue\n                grad = _gradient(param)\n"
        '                param.data -= group["lr"] * group["weight_decay"] * param.data',
        '                param.data -= group["lr"] * group["weight_decay"] * param.data\n'
        "                if param.grad is None:\n                    continue\n                grad = _gradient(param)",
        "integration-adamw-decoupled", "integration-frozen-parameters"),
    # One step count for the whole optimizer: a parameter that starts late is bias-corrected as if it had
    # taken every step.
    bug("adam-one-step-count-for-all", "adam",
        'step, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]',
        'step, exp_avg, exp_avg_sq = max(s["step"] for s in self.state.values()), state["exp_avg"], state["exp_avg_sq"]',
        "integration-frozen-parameters"),
    # Aliasing: the checkpoint shares the live buffers, or the loaded state shares the checkpoint's.
    bug("state-dict-shares-arrays", "optimizer-base",
        "state[positions[id(param)]] = {key: copy.deepcopy(value) for key, value in buffers.items()}",
        "state[positions[id(param)]] = dict(buffers)",
        "integration-state-dict-resume"),
    bug("load-state-dict-shares-arrays", "optimizer-base",
        "params[position]: {key: copy.deepcopy(value) for key, value in saved.items()}",
        "params[position]: dict(saved)",
        "integration-state-dict-resume"),
    # Weight decay added in place: `_gradient` returns param.grad itself for a float32 gradient.
    bug("sgd-decay-mutates-grad", "sgd",
        "grad = grad + weight_decay * param.data", "grad += weight_decay * param.data",
        "integration-caller-arrays-and-dtype"),
    # The momentum buffer *is* param.grad, so `buffer *= momentum` rewrites the caller's gradient.
    bug("momentum-buffer-aliases-grad", "sgd",
        'state["momentum_buffer"] = grad.copy()', 'state["momentum_buffer"] = grad',
        "integration-caller-arrays-and-dtype"),
    # float64 moments for float32 parameters: twice the memory, and the state no longer matches the model.
    bug("adam-state-float64", "adam",
        'state["exp_avg"] = np.zeros_like(param.data)', 'state["exp_avg"] = np.zeros(param.shape)',
        "integration-caller-arrays-and-dtype"),
    bug("sgd-accepts-zero-lr", "sgd",
        '_check_hyperparameter("lr", group["lr"], group["lr"] > 0, "> 0")',
        '_check_hyperparameter("lr", group["lr"], group["lr"] >= 0, ">= 0")',
        "integration-hyperparameter-ranges"),
    bug("rmsprop-eps-inside-sqrt", "rmsprop",
        "update = grad / (np.sqrt(square_avg) + eps)", "update = grad / np.sqrt(square_avg + eps)",
        "integration-rmsprop-steps"),
    # Parameter groups: one lr for everybody, or positions that restart in every group.
    bug("step-ignores-group-lr", "sgd",
        'lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]',
        'lr, momentum, weight_decay = self.defaults["lr"], group["momentum"], group["weight_decay"]',
        "integration-param-groups"),
    bug("group-positions-restart-at-zero", "optimizer-base",
        'saved["params"] = [positions[id(param)] for param in group["params"]]',
        'saved["params"] = list(range(len(group["params"])))',
        "integration-param-groups"),
]

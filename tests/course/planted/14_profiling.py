"""Planted bugs for module 14: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # The wrappers are removed only when the forward succeeds: a failing forward leaves them on the model.
    bug("trace-restores-only-on-success", "trace",
        "        output = model(*inputs, **kwargs)\n    finally:",
        "        output = model(*inputs, **kwargs)\n    except ZeroDivisionError:\n        raise\n    if True:",
        "integration-profiling-changes-nothing"),
    # Restoring deletes the instance attribute even when the layer had its own forward before.
    bug("trace-deletes-a-forward-it-did-not-add", "trace",
        "            if previous is None:\n                del vars(layer)[\"forward\"]\n            else:\n"
        "                vars(layer)[\"forward\"] = previous",
        "            del vars(layer)[\"forward\"]",
        "integration-profiling-changes-nothing"),
    # Each layer's time includes the layers it called: nested containers count the same time several times.
    bug("trace-times-include-children", "trace",
        "spent - inner, new_bytes", "spent, new_bytes",
        "integration-cnn-counts"),
    # A Linear's rows read from the first dimension only: right for (N, in), wrong for (B, T, E).
    bug("linear-flops-first-dimension-only", "flops",
        "rows = math.prod(input_shape[:-1])", "rows = input_shape[0] if len(input_shape) > 1 else 1",
        "integration-gpt-counts"),
    # The conv's bias adds are counted even for a conv without bias.
    bug("conv-flops-always-count-bias", "flops",
        "    if layer.bias is not None:\n        flops += outputs", "    flops += outputs",
        "integration-cnn-counts"),
    # Attention forgets the batch dimension (right for batch 1).
    bug("attention-flops-ignore-batch", "flops",
        "scores = math.prod(batch) * layer.num_heads * length * length", "scores = layer.num_heads * length * length",
        "integration-gpt-counts"),
    # Outputs recognised by id alone: a freed array's id, reused by a new array, hides the new one.
    bug("activations-by-id-alone", "trace",
        "(id(data) not in seen_outputs or seen_outputs[id(data)]() is not data)", "id(data) not in seen_outputs",
        "integration-memory"),
    # Four bytes per value assumed, whatever the dtype.
    bug("memory-assumes-float32", "memory",
        "return int(sum(param.grad.nbytes for param in model.parameters() if param.grad is not None))",
        "return int(sum(4 * param.grad.size for param in model.parameters() if param.grad is not None))",
        "integration-memory"),
    # Optimizer state assumed to be Adam's: two arrays per parameter, whatever the optimizer keeps.
    bug("optimizer-state-assumes-adam", "memory",
        "return int(sum(value.nbytes for buffers in optimizer.state.values() for value in buffers.values()\n"
        "                   if isinstance(value, np.ndarray)))",
        "return int(sum(2 * param.data.nbytes for param in optimizer.state))",
        "integration-memory"),
    # Every op call is timed, also those inside another op's forward.
    bug("op-timer-times-inner-ops", "op-timer",
        "        if self.depth:  # inside another op's forward: part of that op's time\n"
        "            return recorder(op, tensors, args, kwargs)\n",
        "",
        "integration-op-timer"),
    # The depth counter is not restored when an op raises: every later op counts as an inner one.
    bug("op-timer-depth-stuck-after-error", "op-timer",
        "        try:\n            output = recorder(op, tensors, args, kwargs)\n        finally:\n            self.depth -= 1",
        "        output = recorder(op, tensors, args, kwargs)\n        self.depth -= 1",
        "integration-op-timer"),
    # Leaving the timer switches the package's own autograd on instead of reinstalling what was there.
    bug("op-timer-exit-installs-the-default", "op-timer",
        "        install_autograd(*self.saved)\n        return False",
        "        from tinytorch.core.autograd import enable_autograd\n        enable_autograd()\n        return False",
        "integration-op-timer"),
    # The exception of the block is swallowed.
    bug("op-timer-swallows-exceptions", "op-timer",
        "        install_autograd(*self.saved)\n        return False",
        "        install_autograd(*self.saved)\n        return True",
        "integration-op-timer"),
]

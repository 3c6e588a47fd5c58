"""Planted bugs for module 15: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    # An all-zero range keeps scale 0: the zero channel of a weight cannot be quantized (division by zero).
    bug("zero-range-keeps-scale-zero", "qparams",
        "scale = np.where(empty, 1.0, scale)", "scale = scale",
        "integration-round-trip"),
    # The asymmetric range is not widened to contain 0: for [2, 5] the zero point is no int8 code.
    bug("range-not-widened-to-zero", "qparams",
        "    low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)\n", "",
        "integration-round-trip", "integration-int8-arithmetic"),
    # dequantize always returns float32: float64 weights lose their dtype.
    bug("dequantize-always-float32", "quantize",
        "centred.astype(q.dtype) * _along(q.scale, q.axis, ndim).astype(q.dtype)",
        "centred.astype(np.float32) * _along(q.scale, q.axis, ndim)",
        "integration-round-trip"),
    # Calibration leaves the model in eval mode.
    bug("calibrate-leaves-eval-mode", "calibrate",
        "        for name, module in model.named_modules():\n            module.training = modes[name]\n", "",
        "integration-calibration"),
    # Calibration in training mode: BatchNorm updates its running statistics on the calibration batches.
    bug("calibrate-in-training-mode", "calibrate",
        "    model.eval()\n", "",
        "integration-calibration"),
    # The wrappers are removed only when every batch ran: an error leaves them on the layers.
    bug("calibrate-cleans-up-only-on-success", "calibrate",
        "    finally:\n        for layer", "    except Exception:\n        raise\n    else:\n        for layer",
        "integration-calibration"),
    # The input codes clipped to the symmetric range [-127, 127]: the bottom of the calibrated range loses a step.
    bug("linear-input-codes-clipped-symmetric", "quantized-linear",
        "self.input_zero_point, self.bits, symmetric=False).values",
        "self.input_zero_point, self.bits, symmetric=True).values",
        "integration-int8-arithmetic"),
    # Pad the raw codes with 0 and centre afterwards: the padding stands for -z_x * s_x, not for real 0.
    bug("conv-pads-raw-codes", "quantized-conv",
        "columns, (out_h, out_w) = _int_columns(centred, self.kernel_size, self.stride, self.padding)",
        "columns, (out_h, out_w) = _int_columns(codes.astype(np.int32), self.kernel_size, self.stride, self.padding)\n"
        "        columns = columns - self.input_zero_point",
        "integration-int8-arithmetic", "integration-digit-models"),
    # No copy: the float model itself is quantized.
    bug("quantize-model-changes-the-float-model", "quantize-model",
        "quantized = copy.deepcopy(model)", "quantized = model",
        "integration-digit-models", "integration-nested-models"),
    # The float parameters left in the copy still require gradients: BatchNorm and LayerNorm outputs then do,
    # and the int8 layers after them refuse them outside no_grad().
    bug("quantized-copy-still-trainable", "quantize-model",
        "    for parameter in quantized.parameters():\n        parameter.requires_grad = False\n", "",
        "integration-digit-models", "integration-nested-models"),
    # Only the top-level layers of a Sequential are replaced.
    bug("only-top-level-layers", "quantize-model",
        "for name, layer in list(quantized.named_modules()):",
        "for name, layer in [(str(i), m) for i, m in enumerate(getattr(quantized, 'layers', []))]:",
        "integration-nested-models"),
]

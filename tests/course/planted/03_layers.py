"""Planted bugs for module 03: each passes the visible tests and must lose the named hidden cells."""

from tests.course.submissions import bug

BUGS = [
    bug("sequential-skips-plain-callables", "sequential-class",
        "for layer in self.layers:", "for layer in self._modules.values():",
        "integration-mlp-forward"),
    bug("named-parameters-one-level-deep", "module-class",
        'candidates += child.named_parameters(prefix + child_name + ".")',
        'candidates += [(prefix + child_name + "." + name, param) for name, param in child._parameters.items()]',
        "integration-parameter-registry", "integration-state-dict"),
    bug("state-dict-returns-views", "module-class",
        "return {name: param.data.copy() for name, param in self.named_parameters()}",
        "return {name: param.data for name, param in self.named_parameters()}",
        "integration-state-dict"),
    bug("dropout-without-rescaling", "dropout-class",
        "return x * Tensor((mask / keep).astype(x.dtype))", "return x * Tensor(mask.astype(x.dtype))",
        "integration-dropout"),
]

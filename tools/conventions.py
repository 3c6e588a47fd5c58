"""The course's conventions, in one place: the tools, the tests and nbgrader_config.py import them.

- markers in notebook cells (solutions, hidden tests);
- nbgrader's cell metadata (grade ids, solution / graded / locked cells, points);
- where the modules live (`source/NN_name/NN_name.ipynb`);
- the export directives (`#| default_exp`, `#| export`, `#| exporti`);
- the curated namespaces of the generated package (`tinytorch`, `tinytorch.nn`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "tinytorch"
# In a student bundle (tools/bundle.py): the folder of the reference package, with its own pyproject.toml.
REFERENCE_FOLDER = "tinytorch-reference"

# ---------------------------------------------------------------------------------------------
# Markers. nbgrader_config.py hands the same strings to nbgrader's ClearSolutions and
# ClearHiddenTests, so the release, the export and the feedback agree on what they mean.

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"

SOLUTION_MARKER_LINE = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
HIDDEN_BLOCK = re.compile(re.escape(HIDDEN_BEGIN) + r"\n(.*?)" + re.escape(HIDDEN_END), re.S)


def source_text(cell: dict) -> str:
    """A cell's source as one string (notebook files may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def has_hidden_tests(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and HIDDEN_BEGIN in source_text(cell)


def without_hidden_tests(text: str) -> str:
    return HIDDEN_BLOCK.sub("", text)


def hidden_test_blocks(text: str) -> list[str]:
    return HIDDEN_BLOCK.findall(text)


# ---------------------------------------------------------------------------------------------
# nbgrader cell metadata (`cell.metadata.nbgrader`), read the way nbgrader.utils reads it.


def nbgrader_metadata(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: dict) -> str | None:
    return nbgrader_metadata(cell).get("grade_id")


def is_solution(cell: dict) -> bool:
    """The learner writes this cell (the release holds a stub)."""
    return bool(nbgrader_metadata(cell).get("solution", False))


def is_graded(cell: dict) -> bool:
    """An autograded test cell, or a solution cell that is graded (an autograded or manual answer)."""
    return bool(nbgrader_metadata(cell).get("grade", False))


def is_locked(cell: dict) -> bool:
    """Read-only for the learner: graded test cells and cells marked locked (never solution cells)."""
    meta = nbgrader_metadata(cell)
    if not meta or is_solution(cell):
        return False
    return is_graded(cell) or bool(meta.get("locked", False))


def points(cell: dict) -> float:
    """The points a graded cell is worth (0 for any other cell)."""
    return float(nbgrader_metadata(cell).get("points", 0)) if is_graded(cell) else 0.0


def find_cell(notebook: dict, wanted: str) -> dict:
    for cell in notebook["cells"]:
        if grade_id(cell) == wanted:
            return cell
    raise KeyError(f"no cell with grade_id {wanted!r}")


# ---------------------------------------------------------------------------------------------
# Modules: source/NN_name/NN_name.ipynb, in course order.

MODULE_FOLDER = re.compile(r"^\d\d_[a-z0-9_]+$")


class NotebookError(ValueError):
    """A notebook that the course tooling cannot use, with the file and the reason."""


def module_notebooks(root: Path = ROOT) -> list[Path]:
    """source/NN_name/NN_name.ipynb for every module folder, in module order."""
    found = []
    for folder in sorted((Path(root) / "source").iterdir()):
        if folder.is_dir() and MODULE_FOLDER.match(folder.name):
            notebook = folder / f"{folder.name}.ipynb"
            if not notebook.exists():
                raise NotebookError(f"{folder}: expected the module notebook {notebook.name}")
            found.append(notebook)
    return found


def module_names(root: Path = ROOT) -> list[str]:
    """NN_name of every module, in course order."""
    return [path.parent.name for path in module_notebooks(root)]


def module_notebook(module: str, folder: str = "source", root: Path = ROOT) -> Path:
    """source/NN_name/NN_name.ipynb (or release/...) of one module."""
    return Path(root) / folder / module / f"{module}.ipynb"


# ---------------------------------------------------------------------------------------------
# Export directives: the first lines of a code cell.
#
#   #| default_exp core.tensor    this notebook's package module (in the setup cell)
#   #| export                     the cell goes to the default module, its names into __all__
#   #| export testing             ... to another module (tinytorch/testing.py)
#   #| exporti                    like export, but its names stay out of __all__ (internal helpers)
#   #| exporti core.tensor        ... to a named module

# The checks every module's test cells import (tinytorch/testing.py): locked course code, so students get it
# from the first module on, even while the module that exports it is still open.
TEST_HELPERS = "testing"

DIRECTIVE = re.compile(r"^#\|\s*(?P<name>[a-z_]+)(?:\s+(?P<arg>\S+))?\s*$")
DEFAULT_EXP, EXPORT, EXPORT_INTERNAL = "default_exp", "export", "exporti"
DIRECTIVES = (DEFAULT_EXP, EXPORT, EXPORT_INTERNAL)
DOTTED_MODULE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")


def split_directives(code: str) -> tuple[list[tuple[str, str | None]], str]:
    """A cell's leading `#|` directives as (name, argument) pairs, and the code after them."""
    lines = code.splitlines()
    found = []
    while lines and DIRECTIVE.match(lines[0]):
        match = DIRECTIVE.match(lines.pop(0))
        found.append((match["name"], match["arg"]))
    return found, "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The generated package's namespaces. Every module also stays importable as tinytorch.core.NAME;
# these tables decide what the curated namespaces re-export. A listed module that has no notebook
# yet is skipped, so later modules can be listed before they are written.

# `tinytorch/__init__.py` star-imports these (their __all__ is the top-level API).
TOP_LEVEL = ("core.tensor",)
# ... plus these names of other modules (grad mode and random seeding belong to the whole package,
# as in PyTorch; names listed here are left out of the nn namespaces),
TOP_LEVEL_NAMES = {
    "core.autograd": ("no_grad", "is_grad_enabled", "enable_autograd", "gradcheck"),
    "core.layers": ("manual_seed", "default_generator"),
}
# ... then imports these sub-packages (generated below),
TOP_LEVEL_SUBPACKAGES = ("nn", "optim")
# ... then these modules, only for what importing them does (they attach gradient rules to ops),
SIDE_EFFECT_MODULES = ("core.backward_rules",)
# ... and ends by switching autograd on with this function of this module.
AUTOGRAD_SWITCH = ("core.autograd", "enable_autograd")

# Public names that stay in their own module only, out of the nn namespaces: tools of a model, not layers or ops.
OWN_MODULE_ONLY = {
    "core.transformers": ("sample_next_token",),  # how GPT.generate and module 17's cached generation pick a token
}

PACKAGE_DOCSTRING = "TinyTorch: a deep-learning framework built from first principles on NumPy."
SUBPACKAGE_DOCSTRINGS = {
    "core": "The modules of the course, one per notebook (tinytorch.core.tensor, tinytorch.core.layers, ...).",
    "perf": "The systems modules of the course: measure and shrink models (tinytorch.perf.profiling, ...).",
}

NN_MODULES = (
    "core.activations", "core.layers", "core.losses",
    "core.spatial", "core.embeddings", "core.attention", "core.transformers",
)


@dataclass(frozen=True)
class Namespace:
    """A generated re-export module, e.g. `tinytorch.nn.functional`."""

    dotted: str  # below the package: "nn", "nn.functional", "optim"
    docstring: str
    sources: tuple[str, ...]  # package modules (below tinytorch) whose public names it offers
    select: str  # "classes", "functions" (every public name that is not a class) or "all"
    submodules: tuple[str, ...] = ()  # generated namespaces it imports by name, e.g. nn.functional

    @property
    def is_package(self) -> bool:
        """`nn` and `optim` are packages (tinytorch/nn/__init__.py); `nn.functional` is a module."""
        return "." not in self.dotted


NAMESPACES = (
    Namespace(
        "nn",
        "Neural-network building blocks: layers, activation and loss modules (the classes).",
        NN_MODULES, "classes", submodules=("functional",),
    ),
    Namespace(
        "nn.functional",
        "The same operations as plain functions and ops: relu(x), softmax(x, dim), mse_loss(pred, target), ...",
        NN_MODULES, "functions",
    ),
    Namespace(
        "optim",
        "Optimizers and learning-rate schedules.",
        ("core.optimizers", "core.schedules"), "all",
    ),
)

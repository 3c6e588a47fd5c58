"""Turn the export cells of the source notebooks into the `tinytorch` package.

A notebook names its package module once, in a directive line of its setup cell:

    #| default_exp core.tensor

and marks each cell whose code belongs in the package with a first line

    #| export                 (goes to the default module, tinytorch/core/tensor.py)
    #| export testing         (goes to another module, here tinytorch/testing.py)
    #| exporti                (like export, but the cell's names stay out of __all__)
    #| exporti core.tensor    (an internal helper for another module)

Exported code keeps the instructor's solution with the `### BEGIN/END SOLUTION` marker
lines removed. Each generated file starts with a header naming its notebooks, then the
module docstring (when the module's first exported cell starts with one), then `__all__`
(the public names of its `export` cells), then the code.

The package's own namespaces come from the table in tools/conventions.py:
`tinytorch/__init__.py` (the top-level API, then autograd switched on),
`tinytorch.nn`, `tinytorch.nn.functional` and `tinytorch.optim`, written as explicit
`from tinytorch.core.X import A, B` lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from tools import conventions as cv
from tools.conventions import NotebookError, source_text
from tools.notebooks import read

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

GENERATOR = "tools/generate.py"


@dataclass
class Chunk:
    code: str
    public: bool  # `#| export` (its names go into __all__) rather than `#| exporti`
    where: str  # "source/01_tensor/01_tensor.ipynb, cell 7"


@dataclass
class ExportedModule:
    dotted: str  # e.g. "core.tensor"
    is_module_default: bool = False  # some notebook's own module (named by #| default_exp)
    notebooks: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return Path(cv.PACKAGE, *self.dotted.split(".")).with_suffix(".py")


def collect(notebook_paths: list[Path], root: Path) -> dict[str, ExportedModule]:
    """Every exported module, its chunks in notebook and cell order."""
    modules: dict[str, ExportedModule] = {}
    for path in notebook_paths:
        relative = Path(path).relative_to(root).as_posix()
        default = None
        for index, cell in enumerate(read(path)["cells"]):
            if cell["cell_type"] != "code":
                continue
            where = f"{relative}, cell {index}"
            directives, code = cv.split_directives(source_text(cell))
            for name, arg in directives:
                if name not in cv.DIRECTIVES:
                    raise NotebookError(f"{where}: unknown directive '#| {name}'")
                if arg is not None and not cv.DOTTED_MODULE.match(arg):
                    raise NotebookError(f"{where}: '#| {name} {arg}' does not name a module like core.tensor")
                if name == cv.DEFAULT_EXP:
                    if arg is None:
                        raise NotebookError(f"{where}: '#| {name}' needs a module name, e.g. core.tensor")
                    default = arg
                    modules.setdefault(arg, ExportedModule(arg)).is_module_default = True
                    continue
                target = arg or default
                if target is None:
                    raise NotebookError(f"{where}: '#| {name}' before any '#| default_exp'")
                if cv.HIDDEN_BEGIN in code:
                    raise NotebookError(f"{where}: hidden tests must not be exported")
                module = modules.setdefault(target, ExportedModule(target))
                if relative not in module.notebooks:
                    module.notebooks.append(relative)
                kept = [line for line in code.splitlines() if not cv.SOLUTION_MARKER_LINE.match(line)]
                module.chunks.append(Chunk("\n".join(kept).strip("\n"), public=name == cv.EXPORT, where=where))
    return modules


def _parse(code: str, where: str) -> ast.Module:
    try:
        return ast.parse(code)
    except SyntaxError as error:
        raise NotebookError(f"exported code from {where} does not parse: {error}") from error


def defined_names(tree: ast.Module) -> dict[str, bool]:
    """Public top-level names a chunk defines, each with whether it is a class."""
    names: dict[str, bool] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = True
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = False
        elif isinstance(node, ast.Assign):
            names.update({t.id: False for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = False
    return {name: is_class for name, is_class in names.items() if not name.startswith("_")}


def public_names(code: str, where: str) -> list[str]:
    return list(defined_names(_parse(code, where)))


@dataclass
class RenderedModule:
    text: str
    names: dict[str, bool]  # __all__, in order, each with whether it is a class
    has_docstring: bool


def _split_docstring(code: str, where: str) -> tuple[str | None, list[str], str]:
    """(docstring source, leading `from __future__` lines, the rest) of a module's first chunk."""
    tree = _parse(code, where)
    lines = code.splitlines()
    docstring, start = None, 0
    body = tree.body
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        docstring = "\n".join(lines[first.lineno - 1 : first.end_lineno])
        start = first.end_lineno
        body = body[1:]
    future = []
    for node in body:
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            break
        future += lines[node.lineno - 1 : node.end_lineno]
        start = node.end_lineno
    return docstring, future, "\n".join(lines[start:]).strip("\n")


def render(module: ExportedModule) -> RenderedModule:
    names: dict[str, bool] = {}
    for chunk in module.chunks:
        defined = defined_names(_parse(chunk.code, chunk.where))
        if chunk.public:
            names.update(defined)
    docstring, future, first = _split_docstring(module.chunks[0].code, module.chunks[0].where)
    body = "\n\n\n".join(part for part in [first] + [c.code for c in module.chunks[1:]] if part)
    sources = ", ".join(module.notebooks)
    parts = [
        f"# AUTOGENERATED from {sources} by {GENERATOR}. Do not edit:\n"
        "# change the notebook, then run `make build`.\n" + (f"{docstring}\n" if docstring else "")
    ]
    if future:
        parts.append("\n".join(future) + "\n")
    parts.append(_all_listing(list(names)))
    if body:
        parts.append(body + "\n")
    return RenderedModule("\n".join(parts), names, docstring is not None)


def _all_listing(names: list[str]) -> str:
    return "__all__ = [\n" + "".join(f"    {name!r},\n" for name in names) + "]\n"


def _import_line(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 100:
        return line
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"


def _docstring(text: str) -> str:
    return f'"""{text}"""\n'


def project_version(pyproject: Path = cv.ROOT / "pyproject.toml") -> str:
    """The package version: pyproject.toml's [project] version is its only home."""
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise NotebookError(f"{pyproject}: cannot read [project] version ({error!r})") from error


def render_namespace(namespace: cv.Namespace, rendered: dict[str, RenderedModule], generated: list[str]) -> str:
    """A curated namespace: the chosen public names of its source modules, by explicit imports."""
    lines, listed, origin = [], [], {}
    for dotted in namespace.sources:
        if dotted not in rendered:
            continue
        chosen = [
            name for name, is_class in rendered[dotted].names.items()
            if (namespace.select == "all" or is_class == (namespace.select == "classes"))
            and name not in cv.TOP_LEVEL_NAMES.get(dotted, ()) and name not in cv.OWN_MODULE_ONLY.get(dotted, ())
        ]
        for name in chosen:
            if name in origin:
                raise NotebookError(
                    f"namespace {cv.PACKAGE}.{namespace.dotted}: {name!r} comes from both "
                    f"{cv.PACKAGE}.{origin[name]} and {cv.PACKAGE}.{dotted}"
                )
            origin[name] = dotted
        if chosen:
            lines.append(_import_line(f"{cv.PACKAGE}.{dotted}", chosen))
            listed += chosen
    for sub in namespace.submodules:
        if f"{namespace.dotted}.{sub}" in generated:
            lines.append(f"from {cv.PACKAGE}.{namespace.dotted} import {sub}")
            listed.append(sub)
    header = f"# AUTOGENERATED by {GENERATOR} from the namespace table in tools/conventions.py. Do not edit.\n"
    return header + _docstring(namespace.docstring) + "\n" + _all_listing(listed) + "\n" + "\n".join(lines) + "\n"


def render_top_level(rendered: dict[str, RenderedModule], generated: list[str], version: str) -> str:
    header = (
        f"# AUTOGENERATED by {GENERATOR} from the export cells of source/ and the namespace table in\n"
        "# tools/conventions.py. Do not edit.\n"
    )
    docstring = (
        f'"""{cv.PACKAGE_DOCSTRING}\n\n'
        "`tinytorch` holds the tensor and autograd API (Tensor, no_grad, ...); `tinytorch.nn` the layers,\n"
        "activations and losses (`tinytorch.nn.functional` the same as functions); `tinytorch.optim` the\n"
        "optimizers. Every module also stays importable under its own path, e.g. tinytorch.core.layers.\n"
        '"""\n'
    )
    lines = [header + docstring, f'__version__ = "{version}"\n']
    lines += [f"from {cv.PACKAGE}.{dotted} import *" for dotted in cv.TOP_LEVEL if dotted in rendered]
    for dotted, names in cv.TOP_LEVEL_NAMES.items():
        present = [name for name in names if dotted in rendered and name in rendered[dotted].names]
        if present:  # like the modules of the table, names not written yet are skipped
            lines.append(_import_line(f"{cv.PACKAGE}.{dotted}", present))
    subpackages = [name for name in cv.TOP_LEVEL_SUBPACKAGES if name in generated]
    if subpackages:
        lines.append(f"from {cv.PACKAGE} import {', '.join(subpackages)}")
    side_effects = [dotted for dotted in cv.SIDE_EFFECT_MODULES if dotted in rendered]
    if side_effects:
        lines.append("\n# Imported only for what importing does: these modules attach the gradient rules of the ops,")
        lines.append("# which must all be in place before autograd is switched on below.")
        lines += [f"import {cv.PACKAGE}.{dotted}  # noqa: F401" for dotted in side_effects]
    switch_module, switch = cv.AUTOGRAD_SWITCH
    if switch_module in rendered:
        if switch not in rendered[switch_module].names:
            raise NotebookError(f"{cv.PACKAGE}.{switch_module} must export {switch}() (tinytorch/__init__.py calls it)")
        if switch_module not in cv.TOP_LEVEL and switch not in cv.TOP_LEVEL_NAMES.get(switch_module, ()):
            lines.append(f"from {cv.PACKAGE}.{switch_module} import {switch}")
        lines.append(f"\n# Autograd is switched on explicitly, once everything it needs is imported.\n{switch}()")
    return "\n".join(lines) + "\n"


def _package_init(dotted: str) -> str:
    doc = cv.SUBPACKAGE_DOCSTRINGS.get(dotted, f"The {cv.PACKAGE}.{dotted} package.")
    return f"# AUTOGENERATED by {GENERATOR}. Do not edit.\n" + _docstring(doc)


def package_files(modules: dict[str, ExportedModule], version: str) -> dict[Path, str]:
    """Every generated file: the exported modules, the namespaces and the package __init__ files."""
    rendered = {dotted: render(module) for dotted, module in modules.items() if module.chunks}
    files = {modules[dotted].path: result.text for dotted, result in rendered.items()}
    namespaces = [ns for ns in cv.NAMESPACES if any(source in rendered for source in ns.sources)]
    generated = [ns.dotted for ns in namespaces]
    for ns in namespaces:
        if ns.dotted in rendered:
            raise NotebookError(f"{cv.PACKAGE}.{ns.dotted} is a generated namespace: no notebook may export to it")
        path = Path(cv.PACKAGE, *ns.dotted.split("."))
        path = path / "__init__.py" if ns.is_package else path.with_suffix(".py")
        files[path] = render_namespace(ns, rendered, generated)
    files[Path(cv.PACKAGE, "__init__.py")] = render_top_level(rendered, generated, version)
    for dotted in rendered:
        parts = dotted.split(".")[:-1]
        for depth in range(1, len(parts) + 1):
            init = Path(cv.PACKAGE, *parts[:depth], "__init__.py")
            if init not in files:
                files[init] = _package_init(".".join(parts[:depth]))
    return files


def build_package(notebook_paths: list[Path], root: Path, out: Path, version: str | None = None) -> list[Path]:
    """Write the generated package under `out`; return the files written (relative)."""
    return _write_package(collect(notebook_paths, root), out, version)


def build_reference_package(before: list[Path], root: Path, out: Path, version: str | None = None) -> list[Path]:
    """What students import while a module is open: the package of the modules `before` it, plus the test
    helpers even when their module is the open one (module 01's test cells import them too)."""
    modules = collect(before, root)
    if cv.TEST_HELPERS not in modules:
        modules[cv.TEST_HELPERS] = collect(cv.module_notebooks(root), root)[cv.TEST_HELPERS]
    return _write_package(modules, out, version)


def _write_package(modules: dict[str, ExportedModule], out: Path, version: str | None) -> list[Path]:
    files = package_files(modules, version or project_version())
    for relative, text in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return sorted(files)

"""Reading, normalising and writing course notebooks, with nbformat.

nbformat parses and validates every notebook the tools read and serialises every notebook
they write. On top of that the course keeps its own normalisation (`normalize`), so that
diffs stay readable and builds are byte-for-byte repeatable: no outputs, no execution
counts, stable cell ids, only the metadata that nbgrader and Jupyter need, one kernelspec.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import nbformat
from nbformat.validator import normalize as nbformat_normalize
from nbformat.warnings import MissingIDFieldWarning

from tools.conventions import NotebookError, grade_id, source_text

__all__ = ["KERNELSPEC", "KEPT_CELL_METADATA", "NotebookError", "dumps", "normalize", "parse", "read", "source_text", "write"]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
KEPT_CELL_METADATA = ("nbgrader", "deletable", "editable", "tags")


def parse(text: str, where: str = "<notebook>") -> nbformat.NotebookNode:
    """A version-4 notebook from its JSON text, validated by nbformat; NotebookError names the problem."""
    try:
        raw = nbformat.reader.parse_json(text)
    except nbformat.reader.NotJSONError as error:
        raise NotebookError(f"{where}: not a readable notebook ({str(error)[:200]})") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookError(f"{where}: not a notebook (no 'cells' list at the top level)")
    if raw.get("nbformat") != 4:
        raise NotebookError(f"{where}: nbformat {raw.get('nbformat')!r} is not supported, expected 4")
    with warnings.catch_warnings():
        # Cells without ids are fine here: `normalize` below gives every cell a stable one.
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        _, raw = nbformat_normalize(raw)
        notebook = nbformat.from_dict(raw)
        try:
            nbformat.validate(notebook)
        except nbformat.ValidationError as error:
            raise NotebookError(f"{where}: not a valid notebook: {error.message}") from error
    return notebook


def read(path: Path) -> nbformat.NotebookNode:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NotebookError(f"{path}: not a readable notebook ({error})") from error
    return parse(text, str(path))


def _stable_id(cell: dict, taken: set[str]) -> str:
    base = grade_id(cell) or "c-" + hashlib.sha1(source_text(cell).encode()).hexdigest()[:10]
    candidate, suffix = base, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{base}-{suffix}"
    taken.add(candidate)
    return candidate


def normalize(notebook: dict) -> nbformat.NotebookNode:
    """The notebook without outputs and with stable ids and metadata (a new object)."""
    taken: set[str] = set()
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        kind = cell.get("cell_type")
        if kind not in ("code", "markdown", "raw"):
            raise NotebookError(f"cell {index} is of unknown type {kind!r}")
        metadata = {k: cell.get("metadata", {})[k] for k in KEPT_CELL_METADATA if k in cell.get("metadata", {})}
        clean = {"cell_type": kind, "id": _stable_id(cell, taken), "metadata": metadata, "source": source_text(cell)}
        if kind == "code":
            clean["execution_count"] = None
            clean["outputs"] = []
        cells.append(clean)
    return nbformat.from_dict({
        "cells": cells,
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    })


def dumps(notebook: dict) -> str:
    """nbformat's serialisation (indent 1, sorted keys, sources split in lines) plus a final newline."""
    notebook = nbformat.from_dict(notebook)
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        raise NotebookError(f"refusing to write an invalid notebook: {error.message}") from error
    return nbformat.writes(notebook, version=4) + "\n"


def write(notebook: dict, path: Path) -> bool:
    """Write the normalised notebook; return True when the file changed."""
    path = Path(path)
    text = dumps(normalize(notebook))
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True

"""Reading, normalising and writing course notebooks.

Every notebook the course commits (source/, release/, notebooks/) goes through
`normalize` so that diffs stay readable and builds are byte-for-byte repeatable:
no outputs, no execution counts, stable cell ids, and only the metadata that
nbgrader and Jupyter need.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
KEPT_CELL_METADATA = ("nbgrader", "deletable", "editable", "tags")


class NotebookError(ValueError):
    """A notebook that the course tooling cannot use, with the file and the reason."""


def read(path: Path) -> dict:
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise NotebookError(f"{path}: not a readable notebook ({error})") from error
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError(f"{path}: not a notebook (no 'cells' list at the top level)")
    if notebook.get("nbformat") != 4:
        raise NotebookError(f"{path}: nbformat {notebook.get('nbformat')!r} is not supported, expected 4")
    return notebook


def source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _stable_id(cell: dict, taken: set[str]) -> str:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    base = grade_id or "c-" + hashlib.sha1(source_text(cell).encode()).hexdigest()[:10]
    candidate, suffix = base, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{base}-{suffix}"
    taken.add(candidate)
    return candidate


def normalize(notebook: dict) -> dict:
    """Return the notebook without outputs and with stable ids and metadata."""
    taken: set[str] = set()
    cells = []
    for cell in notebook["cells"]:
        kind = cell.get("cell_type")
        if kind not in ("code", "markdown", "raw"):
            raise NotebookError(f"cell of unknown type {kind!r}")
        metadata = {k: cell.get("metadata", {})[k] for k in KEPT_CELL_METADATA if k in cell.get("metadata", {})}
        clean = {"cell_type": kind, "id": _stable_id(cell, taken), "metadata": metadata, "source": source_text(cell)}
        if kind == "code":
            clean["execution_count"] = None
            clean["outputs"] = []
        cells.append(clean)
    return {
        "cells": cells,
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def dumps(notebook: dict) -> str:
    """Serialise like nbformat does (indent 1, sorted keys), with lines split for diffs."""
    as_lines = json.loads(json.dumps(notebook))
    for cell in as_lines["cells"]:
        cell["source"] = cell["source"].splitlines(keepends=True)
    return json.dumps(as_lines, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write(notebook: dict, path: Path) -> bool:
    """Write the normalised notebook; return True when the file changed."""
    path = Path(path)
    text = dumps(normalize(notebook))
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True

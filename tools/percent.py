"""Edit a course notebook as a plain-text script, then turn it back into a notebook.

    python tools/percent.py to-py source/01_tensor/01_tensor.ipynb > /tmp/01.py
    python tools/percent.py to-ipynb /tmp/01.py source/01_tensor/01_tensor.ipynb

The script is a sequence of cells, each opened by a header line:

    # %% [markdown]                      markdown; every line below starts with "# "
    # %%                                 plain code (runs, not graded, editable)
    # %% locked id=setup                 read-only code (nbgrader locks it)
    # %% solution id=tensor-add          the learner's cell (the release gets a stub)
    # %% test id=tensor-add-test points=2   a graded, locked test cell

The notebook is the source of truth; the script is only a comfortable way to edit it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import notebooks  # noqa: E402

HEADER = re.compile(r"^# %%(?P<rest>.*)$")


def nbgrader_metadata(kind: str, grade_id: str, points: int | None) -> dict:
    meta = {"grade": kind == "test", "grade_id": grade_id, "locked": kind != "solution",
            "schema_version": 3, "solution": kind == "solution", "task": False}
    if kind == "test":
        meta["points"] = points
    return meta


def parse_header(rest: str, line_number: int) -> tuple[str, dict]:
    words = rest.split()
    if words[:1] == ["[markdown]"]:
        return "markdown", {}
    if not words:
        return "code", {}
    kind, options = words[0], dict(word.split("=", 1) for word in words[1:] if "=" in word)
    if kind not in ("locked", "solution", "test") or "id" not in options:
        raise SystemExit(f"line {line_number}: expected 'locked|solution|test id=NAME [points=N]', got '{rest.strip()}'")
    if kind == "test" and "points" not in options:
        raise SystemExit(f"line {line_number}: a test cell needs points=N")
    points = int(options["points"]) if "points" in options else None
    return "code", {"nbgrader": nbgrader_metadata(kind, options["id"], points)}


def from_script(text: str) -> dict:
    cells: list[dict] = []
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = HEADER.match(line)
        if match:
            kind, metadata = parse_header(match["rest"], number)
            current = {"cell_type": kind, "metadata": metadata, "lines": []}
            cells.append(current)
        elif current is not None:
            if current["cell_type"] == "markdown":
                line = line[2:] if line.startswith("# ") else line.lstrip("#")
            current["lines"].append(line)
    notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for cell in cells:
        source = "\n".join(cell.pop("lines")).strip("\n")
        notebook["cells"].append({**cell, "source": source, "outputs": [], "execution_count": None})
    return notebook


def to_script(notebook: dict) -> str:
    chunks = []
    for cell in notebook["cells"]:
        source = notebooks.source_text(cell)
        if cell["cell_type"] == "markdown":
            body = "\n".join(("# " + line).rstrip() for line in source.splitlines())
            chunks.append(f"# %% [markdown]\n{body}")
            continue
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            header = "# %%"
        elif meta.get("grade"):
            header = f"# %% test id={meta['grade_id']} points={meta.get('points', 0)}"
        elif meta.get("solution"):
            header = f"# %% solution id={meta['grade_id']}"
        else:
            header = f"# %% locked id={meta['grade_id']}"
        chunks.append(f"{header}\n{source}")
    return "\n\n".join(chunks) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "to-py":
        sys.stdout.write(to_script(notebooks.read(Path(argv[1]))))
        return 0
    if len(argv) == 3 and argv[0] == "to-ipynb":
        notebooks.write(from_script(Path(argv[1]).read_text(encoding="utf-8")), Path(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Edit a course notebook as a plain-text script (jupytext's percent format), then turn it back.

    python -m tools.percent to-py source/01_tensor/01_tensor.ipynb > /tmp/01.py
    python -m tools.percent to-ipynb /tmp/01.py source/01_tensor/01_tensor.ipynb

The script is jupytext's `py:percent` format: one `# %%` header per cell, markdown and raw
cells commented out (`# %% [markdown]`, `# %% [raw]`), and the cell metadata the course
keeps (nbgrader's, `deletable`, `editable`, `tags`) written on the header line:

    # %% nbgrader={"grade": true, "grade_id": "tensor-add-test", "locked": true, "points": 2, ...}

Every other piece of metadata is dropped, as `make build` drops it, so the round trip
notebook -> script -> notebook gives back the normalised notebook exactly (proven by
tests/course/test_percent.py over every committed notebook). The notebook stays the source
of truth; the script is only a comfortable way to edit it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext

from tools import notebooks

FORMAT = {
    "extension": ".py",
    "format_name": "percent",
    "notebook_metadata_filter": "-all",  # normalisation sets the kernelspec; no YAML header
    "cell_metadata_filter": ",".join(notebooks.KEPT_CELL_METADATA) + ",-all",
}


def to_script(notebook: dict) -> str:
    """The normalised notebook as percent-format text."""
    return jupytext.writes(notebooks.normalize(notebook), fmt=FORMAT)


def from_script(text: str) -> dict:
    """The normalised notebook that a percent-format script describes."""
    return notebooks.normalize(jupytext.reads(text, fmt=FORMAT))


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

"""Running Jupyter for the course.

    python -m tools.lab [JupyterLab options]    what `make lab` runs

`lab_command` is the one definition of how the course serves JupyterLab (rooted at the course
folder, allowed to run as root); `make lab` and tests/course/test_lab.py both use it, with the
Python that runs this file. `isolated_jupyter_env` keeps builds and tests away from the user's
Jupyter configuration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tools.conventions import ROOT


def lab_command(extra_args: Sequence[str] = (), python: str = sys.executable) -> list[str]:
    """The JupyterLab server for the course, from the environment of `python`."""
    command = [python, "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines run as root
    return command + list(extra_args)


def isolated_jupyter_env(home: Path) -> dict[str, str]:
    """Environment in which Jupyter and nbgrader read no user config and write only under `home`."""
    env = dict(os.environ)
    env.update(
        # nbgrader calls helper programs (alembic) by name: find the ones next to this Python.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / ".local/share/jupyter/runtime"),
        IPYTHONDIR=str(home / ".ipython"),
        MPLBACKEND="Agg",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    return env


def main(argv: Sequence[str]) -> None:
    command = lab_command(argv)
    os.execv(command[0], command)  # become the server: signals reach JupyterLab directly


if __name__ == "__main__":
    main(sys.argv[1:])

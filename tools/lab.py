"""Running Jupyter for the course.

    python -m tools.lab [JupyterLab options]                 what `make lab` runs (the student's lab)
    python -m tools.lab --instructor [JupyterLab options]    what `make lab-instructor` runs

`lab_command` and `lab_env` are the one definition of how the course serves JupyterLab (rooted at
the course folder, allowed to run as root); `make lab`, `make lab-instructor` and the tests
(tests/course/test_lab.py, tests/course/test_browser.py) all use them, with the Python that runs
this file.

The two roles differ in what the learner sees. The student's lab switches off nbgrader's
instructor tools: the formgrader (its server extension and its lab plugin), the "Create
Assignment" sidebar and the course list; the instructor's lab keeps them. Neither shows
JupyterLab's news and update pop-up. The lab plugins are switched off by a `page_config.json`
in `tools/jupyter/<role>/labconfig/`, which `lab_env` puts on `JUPYTER_CONFIG_PATH` on top of
the user's own configuration (never written to).

`isolated_jupyter_env` keeps builds and tests away from the user's Jupyter configuration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.conventions import ROOT

ROLES = ("student", "instructor")
CONFIG_DIRS = Path(__file__).resolve().parent / "jupyter"
# nbgrader's server extensions that only an instructor uses (the student keeps validate and assignment list).
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
# The option that switches them off for a student's server (`make lab`, and each student's lab on the hub).
STUDENT_SERVER_EXTENSIONS = "--ServerApp.jpserver_extensions={%s}" % ", ".join(
    f"{name!r}: False" for name in INSTRUCTOR_SERVER_EXTENSIONS)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown lab role {role!r}: expected one of {', '.join(ROLES)}")


def lab_command(
    extra_args: Sequence[str] = (), python: str = sys.executable, role: str = "student", root: Path = ROOT
) -> list[str]:
    """The JupyterLab server for the course (the student's or the instructor's), from the environment of `python`."""
    _check_role(role)
    command = [python, "-m", "jupyterlab"]
    if not any(arg.startswith("--ServerApp.root_dir") for arg in extra_args):  # Jupyter takes it only once
        command.append(f"--ServerApp.root_dir={root}")
    if role == "student":
        command.append(STUDENT_SERVER_EXTENSIONS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines run as root
    return command + list(extra_args)


def lab_config_dir(role: str) -> Path:
    """tools/jupyter/<role>: the Jupyter configuration folder of one role (its labconfig/page_config.json)."""
    _check_role(role)
    return CONFIG_DIRS / role


def lab_env(role: str = "student", base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with the role's configuration folder on JUPYTER_CONFIG_PATH."""
    env = dict(os.environ if base is None else base)
    paths = [str(lab_config_dir(role))] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


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
    argv = list(argv)
    role = "instructor" if "--instructor" in argv else "student"
    argv = [arg for arg in argv if arg != "--instructor"]
    command = lab_command(argv, role=role)
    os.execve(command[0], command, lab_env(role))  # become the server: signals reach JupyterLab directly


if __name__ == "__main__":
    main(sys.argv[1:])

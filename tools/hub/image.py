"""The student image for a hub past one machine: a container build context made from the student bundle.

    python -m tools.hub image 03 --into build/hub-image-03
    docker build -t registry.example.edu/tinytorch-student:03 build/hub-image-03

The context is `python -m tools.bundle 03` (release notebooks 01-03, the reference package of 01-02,
the unlocked milestones; no solution of 03 or later) plus a Dockerfile and the students' Jupyter
configuration: nbgrader's course id and exchange (`/srv/nbgrader/exchange`, a shared volume on
Kubernetes), and nbgrader's instructor tools switched off. tools/hub/z2jh-values.yaml runs it with
Zero to JupyterHub.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

from tools.bundle import build as build_bundle
from tools.hub.layout import COURSE_ID
from tools.lab import INSTRUCTOR_SERVER_EXTENSIONS, lab_config_dir

EXCHANGE = "/srv/nbgrader/exchange"
JUPYTERHUB_SPEC = "jupyterhub>=5.2,<6"  # the hub's version range: singleuser servers must match it

DOCKERFILE = textwrap.dedent(f"""\
    # The TinyTorch student image, built from a student bundle (python -m tools.hub image NN).
    FROM python:3.11-slim
    RUN useradd --create-home --uid 1000 jovyan
    COPY requirements.txt /tmp/requirements.txt
    COPY tinytorch-reference /tmp/tinytorch-reference
    RUN pip install --no-cache-dir -r /tmp/requirements.txt "{JUPYTERHUB_SPEC}" /tmp/tinytorch-reference \\
        && rm -rf /tmp/requirements.txt /tmp/tinytorch-reference
    # System-wide Jupyter configuration: course id, exchange, no instructor tools.
    COPY jupyter/ /etc/jupyter/
    COPY release/ /opt/tinytorch/release/
    COPY notebooks/ /opt/tinytorch/notebooks/
    USER jovyan
    WORKDIR /home/jovyan
    CMD ["jupyterhub-singleuser"]
    """)


def student_jupyter_config() -> dict[str, str]:
    """The files of /etc/jupyter in the image, by relative path."""
    server = {"ServerApp": {"jpserver_extensions": {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}}}
    page_config = (lab_config_dir("student") / "labconfig" / "page_config.json").read_text(encoding="utf-8")
    return {
        "nbgrader_config.py": (f'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "{COURSE_ID}"\n'
                               f'c.Exchange.root = "{EXCHANGE}"\n'),
        "jupyter_server_config.json": json.dumps(server, indent=2) + "\n",
        "labconfig/page_config.json": page_config,
    }


def build_context(upto: str, into: Path) -> dict[str, list[str]]:
    """Write the build context (the bundle, the Dockerfile, /etc/jupyter) into `into`; return the bundle's contents."""
    contents = build_bundle(upto, into)
    (into / "notebooks").mkdir(exist_ok=True)  # COPY needs it even before any milestone is unlocked
    (into / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    for relative, text in student_jupyter_config().items():
        target = into / "jupyter" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return contents


def copy_values(into: Path) -> Path:
    """Put the Zero to JupyterHub values next to the build context."""
    target = into / "z2jh-values.yaml"
    shutil.copy(Path(__file__).resolve().parent / "z2jh-values.yaml", target)
    return target

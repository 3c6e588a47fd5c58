"""`make lab` serves the student's JupyterLab on the course, `make lab-instructor` the instructor's.

The server starts the way `make lab` starts it (`python -m tools.lab`, which holds the one
definition of the command), from this test's own Python: nothing is installed.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tools.conventions import ROOT
from tools.lab import INSTRUCTOR_SERVER_EXTENSIONS, lab_command, lab_config_dir, lab_env


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url, attempts=120):
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer {url}")


def test_make_lab_runs_the_shared_lab_command():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^lab: install\n\t\$\(BIN\)/python -m tools\.lab \$\(LAB_ARGS\)$", makefile, re.M), (
        "`make lab` should run `python -m tools.lab $(LAB_ARGS)`, the command this test starts"
    )
    command = lab_command(["--port=1"], python="/venv/bin/python")
    assert command[:3] == ["/venv/bin/python", "-m", "jupyterlab"] and command[-1] == "--port=1"
    assert f"--ServerApp.root_dir={ROOT}" in command
    moved = lab_command(["--ServerApp.root_dir=/elsewhere"], python="/venv/bin/python")
    assert [arg for arg in moved if arg.startswith("--ServerApp.root_dir")] == ["--ServerApp.root_dir=/elsewhere"], (
        "a root_dir given on the command line must replace the course folder (Jupyter accepts only one)"
    )


def test_student_lab_switches_off_instructor_tools_and_news():
    student = " ".join(lab_command(role="student"))
    instructor = " ".join(lab_command(role="instructor"))
    for extension in INSTRUCTOR_SERVER_EXTENSIONS:
        assert f"{extension!r}: False" in student and extension not in instructor
    for role, wanted in (("student", {"formgrader", "create-assignment", "course-list"}), ("instructor", set())):
        config = json.loads((lab_config_dir(role) / "labconfig/page_config.json").read_text(encoding="utf-8"))
        disabled = {name for name, off in config["disabledExtensions"].items() if off}
        nbgrader = {name.split(":", 1)[1] for name in disabled if name.startswith("@jupyter/nbgrader:")}
        assert nbgrader == wanted, f"the {role}'s lab switches off nbgrader's {sorted(nbgrader)}, expected {sorted(wanted)}"
        assert "@jupyterlab/apputils-extension:announcements" in disabled, f"the {role}'s lab shows the news pop-up"
    env = lab_env("student", {"JUPYTER_CONFIG_PATH": "/mine"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(lab_config_dir("student")), "/mine"]


@pytest.mark.parametrize("role, formgrader_status", [("student", 404), ("instructor", 200)])
def test_lab_serves_jupyterlab_with_nbgrader(tmp_path, role, formgrader_status):
    port, token = free_port(), "tinytorch-test"
    args = ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]
    if role == "instructor":
        args.insert(0, "--instructor")
    log = open(tmp_path / "lab.log", "w")  # a file, not a pipe nobody reads: the server never blocks on its output
    server = subprocess.Popen([sys.executable, "-m", "tools.lab", *args], cwd=ROOT, env=dict(os.environ),
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status, page = fetch(f"http://127.0.0.1:{port}/lab?token={token}")
        assert status == 200
        config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)[1])
        extensions = [extension["name"] for extension in config["federated_extensions"]]
        assert "@jupyter/nbgrader" in extensions, f"nbgrader's lab extension is not loaded: {extensions}"
        status, tree = fetch(f"http://127.0.0.1:{port}/api/contents/source?token={token}")
        assert "01_tensor" in tree, "the server should be rooted at the course folder"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/formgrader?token={token}", timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == formgrader_status, f"the {role}'s lab answers {status} for the formgrader, expected {formgrader_status}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()

"""`make lab` serves JupyterLab on the course with nbgrader's extensions active.

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
import urllib.request

from tools.conventions import ROOT
from tools.lab import lab_command


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


def test_lab_serves_jupyterlab_with_nbgrader(tmp_path):
    port, token = free_port(), "tinytorch-test"
    args = ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]
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
        status, formgrader = fetch(f"http://127.0.0.1:{port}/formgrader?token={token}")
        assert status == 200, "nbgrader's server extension (formgrader) is not active"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()

"""`make lab` serves JupyterLab on the course with nbgrader's extensions active."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

from nbgrader_course import ROOT


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


def test_make_lab_serves_jupyterlab_with_nbgrader(tmp_path):
    port, token = free_port(), "tinytorch-test"
    args = f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"
    server = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
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

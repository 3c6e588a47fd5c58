"""A course on a real JupyterHub for the end-to-end test (tests/course/test_hub.py).

`running_hub()` sets up what `python -m tools.hub` sets up on a server, in a temporary folder:
Unix accounts for an instructor and the students (removed afterwards), a throwaway PostgreSQL
gradebook, the hub folder (`tools.hub init`), then `tools.hub serve` with an admin API token on free
loopback ports. `HubClient` talks to the hub's REST API and to each user's server through the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.course.test_lab import free_port
from tools.conventions import ROOT
from tools.postgres import TemporaryPostgres

PREFIX = "tthub-"  # every account the test creates starts with this (and is removed at the end)
PROXY = ROOT / "tools" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"


def require_hub() -> None:
    """Skip where the hub cannot run (not root, no proxy, no PostgreSQL or sandbox); under CI, fail."""
    from tests.course.class_run import require_postgres_and_sandbox

    problems = []
    if os.geteuid() != 0:
        problems.append("the hub creates Unix accounts and must run as root")
    if not PROXY.exists():
        problems.append(f"configurable-http-proxy is not installed ({PROXY}): run `make hub-install`")
    if problems:
        if os.environ.get("CI"):
            pytest.fail("CI must run the hub test, but " + "; ".join(problems))
        pytest.skip("the hub test cannot run here: " + "; ".join(problems))
    require_postgres_and_sandbox()


def remove_account(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
    subprocess.run(["userdel", "--remove", name], capture_output=True)


def hub_command(root: Path, *args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.hub", "--root", str(root), *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=env, timeout=900)


@dataclass
class Hub:
    root: Path
    url: str  # the proxy: what browsers open
    admin_token: str
    db_url: str
    passwords: dict[str, str] = field(default_factory=dict)
    log: Path | None = None

    def api(self, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = {"Authorization": f"token {token or self.admin_token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kw)

    def token_for(self, user: str) -> str:
        response = self.api("POST", f"/users/{user}/tokens", json={"note": "end-to-end test"})
        assert response.status_code == 201, f"no API token for {user}: {response.status_code} {response.text[:300]}"
        return response.json()["token"]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log and self.log.exists() else ""


class UserSession:
    """One user's requests through the proxy, authenticated with their own API token."""

    def __init__(self, hub: Hub, name: str):
        self.hub, self.name = hub, name
        self.token = hub.token_for(name)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {self.token}"

    def request(self, method: str, path: str, **kw) -> requests.Response:
        return self.session.request(method, f"{self.hub.url}{path}", timeout=120, **kw)

    def server(self, method: str, path: str, **kw) -> requests.Response:
        return self.request(method, f"/user/{self.name}{path}", **kw)

    def assignment_action(self, action: str, assignment: str) -> dict:
        response = self.server("POST", f"/assignments/{action}", data={"course_id": "tinytorch",
                                                                        "assignment_id": assignment})
        assert response.status_code == 200, f"{self.name}: {action} answered {response.status_code} {response.text[:300]}"
        result = response.json()
        assert result.get("success"), f"{self.name}: {action} {assignment} failed: {result.get('value')}"
        return result

    def put_notebook(self, path: str, notebook: dict) -> None:
        response = self.server("PUT", f"/api/contents/{path}", json={"type": "notebook", "format": "json",
                                                                      "content": notebook})
        assert response.status_code in (200, 201), f"{self.name}: saving {path} gave {response.status_code} {response.text[:300]}"

    def get_file(self, path: str) -> requests.Response:
        return self.server("GET", f"/api/contents/{path}")

    def run_code(self, code: str, timeout: float = 120) -> str:
        """Run `code` in a new kernel of this user's server; its stdout and errors as text."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        kernel = self.server("POST", "/api/kernels", json={"name": "python3"})
        assert kernel.status_code == 201, f"{self.name}: no kernel: {kernel.status_code} {kernel.text[:300]}"
        kernel_id = kernel.json()["id"]
        url = self.hub.url.replace("http://", "ws://") + f"/user/{self.name}/api/kernels/{kernel_id}/channels"

        async def execute() -> str:
            socket = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {self.token}"}))
            msg_id = secrets.token_hex(8)
            socket.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.name, "session": msg_id,
                           "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True},
            }))
            output = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                message = await socket.read_message()
                if message is None:
                    break
                message = json.loads(message)
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream":
                    output.append(content["text"])
                elif kind == "error":
                    output.append(f"{content['ename']}: {content['evalue']}")
                elif kind == "status" and content["execution_state"] == "idle":
                    break
            socket.close()
            return "".join(output)

        try:
            # A thread with its own event loop: Playwright's sync API owns the main thread's loop.
            with ThreadPoolExecutor(max_workers=1) as pool:
                return pool.submit(asyncio.run, execute()).result(timeout=timeout + 10)
        finally:
            self.server("DELETE", f"/api/kernels/{kernel_id}")


def wait_for(url: str, what: str, hub_log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5, allow_redirects=False).status_code < 400:  # the proxy 404s until routes exist
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} did not answer {url} within {seconds:g} s; hub log:\n"
                         f"{hub_log.read_text(errors='replace')[-4000:]}")


@contextlib.contextmanager
def running_hub(where: Path, students: list[str], instructor: str) -> Iterator[Hub]:
    accounts = [f"{PREFIX}grader", instructor, *students]
    for name in accounts:
        remove_account(name)
    server = TemporaryPostgres().start()
    hub_process = None
    try:
        # formgrader (as the grader account) reaches the gradebook's socket: open the folders for traversal.
        os.chmod(server.folder, 0o711)
        os.chmod(server.socket_dir, 0o711)
        root = where / "hub"
        ports = {name: free_port() for name in ("port", "hub-port", "proxy-api-port", "formgrader-port")}
        done = hub_command(root, "init", "--db-url", server.db_url, "--grader", f"{PREFIX}grader",
                           *[arg for name, port in ports.items() for arg in (f"--{name}", str(port))])
        assert done.returncode == 0, f"tools.hub init failed:\n{done.stdout}{done.stderr}"
        hub = Hub(root, f"http://127.0.0.1:{ports['port']}", secrets.token_hex(24), server.db_url,
                  log=where / "hub.log")
        for name in [instructor, *students]:
            hub.passwords[name] = secrets.token_urlsafe(12)
            args = ["add-user", name, *(["--instructor"] if name == instructor else [])]
            done = hub_command(root, *args, stdin=hub.passwords[name] + "\n")
            assert done.returncode == 0, f"tools.hub add-user {name} failed:\n{done.stdout}{done.stderr}"
        env = dict(os.environ, TINYTORCH_HUB_ADMIN_TOKEN=hub.admin_token)
        with open(hub.log, "w") as log:
            hub_process = subprocess.Popen([sys.executable, "-m", "tools.hub", "--root", str(root), "serve"],
                                           cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        wait_for(f"{hub.url}/hub/api/", "the hub", hub.log)
        wait_for(f"{hub.url}/services/formgrader/", "the formgrader service", hub.log)
        yield hub
    finally:
        if hub_process is not None:
            hub_process.send_signal(signal.SIGTERM)
            try:
                hub_process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(hub_process.pid, signal.SIGKILL)
        for name in accounts:
            remove_account(name)
        server.stop()

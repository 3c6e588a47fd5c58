"""A throwaway PostgreSQL server on a Unix socket, for tests, CI and trying class grading locally.

    with TemporaryPostgres() as server:
        server.db_url   # postgresql+psycopg2://tinytorch@/gradebook?host=/tmp/tinytorch-pg-.../socket

The server runs from a fresh temporary folder with trust authentication and no TCP listener: only
processes that can reach the socket folder connect (the sandboxed kernels cannot see it). PostgreSQL
refuses to run as root, so as root the server runs as `nobody` (setpriv drops the rights); as any
other user it runs as that user. A course's real gradebook server is set up by the instructor (see
the README); `db_url` in nbgrader_config.py (or TINYTORCH_DB_URL) points at it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

SEARCH_PATH = ["/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin"]
SERVER_USER = "nobody"  # as root; it owns nothing else that matters
DATABASE = "gradebook"
ROLE = "tinytorch"


class PostgresUnavailable(RuntimeError):
    pass


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SEARCH_PATH))
    if found is None:
        raise PostgresUnavailable(f"`{name}` not found on PATH or in {SEARCH_PATH}: install PostgreSQL "
                                  "(`apt-get install -y postgresql`)")
    return found


class TemporaryPostgres:
    """Start with `start()` (or `with`), stop with `stop()`; the folder is removed on stop."""

    def __init__(self, max_connections: int = 100):
        self.max_connections = max_connections
        self.folder: Path | None = None

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    @property
    def db_url(self) -> str:
        return f"postgresql+psycopg2://{ROLE}@/{DATABASE}?host={self.socket_dir}"

    def _as_server_user(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        user = pwd.getpwnam(SERVER_USER)
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise PostgresUnavailable(f"`{' '.join(command)}` failed:\n{result.stdout}{result.stderr}")

    def start(self) -> TemporaryPostgres:
        self.folder = Path(tempfile.mkdtemp(prefix="tinytorch-pg-"))
        data = self.folder / "data"
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            for path in (self.folder, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        as_user = self._as_server_user()
        self._run([*as_user, _tool("initdb"), "-D", str(data), "-U", ROLE, "--auth=trust", "-E", "UTF8",
                   "--no-sync", "--locale=C"])
        options = (f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c max_connections={self.max_connections}")
        self._run([*as_user, _tool("pg_ctl"), "-D", str(data), "-l", str(self.folder / "server.log"), "-o", options,
                   "-w", "-t", "60", "start"])
        self._run([_tool("createdb"), "-h", str(self.socket_dir), "-U", ROLE, DATABASE])
        return self

    def stop(self) -> None:
        if self.folder is None:
            return
        subprocess.run([*self._as_server_user(), _tool("pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w",
                        "stop"], capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

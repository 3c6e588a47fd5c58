"""The hub's folder: everything a running course keeps outside the course repository.

    ROOT/hub.json            settings written by `init` (grader account, gradebook URL, ports)
    ROOT/roster.json         login names, password hashes and roles (root only, 0600)
    ROOT/course/             the grader's nbgrader course folder (source/, release/, submitted/, ...)
    ROOT/exchange/           nbgrader's exchange, shared by every user (1777, like /tmp)
    ROOT/student-config/     the students' Jupyter configuration (nbgrader: course id, exchange; lab plugins)
    ROOT/reference/          the reference `tinytorch` of the modules released so far (read-only for students)
    ROOT/state/              JupyterHub's own database, cookie secret and proxy token (root only)
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_ROOT = Path("/srv/tinytorch-hub")
COURSE_ID = "tinytorch"
GRADER = "tinytorch-grader"  # the Unix account that owns the course folder and runs formgrader
INSTRUCTORS_GROUP = "instructors"  # the JupyterHub group allowed to open formgrader


class HubConfigError(ValueError):
    """A hub folder or setting that cannot work, with the path or value and what to do."""


@dataclass
class Settings:
    db_url: str  # the gradebook (PostgreSQL for a class)
    grader: str = GRADER
    ip: str = "127.0.0.1"  # where the proxy listens for browsers
    port: int = 8000
    hub_port: int = 8081  # the hub's own API, loopback only
    proxy_api_port: int = 8001
    formgrader_port: int = 8082
    released: list[str] = field(default_factory=list)  # modules released so far, in course order


@dataclass(frozen=True)
class HubLayout:
    root: Path

    @property
    def settings_file(self) -> Path:
        return self.root / "hub.json"

    @property
    def roster_file(self) -> Path:
        return self.root / "roster.json"

    @property
    def course(self) -> Path:
        return self.root / "course"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def student_config(self) -> Path:
        return self.root / "student-config"

    @property
    def reference(self) -> Path:
        return self.root / "reference"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def load_settings(self) -> Settings:
        if not self.settings_file.exists():
            raise HubConfigError(f"{self.settings_file} does not exist: run `python -m tools.hub init --root {self.root}` "
                                 "first (as root)")
        try:
            return Settings(**json.loads(self.settings_file.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError) as error:
            raise HubConfigError(f"{self.settings_file} is damaged ({error}): fix it or run init again") from None

    def save_settings(self, settings: Settings) -> None:
        write_atomically(self.settings_file, json.dumps(asdict(settings), indent=2) + "\n", mode=0o644)


def write_atomically(path: Path, text: str, mode: int) -> None:
    """Write `text` to `path` through a temporary file and a rename, so a crash never leaves half a file."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def hub_root() -> HubLayout:
    """The hub folder named by TINYTORCH_HUB_ROOT (what `serve` sets for jupyterhub_config.py)."""
    return HubLayout(Path(os.environ.get("TINYTORCH_HUB_ROOT", str(DEFAULT_ROOT))).resolve())

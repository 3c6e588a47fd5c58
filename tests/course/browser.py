"""Helpers for the browser tests: the system's Chromium driven by Playwright, and a JupyterLab per role.

Nothing is downloaded at run time: Chromium is Debian's `chromium` package (`.ci/run` installs it),
Playwright only drives it. Without a browser the tests skip with a one-line reason, except under
CI (the `CI` environment variable set), where a missing browser fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.course.test_lab import fetch, free_port
from tools.conventions import ROOT
from tools.lab import isolated_jupyter_env

ARTIFACTS = ROOT / "test-artifacts"  # git-ignored: screenshots and server logs of failed browser tests
TOKEN = "tinytorch-browser-test"
# Chromium as root needs --no-sandbox; the rest keep it from calling home on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
]


def chromium_executable() -> str | None:
    """The system's Chromium: $TINYTORCH_CHROMIUM, /usr/bin/chromium, or `chromium` on PATH."""
    candidates = [os.environ.get("TINYTORCH_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                  shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def require_browser() -> str:
    """The Chromium to drive; skip (or, under CI, fail) when it or Playwright is missing."""
    executable = chromium_executable()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the Playwright package is not installed (pip install -r requirements.txt)"
    else:
        missing = None if executable else "no Chromium found (apt-get install chromium, or set TINYTORCH_CHROMIUM)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {missing}")
        pytest.skip(f"browser tests need a browser: {missing}")
    return executable


def course_copy(where: Path, modules_in_work: list[str]) -> Path:
    """A course folder as a student or instructor has it: source/, release/, nbgrader_config.py, work/."""
    course = where / "course"
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for folder in ("source", "release"):
        shutil.copytree(ROOT / folder, course / folder, ignore=ignore)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for module in modules_in_work:
        shutil.copytree(ROOT / "release" / module, course / "work" / module, ignore=ignore)
    return course


def write_lab_settings(home: Path) -> None:
    """User settings of the test's own Jupyter home: every cell in the page, so locators reach all of them."""
    settings = home / ".jupyter/lab/user-settings/@jupyterlab/notebook-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}', encoding="utf-8")


@contextlib.contextmanager
def running_lab(course: Path, home: Path, role: str, log_path: Path) -> Iterator[str]:
    """`python -m tools.lab` (the command of `make lab` / `make lab-instructor`) on a free loopback port.

    The server runs in the course folder (nbgrader reads nbgrader_config.py from there), with HOME
    and JUPYTER_* under `home`; it yields the base URL.
    """
    write_lab_settings(home)
    port = free_port()
    env = isolated_jupyter_env(home)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    args = ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={course}"]
    if role == "instructor":
        args.insert(0, "--instructor")
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:  # a file, not a pipe nobody reads: the server never blocks on its output
        server = subprocess.Popen([sys.executable, "-m", "tools.lab", *args], cwd=course, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            try:
                fetch(f"{base}/api/status?token={TOKEN}")
            except AssertionError as error:
                raise AssertionError(f"{error}; server log:\n{log_path.read_text()[-3000:]}") from None
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=30)


@contextlib.contextmanager
def screenshot_on_failure(page, name: str, log_path: Path | None = None) -> Iterator[None]:
    """On any failure, save a screenshot (and the server log) under test-artifacts/ and name them in the error."""
    try:
        yield
    except Exception as error:
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
        note = ""
        try:
            page.screenshot(path=str(shot), full_page=True)
            note = f"\nscreenshot: {shot}"
        except Exception as shot_error:  # a dead browser must not hide the first error
            note = f"\n(no screenshot: {shot_error})"
        if log_path is not None and log_path.exists():
            kept = ARTIFACTS / f"{shot.stem}.server.log"
            shutil.copy(log_path, kept)
            note += f"\nserver log: {kept}"
        message = str(error).split("\nAria snapshot:")[0][:3000]  # Playwright appends the whole page's text
        raise AssertionError(f"{type(error).__name__}: {message}{note}") from error

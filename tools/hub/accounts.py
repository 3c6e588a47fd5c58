"""Course accounts: a Unix user per person (their files are theirs alone) and a roster of password hashes.

Passwords are stored as PBKDF2-SHA256 hashes with a random salt (hashlib, 600,000 rounds); the roster
is readable by root only. Instructors are marked in the roster and become members of the hub's
`instructors` group, the only group that may open the formgrader service.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import subprocess
from pathlib import Path

from tools.hub.layout import HubConfigError, HubLayout, write_atomically

ROUNDS = 600_000
USERNAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")  # safe as a Unix name and in a URL


def hash_password(password: str, salt: str | None = None, rounds: int = ROUNDS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), rounds).hex()
    return f"pbkdf2_sha256${rounds}${salt}${digest}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, rounds, salt, _ = stored.split("$")
    except ValueError:
        return False
    return scheme == "pbkdf2_sha256" and hmac.compare_digest(hash_password(password, salt, int(rounds)), stored)


def load_roster(layout: HubLayout) -> dict[str, dict]:
    if not layout.roster_file.exists():
        return {}
    try:
        return json.loads(layout.roster_file.read_text(encoding="utf-8"))["users"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise HubConfigError(f"{layout.roster_file} is damaged ({error!r}): restore it from a backup") from None


def save_roster(layout: HubLayout, users: dict[str, dict]) -> None:
    write_atomically(layout.roster_file, json.dumps({"users": users}, indent=2, sort_keys=True) + "\n", mode=0o600)


def check_username(name: str) -> None:
    if not USERNAME.match(name):
        raise HubConfigError(f"user name {name!r} is not allowed: use 1-31 lowercase letters, digits and '-', "
                             "starting with a letter")


def ensure_unix_user(name: str, system: bool = False) -> pwd.struct_passwd:
    """The Unix account `name`, created (with a private home folder) if it does not exist yet."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    command = ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group"]
    if system:
        command.append("--system")
    result = subprocess.run([*command, name], capture_output=True, text=True)
    if result.returncode != 0:
        raise HubConfigError(f"could not create the Unix user {name!r}: {result.stderr.strip()}")
    user = pwd.getpwnam(name)
    os.chmod(user.pw_dir, 0o700)  # Debian's default home is 0755: other students could read it
    return user


def add_user(layout: HubLayout, name: str, password: str, instructor: bool = False) -> None:
    """Create (or update) a course account: the Unix user and the roster entry."""
    check_username(name)
    if len(password) < 8:
        raise HubConfigError(f"the password of {name!r} has {len(password)} characters: use at least 8")
    ensure_unix_user(name)
    users = load_roster(layout)
    users[name] = {"password": hash_password(password), "instructor": bool(instructor)}
    save_roster(layout, users)


def instructors(layout: HubLayout) -> list[str]:
    return sorted(name for name, entry in load_roster(layout).items() if entry.get("instructor"))


def home_of(name: str) -> Path:
    return Path(pwd.getpwnam(name).pw_dir)

"""The hub's login check: a name and password from the course roster (tools/hub/accounts.py)."""

from __future__ import annotations

from jupyterhub.auth import Authenticator

from tools.hub.accounts import load_roster, password_matches
from tools.hub.layout import hub_root


class CourseAuthenticator(Authenticator):
    """Logs in the people of the roster (instructors join the `instructors` group from the roster when the hub starts)."""

    async def authenticate(self, handler, data):
        name = (data or {}).get("username", "").strip().lower()
        entry = load_roster(hub_root()).get(name)
        if entry is None or not password_matches((data or {}).get("password", ""), entry["password"]):
            self.log.warning("Failed login for %r", name)
            return None
        return name

    def check_allowed(self, username, authentication=None):
        return username in load_roster(hub_root())

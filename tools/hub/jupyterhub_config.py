"""JupyterHub configuration of the course; `python -m tools.hub serve` starts JupyterHub with it.

Everything comes from the hub folder named by TINYTORCH_HUB_ROOT (see tools/hub/layout.py): students
log in with the roster's passwords, get their own sandboxed student JupyterLab, and share
nbgrader's exchange; the `instructors` group may open the formgrader service, which runs as the
grader account in the course folder on the PostgreSQL gradebook.
"""

import os
import pwd
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tools.hub.accounts import instructors
from tools.hub.layout import COURSE_ID, INSTRUCTORS_GROUP, hub_root
from tools.hub.spawner import sandboxed_server
from tools.lab import lab_config_dir
from tools.sandbox import SANDBOXED_GRADING_ONLY, package_dirs


def postgres_socket_dirs(db_url):
    """The Unix-socket folder of a PostgreSQL URL (`?host=/path`), which formgrader must reach."""
    hosts = parse_qs(urlsplit(db_url).query).get("host", [])
    return [Path(host) for host in hosts if host.startswith("/")]


layout = hub_root()
settings = layout.load_settings()
proxy = Path(__file__).resolve().parent / "node_modules" / ".bin" / "configurable-http-proxy"

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)

c.JupyterHub.bind_url = f"http://{settings.ip}:{settings.port}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings.hub_port}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(proxy)]
c.ConfigurableHTTPProxy.pid_file = str(layout.state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{layout.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(layout.state / "cookie_secret")
c.JupyterHub.pid_file = str(layout.state / "jupyterhub.pid")

c.JupyterHub.authenticator_class = "tools.hub.auth.CourseAuthenticator"
c.Authenticator.any_allow_config = True  # CourseAuthenticator.check_allowed reads the roster
c.JupyterHub.spawner_class = "tools.hub.spawner.CourseSpawner"
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120

# An API token for automation (the end-to-end test, scripts): admin rights on users and servers only.
admin_token = os.environ.get("TINYTORCH_HUB_ADMIN_TOKEN")
services = []
roles = [{"name": "formgrader-access", "groups": [INSTRUCTORS_GROUP],
          "scopes": ["access:services!service=formgrader", "read:services"]}]
if admin_token:
    services.append({"name": "course-admin", "api_token": admin_token})
    roles.append({"name": "course-admin", "services": ["course-admin"],
                  "scopes": ["admin:users", "admin:servers", "tokens", "admin:groups", "list:users", "read:users"]})

# formgrader runs as the grader account in the course folder, in a view like the students' but with the
# course, the course's own code (nbgrader_config.py imports tools/) and the gradebook's socket folder.
grader = pwd.getpwnam(settings.grader)
grader_readable = [lab_config_dir("instructor"), *package_dirs(("tinytorch", "tools"))]
grader_writable = [layout.course, layout.exchange, *postgres_socket_dirs(settings.db_url)]
services.append({
    "name": "formgrader",
    "url": f"http://127.0.0.1:{settings.formgrader_port}",
    "command": [*sandboxed_server(grader, grader_readable, grader_writable, layout.course),
                f"--ServerApp.root_dir={layout.course}", "--ServerApp.default_url=/formgrader"],
    "oauth_no_confirm": True,
    "environment": {
        "TINYTORCH_DB_URL": settings.db_url,
        "TINYTORCH_EXCHANGE_ROOT": str(layout.exchange),
        SANDBOXED_GRADING_ONLY: "1",  # formgrader's autograde would run student code as the grader: refused
        "JUPYTER_CONFIG_PATH": str(lab_config_dir("instructor")),
        "HOME": "/tmp",  # the view's private /tmp: Jupyter's runtime files stay out of the course folder
        "USER": settings.grader,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
    },
})
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles
c.JupyterHub.load_groups = {INSTRUCTORS_GROUP: {"users": instructors(layout)}}
c.JupyterHub.template_vars = {"announcement_login": f"TinyTorch course ({COURSE_ID}): log in with your course account."}

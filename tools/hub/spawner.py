"""Each student's JupyterLab runs as that student, in a bubblewrap view that holds no solution.

The course folder (with source/ and the reference build of every module) stays outside the view:
the student sees the system read-only, the course's Python environment read-only, the reference
`tinytorch` of the modules released so far (ROOT/reference) and their Jupyter configuration
(ROOT/student-config) read-only, and only two writable places: their own home folder and
nbgrader's exchange. The network is shared (the server must reach the hub on loopback); the
hub's OAuth decides what each server and service lets a user do.

bubblewrap starts as root (the hub's user) so that it can build the view from folders the student
could not open; `setpriv` then drops to the student's uid before JupyterLab starts.
"""

from __future__ import annotations

import os
import pwd
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner

from tools.hub.layout import hub_root
from tools.lab import STUDENT_SERVER_EXTENSIONS
from tools.sandbox import Limits, interpreter_dirs, view_args


def sandboxed_server(user: pwd.struct_passwd, readable: list[Path], writable: list[Path], cwd: Path,
                     python: str = sys.executable) -> list[str]:
    """`python -m jupyterhub.singleuser` as `user`, seeing the system, the course's Python, `readable` and `writable`."""
    view = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
            "--new-session", *view_args(writable, [*interpreter_dirs(), *readable]), "--chdir", str(cwd)]
    drop = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs"]
    limits = Limits(processes=512, cpu_seconds=24 * 3600).prlimit_args()
    return ["prlimit", *limits, "--", *view, "--", *drop, "--", python, "-m", "jupyterhub.singleuser"]


def student_server_command(user: pwd.struct_passwd) -> list[str]:
    """A student's lab: their home and the exchange writable, the released reference package and their config readable."""
    layout = hub_root()
    home = Path(user.pw_dir)
    return sandboxed_server(user, [layout.student_config, layout.reference], [home, layout.exchange], home)


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner whose command is the sandboxed student lab (see the module docstring)."""

    def make_preexec_fn(self, name):
        return None  # bubblewrap needs root; setpriv inside the command drops to the student

    def get_args(self):
        return [*super().get_args(), STUDENT_SERVER_EXTENSIONS]  # the student lab of `make lab`

    def user_env(self, env):
        env = super().user_env(env)
        layout = hub_root()
        env.update(
            PATH=os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            PYTHONPATH=str(layout.reference),
            JUPYTER_CONFIG_PATH=str(layout.student_config),
            MPLBACKEND="module://matplotlib_inline.backend_inline",
        )
        return env

    async def start(self):
        self.cmd = student_server_command(pwd.getpwnam(self.user.name))
        return await super().start()

"""Sandboxed Jupyter kernels: student code runs as an unprivileged user, without network, in a
filesystem view of its own, under caps on memory, processes and CPU time.

How a kernel is started (Linux, as root; `SandboxedKernelManager` does this for nbgrader):

    prlimit (caps) -> bwrap (namespaces, filesystem view) -> setpriv (drop to the sandbox uid) -> kernel

- `bwrap` runs as root without a user namespace, so it can show the sandbox a view built from
  paths the sandbox user itself could not reach (the interpreter may live under a 0700 /root).
  The kernel never runs as root: `setpriv` switches to the sandbox uid, clears groups, every
  capability and the bounding set, and sets no_new_privs before the kernel starts. (`bwrap --uid`
  is not used: inside a user namespace it maps back to root.)
- The view: /usr, /etc and the interpreter read-only, the `tinytorch` package read-only, the
  notebook's own folder writable, a private /tmp; nothing else of the course (no source/,
  gradebook, other students, exchange).
- New network, PID, IPC and UTS namespaces. ZMQ over TCP cannot cross the network namespace, so
  the kernel talks over IPC sockets in a per-kernel folder. ipykernel's parent poller would exit
  in the PID namespace, so JPY_PARENT_PID is unset.
- Each grading process uses its own sandbox uid (`UID_BASE + pid`): RLIMIT_NPROC counts per uid,
  so one student's fork bomb cannot starve another student's kernel graded at the same time.
- Interrupts go as messages on the control channel (a signal to bwrap would not reach the kernel).
  A kernel that ignores the interrupt scores 0, like a dead kernel, and is killed with all it started.

`check_platform()` raises `SandboxUnavailable` naming what is missing (not Linux, not root, no
bwrap, namespaces refused, an interpreter the sandbox user cannot run).
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer

UID_BASE = 200_000  # sandbox uids are UID_BASE + the grading process's pid: unused by any account
SYSTEM_DIRS = ("/usr", "/etc")
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The only variables the kernel inherits: the grader's environment may hold a database URL or secrets.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "PYTHONHASHSEED", "NBGRADER_EXECUTION",
              "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MPLBACKEND", "TZ")


class SandboxUnavailable(RuntimeError):
    """The platform cannot run sandboxed kernels; the message says why and what to do."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 4 * 2**30  # address space per kernel: NumPy's allocations fail beyond it
    processes: int = 256  # processes and threads of the sandbox uid
    cpu_seconds: int = 900  # CPU time of the whole notebook
    open_files: int = 1024
    file_bytes: int = 512 * 2**20  # largest file the kernel may write

    def prlimit_args(self) -> list[str]:
        return [f"--as={self.memory_bytes}", f"--nproc={self.processes}", f"--cpu={self.cpu_seconds}",
                f"--nofile={self.open_files}", f"--fsize={self.file_bytes}", "--core=0"]


def sandbox_uid() -> int:
    return UID_BASE + os.getpid()


def interpreter_dirs() -> list[Path]:
    """The folders the kernel's interpreter needs: the venv and the Python it was made from."""
    dirs = {Path(os.path.realpath(p)) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    dirs.add(Path(os.path.realpath(sys.executable)).parent)
    return sorted(d for d in dirs if not any(str(d).startswith(s + "/") for s in SYSTEM_DIRS))


def package_dirs(names=("tinytorch",)) -> list[Path]:
    """The folders of the packages student code imports that live outside the interpreter's folders."""
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found += [Path(os.path.realpath(p)) for p in spec.submodule_search_locations]
    inside = interpreter_dirs()
    return [d for d in found if not any(d == i or i in d.parents for i in inside)]


def _ancestors(path: Path) -> list[Path]:
    return [p for p in reversed(path.parents) if p != Path("/")]


def bwrap_args(writable: list[Path], readable: list[Path], cwd: Path, env: dict[str, str]) -> list[str]:
    """bwrap's options: namespaces and the filesystem view (every folder the view creates is 0755)."""
    args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--hostname", "sandbox", *view_args(writable, readable)]
    args.append("--clearenv")  # JPY_PARENT_PID goes too: ipykernel's parent poller would exit in the PID namespace
    for name in PASSED_ENV:
        if name in env:
            args += ["--setenv", name, env[name]]
    args += ["--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib",
             "--setenv", "IPYTHONDIR", "/tmp/ipython", "--setenv", "JUPYTER_RUNTIME_DIR", "/tmp/jupyter",
             "--setenv", "JUPYTER_DATA_DIR", "/tmp/jupyter", "--setenv", "JUPYTER_CONFIG_DIR", "/tmp/jupyter",
             "--setenv", "XDG_CACHE_HOME", "/tmp/cache", "--setenv", "XDG_CONFIG_HOME", "/tmp/config",
             "--chdir", str(cwd)]
    return args


def view_args(writable: list[Path], readable: list[Path]) -> list[str]:
    """bwrap's filesystem view: the system read-only, a private /tmp, `readable` read-only, `writable` read-write."""
    args = []
    for folder in SYSTEM_DIRS:
        args += ["--ro-bind", folder, folder]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "01777", "--tmpfs", "/tmp"]
    created = {Path("/tmp")}
    for path, mode in [*[(p, "--ro-bind") for p in readable], *[(p, "--bind") for p in writable]]:
        for parent in _ancestors(path):
            if parent not in created and not any(str(parent).startswith(s) for s in (*SYSTEM_DIRS, "/proc", "/dev")):
                args += ["--perms", "0755", "--dir", str(parent)]
                created.add(parent)
        args += [mode, str(path), str(path)]
        created.add(path)
    return args


def setpriv_args(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs"]


def sandbox_command(argv: list[str], *, uid: int, writable: list[Path], cwd: Path,
                    limits: Limits = Limits(), env: dict[str, str] | None = None) -> list[str]:
    """`argv` wrapped so that it runs sandboxed as `uid`, able to write only `writable`, with `env`
    (default: this process's) reduced to PASSED_ENV."""
    readable = interpreter_dirs() + package_dirs()
    env = os.environ if env is None else env
    return (["prlimit", *limits.prlimit_args(), "--", *bwrap_args(writable, readable, cwd, env), "--",
             *setpriv_args(uid), "--", *argv])


def platform_problems() -> list[str]:
    """Why sandboxed kernels cannot run here (empty when they can)."""
    if not sys.platform.startswith("linux"):
        return [f"sandboxed grading needs Linux (namespaces, bubblewrap); this is {sys.platform}"]
    problems = []
    if os.geteuid() != 0:
        problems.append(f"sandboxed grading must run as root to switch to the sandbox user (running as uid {os.geteuid()})")
    for tool, package in [("bwrap", "bubblewrap"), ("setpriv", "util-linux"), ("prlimit", "util-linux")]:
        if shutil.which(tool) is None:
            problems.append(f"`{tool}` is not installed: `apt-get install -y {package}` (`make sandbox` does it)")
    # The view recreates each bound folder's parents (0755), so only the folders themselves and the
    # interpreter must be open to other users; a 0700 /root above them does not matter.
    for path in [*interpreter_dirs(), *package_dirs(), Path(os.path.realpath(sys.executable))]:
        needed = stat.S_IROTH | stat.S_IXOTH
        if path.stat().st_mode & needed != needed:
            problems.append(f"the sandbox user cannot use {path} (mode {stat.filemode(path.stat().st_mode)}), "
                            f"which the kernel needs: `chmod o+rx {path}`")
    return problems


@functools.lru_cache(maxsize=1)
def _probe() -> str:
    """Start Python in a sandbox once; the error text if that fails."""
    with tempfile.TemporaryDirectory(prefix="tinytorch-probe-") as folder:
        uid = sandbox_uid()
        os.chown(folder, uid, uid)
        command = sandbox_command([sys.executable, "-c", "import ipykernel, tinytorch"], uid=uid,
                                  writable=[Path(folder)], cwd=Path(folder))
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        return f"a test kernel could not start in the sandbox (exit {result.returncode}):\n{result.stderr.strip()[-2000:]}"
    return ""


def check_platform() -> None:
    """Raise SandboxUnavailable, naming every problem, unless sandboxed kernels can run here."""
    problems = platform_problems()
    if not problems:
        failure = _probe()
        problems = [failure] if failure else []
    if problems:
        raise SandboxUnavailable("Cannot sandbox student code on this machine:\n- " + "\n- ".join(problems))


def make_private(folder: Path, uid: int) -> None:
    """Hand a notebook's folder to the sandbox user."""
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, uid, uid)


def reclaim(folder: Path) -> list[str]:
    """Give the folder back to the grader; remove what the kernel left that could trick it.

    nbgrader writes the graded notebook into this folder as root afterwards, so a symbolic link
    (to another student's notebook, say), a FIFO or a device node left here must go.
    Returns the removed paths, for the log.
    """
    removed = []
    for root, dirs, files in os.walk(folder, topdown=True, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            mode = path.lstat().st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                path.unlink()
                removed.append(str(path))
            else:
                os.lchown(path, os.getuid(), os.getgid())
    os.lchown(folder, os.getuid(), os.getgid())
    return removed


class SandboxedKernelManager(AsyncKernelManager):
    """An nbgrader/nbclient kernel manager whose kernels run sandboxed (see the module docstring).

    Select it with `c.Execute.kernel_manager_class = "tools.sandbox.SandboxedKernelManager"`;
    `python -m tools.grade_class` does this for every student it grades.
    """

    memory_bytes = Integer(Limits.memory_bytes, help="Address-space cap of a kernel, in bytes.").tag(config=True)
    processes = Integer(Limits.processes, help="Cap on processes and threads of a kernel's user.").tag(config=True)
    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU-time cap of a kernel, in seconds.").tag(config=True)

    _sandbox_dir: Path | None = None
    _work_dir: Path | None = None

    def _limits(self) -> Limits:
        return Limits(memory_bytes=self.memory_bytes, processes=self.processes, cpu_seconds=self.cpu_seconds)

    async def _async_pre_start_kernel(self, **kw):
        check_platform()
        uid = sandbox_uid()
        # The connection file and the IPC sockets live in a folder only the sandbox user (and root) can enter.
        self._sandbox_dir = Path(tempfile.mkdtemp(prefix="tinytorch-kernel-"))
        os.chown(self._sandbox_dir, uid, uid)
        self.transport = "ipc"
        self.connection_file = str(self._sandbox_dir / "kernel.json")
        self.ip = str(self._sandbox_dir / "ipc")
        if not kw.get("cwd"):
            raise SandboxUnavailable("a sandboxed kernel needs the notebook's folder (cwd) to give it to the sandbox user")
        self._work_dir = Path(os.path.realpath(kw["cwd"]))
        make_private(self._work_dir, uid)
        # nbclient does not shut down a kernel that died, so the folders are also released at exit.
        atexit.register(self._release_folders)
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        os.chown(self.connection_file, uid, uid)
        kernel_cmd = sandbox_command(kernel_cmd, uid=uid, writable=[self._work_dir, self._sandbox_dir],
                                     cwd=self._work_dir, limits=self._limits(), env=kw.get("env") or os.environ)
        return kernel_cmd, kw

    async def _async_interrupt_kernel(self) -> None:
        """An interrupt as a message: ipykernel's control thread raises SIGINT inside the sandbox.

        A kernel that ignores it stays busy, so the next cell times out as well and nbgrader gives up
        on the notebook (it scores 0); the kernel is then killed, and its PID namespace with it.
        """
        if not self.has_kernel:
            return await super()._async_interrupt_kernel()
        self._connect_control_socket()
        self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._release_folders()

    def _release_folders(self) -> None:
        if self._work_dir is not None and self._work_dir.exists():
            removed = reclaim(self._work_dir)
            if removed:
                self.log.warning("Removed what the kernel left that is not a plain file: %s", removed)
        if self._sandbox_dir is not None:
            shutil.rmtree(self._sandbox_dir, ignore_errors=True)
        self._work_dir = self._sandbox_dir = None

    # AsyncKernelManager binds these names to the base class's coroutines; point them at ours.
    interrupt_kernel = _async_interrupt_kernel
    cleanup_resources = _async_cleanup_resources



SANDBOXED_GRADING_ONLY = "TINYTORCH_SANDBOXED_GRADING_ONLY"  # set where student code must not run unsandboxed


class UnsandboxedKernelRefused(AsyncKernelManager):
    """The kernel manager where SANDBOXED_GRADING_ONLY is set: the hub's formgrader, which runs as the grader
    account with the gradebook and every hidden test in reach. No kernel starts, so no student code runs;
    the error says how to grade sandboxed instead. (nbgrader swallows errors of a pre-convert hook, so the
    refusal has to come from the kernel start.)"""

    async def _async_pre_start_kernel(self, **kw):
        raise SandboxUnavailable(
            "this server does not run student code: autograding here would give it the grader's rights (the "
            "gradebook and the hidden tests in reach). Grade sandboxed from the hub's host: "
            "sudo .venv/bin/python -m tools.hub grade MODULE")

"""python -m tools.hub: set up, run and grade the course on JupyterHub (one machine, as root)."""

from __future__ import annotations

import argparse
import getpass
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from tools import export
from tools.conventions import ROOT, NotebookError, module_names
from tools.hub.accounts import add_user, ensure_unix_user
from tools.hub.layout import COURSE_ID, DEFAULT_ROOT, GRADER, HubConfigError, HubLayout, Settings
from tools.lab import lab_config_dir

CONFIG_FILE = Path(__file__).resolve().parent / "jupyterhub_config.py"
PROXY = Path(__file__).resolve().parent / "node_modules" / ".bin" / "configurable-http-proxy"


def require_root(action: str) -> None:
    if os.geteuid() != 0:
        raise HubConfigError(f"`{action}` must run as root: it creates Unix users and starts servers as them "
                             f"(running as uid {os.geteuid()})")


def chown_tree(folder: Path, user: pwd.struct_passwd) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, user.pw_uid, user.pw_gid)


def student_nbgrader_config(layout: HubLayout) -> str:
    return (f'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "{COURSE_ID}"\n'
            f'c.Exchange.root = "{layout.exchange}"\n')


def init(layout: HubLayout, settings: Settings) -> None:
    """Create the hub folder: grader account, course copy, shared exchange, students' configuration."""
    require_root("init")
    grader = ensure_unix_user(settings.grader, system=True)
    layout.root.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.root, 0o755)
    for folder, mode in [(layout.state, 0o700), (layout.exchange, 0o1777), (layout.student_config, 0o755),
                         (layout.reference, 0o755)]:
        folder.mkdir(exist_ok=True)
        os.chmod(folder, mode)
    (layout.student_config / "nbgrader_config.py").write_text(student_nbgrader_config(layout), encoding="utf-8")
    shutil.copytree(lab_config_dir("student") / "labconfig", layout.student_config / "labconfig", dirs_exist_ok=True)
    layout.course.mkdir(exist_ok=True)
    shutil.copytree(ROOT / "source", layout.course / "source", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", layout.course / "nbgrader_config.py")
    chown_tree(layout.course, grader)
    os.chmod(layout.course, 0o700)
    layout.save_settings(settings)


def nbgrader(layout: HubLayout, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """An nbgrader command in the course folder, on the hub's gradebook (as root: the caller chowns back)."""
    settings = layout.load_settings()
    env = dict(os.environ, TINYTORCH_DB_URL=settings.db_url, TINYTORCH_EXCHANGE_ROOT=str(layout.exchange),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=layout.course, env=env,
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise HubConfigError(f"`nbgrader {' '.join(args)}` failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return result


def release(layout: HubLayout, module: str) -> None:
    """Generate `module` from source/ and release it to the exchange."""
    require_root("release")
    if module not in module_names():
        raise HubConfigError(f"no module {module!r}: expected one of {', '.join(module_names())}")
    nbgrader(layout, "generate_assignment", module, "--force")
    nbgrader(layout, "release_assignment", module, "--force")
    settings = layout.load_settings()
    if module not in settings.released:
        settings.released.append(module)
        layout.save_settings(settings)
    build_reference(layout, settings.released)
    chown_tree(layout.course, pwd.getpwnam(settings.grader))


def build_reference(layout: HubLayout, released: list[str]) -> None:
    """ROOT/reference/tinytorch: the modules before the last one released and the test helpers (as a bundle's)."""
    modules = module_names()
    last = max(modules.index(name) for name in released)
    shutil.rmtree(layout.reference / "tinytorch", ignore_errors=True)
    before = [ROOT / "source" / name / f"{name}.ipynb" for name in modules[:last]]
    export.build_reference_package(before, ROOT, layout.reference)


def grade(layout: HubLayout, module: str, workers: int | None) -> int:
    """Collect, autograde every student sandboxed in parallel, generate and release feedback."""
    from tools.grade_class import grade_class, summary

    require_root("grade")
    settings = layout.load_settings()
    nbgrader(layout, "collect", module)
    results = grade_class(layout.course, module, workers=workers, db_url=settings.db_url, sandbox=True)
    print(summary(results))
    nbgrader(layout, "generate_feedback", module, "--force")
    nbgrader(layout, "release_feedback", module)
    chown_tree(layout.course, pwd.getpwnam(settings.grader))
    return 1 if any(result.status == "failed" for result in results) else 0


def serve_command(layout: HubLayout) -> tuple[list[str], dict[str, str]]:
    if not PROXY.exists():
        raise HubConfigError(f"configurable-http-proxy is not installed at {PROXY}: run `make hub-install` "
                             "(npm installs it from tools/hub/package.json)")
    layout.load_settings()  # a clear error before JupyterHub starts
    env = dict(os.environ, TINYTORCH_HUB_ROOT=str(layout.root),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), str(PROXY.parent), os.environ.get("PATH", "")]))
    return [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG_FILE)], env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.hub", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("TINYTORCH_HUB_ROOT", DEFAULT_ROOT)),
                        help=f"the hub folder (default {DEFAULT_ROOT}, or TINYTORCH_HUB_ROOT)")
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("init", help="create the hub folder, the grader account and the course copy")
    setup.add_argument("--db-url", required=True, help="the gradebook, e.g. postgresql+psycopg2://grader@/gradebook?host=/run/postgresql")
    setup.add_argument("--grader", default=GRADER)
    for name, default in [("--port", 8000), ("--hub-port", 8081), ("--proxy-api-port", 8001), ("--formgrader-port", 8082)]:
        setup.add_argument(name, type=int, default=default)
    setup.add_argument("--ip", default="127.0.0.1", help="where browsers reach the hub (0.0.0.0 behind a TLS proxy)")
    user = commands.add_parser("add-user", help="add a student (or --instructor); the password is read from stdin")
    user.add_argument("name")
    user.add_argument("--instructor", action="store_true")
    for name in ("release", "grade"):
        command = commands.add_parser(name, help=f"{name} a module")
        command.add_argument("module")
        if name == "grade":
            command.add_argument("--workers", type=int, default=None)
    image = commands.add_parser("image", help="a container build context for the student image (bundle + Dockerfile)")
    image.add_argument("upto", help="the last released module (NN or NN_name)")
    image.add_argument("--into", type=Path, default=None, help="default: build/hub-image-NN")
    commands.add_parser("serve", help="run JupyterHub (the proxy and formgrader start with it)")
    up = commands.add_parser("up", help="init (the first time) and serve: what `sudo make hub` runs")
    up.add_argument("--db-url", default=None, help="the gradebook, needed the first time")
    args = parser.parse_args(argv)
    layout = HubLayout(args.root.resolve())
    try:
        if args.command == "init":
            init(layout, Settings(db_url=args.db_url, grader=args.grader, ip=args.ip, port=args.port,
                                  hub_port=args.hub_port, proxy_api_port=args.proxy_api_port,
                                  formgrader_port=args.formgrader_port))
        elif args.command == "add-user":
            require_root("add-user")
            password = getpass.getpass(f"password for {args.name}: ") if sys.stdin.isatty() else sys.stdin.readline()
            add_user(layout, args.name, password.rstrip("\n"), instructor=args.instructor)
        elif args.command == "image":
            from tools.hub.image import build_context, copy_values

            into = args.into or ROOT / "build" / f"hub-image-{args.upto.split('_')[0]}"
            contents = build_context(args.upto, into)
            copy_values(into)
            print(f"{into}: modules {', '.join(contents['release'])}; then `docker build -t <registry>/tinytorch-student "
                  f"{into}` and see z2jh-values.yaml there")
        elif args.command == "release":
            release(layout, args.module)
        elif args.command == "grade":
            return grade(layout, args.module, args.workers)
        elif args.command in ("serve", "up"):
            require_root(args.command)
            if args.command == "up" and not layout.settings_file.exists():
                if not args.db_url:
                    raise HubConfigError(f"{layout.root} is not set up yet: give the gradebook once, e.g. "
                                         "`sudo make hub HUB_DB_URL=postgresql+psycopg2://grader@/gradebook?host=/run/postgresql`")
                init(layout, Settings(db_url=args.db_url))
            command, env = serve_command(layout)
            os.chdir(layout.state)
            os.execve(command[0], command, env)
    except (HubConfigError, NotebookError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

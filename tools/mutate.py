"""Mutation testing of the solution cells: do the graded cells notice each small change?

    python -m tools.mutate [MODULE ...] [--limit N] [--seed S] [--jobs J] [--json PATH] [--min-killed P]
    python -m tools.mutate 01_tensor --list          # the mutants, without running them

`tools/mutants.py` makes the mutants: one small change (an operator swapped, a constant, a dtype,
a dropped or reordered statement, ...) between the SOLUTION markers of one solution cell. Each
mutant is run against the module's graded cells and is

  killed      when a graded cell (visible or hidden) after the mutated cell raises, or the run
              times out ("timeout") or dies ("crashed");
  survived    when every graded cell after it passes: no test notices the change.

An exception in the mutated cell itself decides nothing; only the graded cells do, as in grading.
Mutants that maintainers proved equivalent (tests/course/mutants_equivalent.toml) are reported
apart and do not count as survivors. The exit code is 1 when a module kills less than
--min-killed percent of its (non-equivalent) mutants, 2 when a module's own notebook fails.

How a module runs (fast: no nbgrader, no kernel per mutant). One fresh Python process per module
executes the notebook's code cells in order in a `__main__` namespace, with matplotlib on Agg
and all output discarded. Plain demo cells (neither solution, locked nor graded) are skipped
when no later cell uses a name they define; a baseline run of the unmutated notebook must then
pass every graded cell, and skipped cells before a failing one are put back until it does. Just
before each solution cell, the process forks one child per mutant (at most --jobs at a time):
the child runs the mutated cell and every later cell, stops at the first failing graded cell and
reports it through a pipe. Each child has a time limit (--timeout, or 4 x the baseline time of
the rest of the notebook + 10 s) and an address-space limit (--memory-mb above what the process
already uses).
"""

from __future__ import annotations

import argparse
import builtins
import gc
import json
import os
import random
import re
import resource
import select
import signal
import subprocess
import symtable
import sys
import tempfile
import time
import types
from pathlib import Path

from tools.conventions import ROOT, NotebookError, grade_id, is_graded, is_locked, is_solution, module_names, module_notebook
from tools.mutants import Mutant, notebook_mutants
from tools.notebooks import read, source_text

EQUIVALENTS = ROOT / "tests" / "course" / "mutants_equivalent.toml"
KILLED = ("killed", "timeout", "crashed")
TIMEOUT_FACTOR, TIMEOUT_GRACE = 4.0, 10.0  # per mutant: 4 x the baseline time of the rest + 10 s
BASELINE_TIMEOUT = 1800.0
MESSAGE_CHARS = 300

# ---------------------------------------------------------------------------------------------
# The equivalent mutants: one table per module, `"<mutant id>" = "why it is equivalent"`.

_TABLE = re.compile(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]$")
_ENTRY = re.compile(r'^("(?:[^"\\]|\\.)*")\s*=\s*("(?:[^"\\]|\\.)*")$')


def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, dict[str, str]]:
    """{module: {mutant id: reason}} from the TOML file (missing file: none)."""
    path = Path(path)
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: read the file's small subset of TOML by hand
        return _check_equivalents(path, _read_simple_toml(path, text))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise NotebookError(f"{path}: not valid TOML: {error}") from error
    return _check_equivalents(path, data)


def _read_simple_toml(path: Path, text: str) -> dict:
    data, table = {}, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _TABLE.match(line):
            table = data.setdefault(_TABLE.match(line).group(1), {})
        elif _ENTRY.match(line) and table is not None:
            key, value = (json.loads(part) for part in _ENTRY.match(line).groups())
            table[key] = value
        else:
            raise NotebookError(f"{path}:{number}: expected [module] or \"mutant id\" = \"reason\"")
    return data


def _check_equivalents(path: Path, data: dict) -> dict[str, dict[str, str]]:
    for module, entries in data.items():
        if not isinstance(entries, dict) or not all(isinstance(v, str) and v.strip() for v in entries.values()):
            raise NotebookError(f"{path}: [{module}] must map mutant ids to one-line reasons")
    return data


# ---------------------------------------------------------------------------------------------
# Which cells run: everything except demo cells that no later cell needs.


def _cell_kind(cell: dict) -> str:
    if is_solution(cell):
        return "solution"
    if is_graded(cell):
        return "graded"
    return "locked" if is_locked(cell) else "demo"


def defined_and_free_names(source: str) -> tuple[set[str], set[str]]:
    """Names a cell binds at its top level, and the global names it reads without binding them."""
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except SyntaxError:
        return set(), set()
    defined = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    free = set()

    def visit(scope, top):
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and (top or symbol.is_global()):
                free.add(symbol.get_name())
        for child in scope.get_children():
            visit(child, False)

    visit(table, True)
    return defined, free - defined - set(dir(builtins))


def skippable_demo_cells(cells: list[dict]) -> set[int]:
    """Positions (in `cells`) of demo cells whose names no later cell that runs reads."""
    skip, needed = set(), set()
    for position in range(len(cells) - 1, -1, -1):
        defined, free = defined_and_free_names(cells[position]["source"])
        if cells[position]["kind"] == "demo" and not defined & needed:
            skip.add(position)
            continue
        needed |= free
    return skip


# ---------------------------------------------------------------------------------------------
# The worker: one process per module, forking a child per mutant.


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    message = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
    return message[:MESSAGE_CHARS]


class _Worker:
    def __init__(self, job: dict):
        self.job = job
        notebook = read(Path(job["notebook"]))
        self.cells = [
            {"index": index, "kind": _cell_kind(cell), "grade_id": grade_id(cell), "source": source_text(cell)}
            for index, cell in enumerate(notebook["cells"])
            if cell.get("cell_type") == "code"
        ]
        for cell in self.cells:
            cell["name"] = f"<cell {cell['index']}{' ' + cell['grade_id'] if cell['grade_id'] else ''}>"
        self.module = types.ModuleType("__main__")
        self.module.__dict__["__builtins__"] = builtins
        self.jobs = max(1, int(job.get("jobs", 2)))

    def execute(self, cell: dict, source: str | None = None) -> str | None:
        """Run one cell in the notebook namespace; the error it raised, if any."""
        try:
            exec(compile(cell["source"] if source is None else source, cell["name"], "exec"), self.module.__dict__)
        except BaseException as error:  # noqa: B036 - a test cell may raise anything, SystemExit included
            return _describe(error)
        finally:
            pyplot = sys.modules.get("matplotlib.pyplot")
            if pyplot is not None:
                pyplot.close("all")
        return None

    # -- children ----------------------------------------------------------------------------

    def fork(self, run: list[dict], start: int, source: str | None, baseline: bool = False):
        """Fork a child that runs run[start:] (the first with `source`); (pid, read end of its pipe)."""
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            os.close(write_end)
            return pid, read_end
        os.close(read_end)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if not baseline:  # a mutant's output is never looked at (the baseline's goes to the worker log)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        self.limit_memory()
        code = 1  # anything but a complete report counts as a crash
        try:
            report = self.run_baseline(run) if baseline else self.run_mutant(run, start, source)
            os.write(write_end, json.dumps(report).encode())
            code = 0
        finally:
            os._exit(code)

    def limit_memory(self):
        extra = int(self.job.get("memory_mb") or 0) * 2**20
        if not extra:
            return
        try:
            status = Path("/proc/self/status").read_text()
            used = int(re.search(r"VmSize:\s+(\d+) kB", status).group(1)) * 1024
            resource.setrlimit(resource.RLIMIT_AS, (used + extra, used + extra))
        except (OSError, ValueError, AttributeError):
            pass  # no /proc or no limit allowed: run without one

    def run_mutant(self, run, start, source):
        report = {"killed_by": None, "message": None, "cell_error": self.execute(run[start], source)}
        for cell in run[start + 1:]:
            error = self.execute(cell)
            if error and cell["kind"] == "graded":
                report.update(killed_by=cell["grade_id"], message=error)
                break
        return report

    def run_baseline(self, run):
        failures, seconds = {}, []
        for cell in run:
            began = time.perf_counter()
            error = self.execute(cell)
            seconds.append(time.perf_counter() - began)
            if error and cell["kind"] == "graded":
                failures[cell["grade_id"]] = error
        return {"failures": failures, "seconds": seconds}

    def wait(self, running: dict, finish):
        """Collect finished children and kill those past their deadline; `finish(entry, report, status)`."""
        ready, _, _ = select.select(list(running), [], [], 0.5)
        for fd in ready:
            data = os.read(fd, 65536)
            if data:
                running[fd]["data"] += data
                continue
            entry = running.pop(fd)
            os.close(fd)
            _, status = os.waitpid(entry["pid"], 0)
            try:
                report = json.loads(entry["data"]) if os.WIFEXITED(status) and not os.WEXITSTATUS(status) else None
            except ValueError:
                report = None
            finish(entry, report, "crashed" if report is None else None)
        now = time.monotonic()
        for fd, entry in list(running.items()):
            if now > entry["deadline"]:
                os.kill(entry["pid"], signal.SIGKILL)
                os.waitpid(entry["pid"], 0)
                os.close(fd)
                running.pop(fd)
                finish(entry, None, "timeout")

    # -- the module ------------------------------------------------------------------------

    def baseline(self, run):
        pid, fd = self.fork(run, 0, None, baseline=True)
        running = {fd: {"pid": pid, "data": b"", "deadline": time.monotonic() + BASELINE_TIMEOUT}}
        outcome = {}

        def finish(entry, report, status):
            outcome.update(report or {"failures": {"(notebook)": f"the baseline run {status}"}, "seconds": []})

        while running:
            self.wait(running, finish)
        return outcome

    def plan(self, progress):
        """The cells to run (demo cells skipped where the baseline allows) and the baseline's result."""
        skip = skippable_demo_cells(self.cells)
        while True:
            run = [cell for position, cell in enumerate(self.cells) if position not in skip]
            began = time.perf_counter()
            outcome = self.baseline(run)
            outcome["wall"] = time.perf_counter() - began
            failing = [cell for cell in run if cell["grade_id"] in outcome["failures"]]
            back = {p for p in skip if failing and self.cells[p]["index"] < failing[0]["index"]}
            if not failing or not back:
                return run, skip, outcome
            print(f"    baseline: {failing[0]['grade_id']} fails without demo cells "
                  f"{sorted(self.cells[p]['index'] for p in back)}; running them too", file=progress)
            skip -= back

    def main(self, progress) -> dict:
        started = time.perf_counter()
        run, skip, baseline = self.plan(progress)
        result = {
            "skipped_cells": sorted(self.cells[p]["index"] for p in skip),
            "baseline_failures": baseline["failures"],
            "baseline_seconds": round(baseline["wall"], 2),
            "mutants": {},
        }
        if baseline["failures"]:
            result["seconds"] = round(time.perf_counter() - started, 2)
            return result
        by_cell = {}
        for mutant in self.job["mutants"]:
            by_cell.setdefault(mutant["cell_index"], []).append(mutant)
        rest = [sum(baseline["seconds"][position:]) for position in range(len(run))]
        for position, cell in enumerate(run):
            if cell["index"] in by_cell:
                limit = self.job.get("timeout") or TIMEOUT_FACTOR * rest[position] + TIMEOUT_GRACE
                began = time.perf_counter()
                outcomes = self.run_mutants(run, position, by_cell[cell["index"]], limit)
                result["mutants"].update(outcomes)
                killed = sum(o["status"] in KILLED for o in outcomes.values())
                print(f"    {cell['grade_id']}: {len(outcomes)} mutants, {killed} killed "
                      f"({time.perf_counter() - began:.1f} s, limit {limit:.0f} s each)", file=progress)
            self.execute(cell)
        result["seconds"] = round(time.perf_counter() - started, 2)
        return result

    def run_mutants(self, run, position, mutants, limit) -> dict:
        gc.collect()
        gc.freeze()  # children share the parent's pages instead of copying them when gc walks them
        pending, running, results = list(mutants), {}, {}

        def finish(entry, report, status):
            report = report or {}
            results[entry["id"]] = {
                "status": status or ("killed" if report.get("killed_by") else "survived"),
                "killed_by": report.get("killed_by"),
                "message": report.get("message"),
                "cell_error": report.get("cell_error"),
                "seconds": round(time.monotonic() - entry["began"], 3),
            }

        while pending or running:
            while pending and len(running) < self.jobs:
                mutant = pending.pop(0)
                pid, fd = self.fork(run, position, mutant["source"])
                began = time.monotonic()
                running[fd] = {"pid": pid, "id": mutant["id"], "data": b"", "began": began, "deadline": began + limit}
            self.wait(running, finish)
        return results


def _worker_main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    progress = os.fdopen(os.dup(2), "w", buffering=1)
    log = open(Path(job_path).with_name("worker.log"), "w")  # noqa: SIM115 - the process's own output, to its end
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        import tqdm

        tqdm.tqdm.monitor_interval = 0  # no monitor thread: threads and fork do not mix
    except ImportError:
        pass
    worker = _Worker(job)
    sys.modules["__main__"] = worker.module
    sys.argv = [job["notebook"]]
    result = worker.main(progress)
    Path(job["result"]).write_text(json.dumps(result), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Running modules and reporting.


def run_notebook(notebook_path: Path, mutants: list[Mutant], jobs: int = 2, timeout: float | None = None,
                 memory_mb: int = 2048, progress=None) -> dict:
    """Run `mutants` of one notebook in a fresh worker process; the worker's raw result."""
    with tempfile.TemporaryDirectory(prefix="tinytorch-mutants-") as folder:
        folder = Path(folder)
        job = {
            "notebook": str(Path(notebook_path).resolve()),
            "mutants": [{"id": m.id, "cell_index": m.cell_index, "source": m.source} for m in mutants],
            "jobs": jobs, "timeout": timeout, "memory_mb": memory_mb, "result": str(folder / "result.json"),
        }
        (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        env.update(MPLBACKEND="Agg", MPLCONFIGDIR=str(folder), PYTHONHASHSEED="0",
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        process = subprocess.run(
            [sys.executable, "-m", "tools.mutate", "--worker", str(folder / "job.json")],
            cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=progress if progress is not None else subprocess.PIPE, text=True,
        )
        result_path = folder / "result.json"
        if process.returncode or not result_path.exists():
            log = (folder / "worker.log").read_text(errors="replace") if (folder / "worker.log").exists() else ""
            raise RuntimeError(f"the mutation worker for {notebook_path} failed ({process.returncode}):\n"
                               f"{(process.stderr or '')[-2000:]}{log[-3000:]}")
        return json.loads(result_path.read_text(encoding="utf-8"))


def select_mutants(mutants: list[Mutant], limit: int | None, seed: int, only=None) -> list[Mutant]:
    """The mutants to run: those named in `only`, else a seeded sample of `limit`, in their order."""
    if only:
        return [m for m in mutants if m.id in only]
    if limit is None or limit >= len(mutants):
        return list(mutants)
    keep = set(random.Random(seed).sample(range(len(mutants)), limit))
    return [m for i, m in enumerate(mutants) if i in keep]


def module_report(module: str, generated: list[Mutant], chosen: list[Mutant], raw: dict, equivalent: dict) -> dict:
    """Counts and every mutant's outcome for one module."""
    rows = []
    for mutant in chosen:
        outcome = dict(raw["mutants"].get(mutant.id, {"status": "not run"}))
        if outcome["status"] == "survived" and mutant.id in equivalent:
            outcome.update(status="equivalent", reason=equivalent[mutant.id])
        rows.append({"id": mutant.id, "cell": mutant.cell, "line": mutant.line, "operator": mutant.operator,
                     "diff": mutant.diff, **outcome})
    count = {status: sum(r["status"] == status for r in rows) for status in KILLED + ("survived", "equivalent")}
    killed = sum(count[s] for s in KILLED)
    counted = len(rows) - count["equivalent"]
    generated_ids = {m.id for m in generated}
    stale = sorted(set(equivalent) - generated_ids)
    not_surviving = sorted(r["id"] for r in rows if r["id"] in equivalent and r["status"] in KILLED)
    seconds = raw.get("seconds", 0.0)
    return {
        "module": module,
        "generated": len(generated),
        "run": len(rows),
        "killed": killed,
        "timeouts": count["timeout"],
        "crashes": count["crashed"],
        "survived": count["survived"],
        "equivalent": count["equivalent"],
        "percent_killed": round(100.0 * killed / counted, 1) if counted else 100.0,
        "seconds": seconds,
        "mutants_per_minute": round(len(rows) / seconds * 60, 1) if seconds else None,
        "baseline_seconds": raw.get("baseline_seconds"),
        "baseline_failures": raw.get("baseline_failures", {}),
        "skipped_cells": raw.get("skipped_cells", []),
        "stale_equivalents": stale,
        "equivalents_killed": not_surviving,
        "mutants": rows,
    }


def print_report(report: dict, out=sys.stdout) -> None:
    r = report
    if r["baseline_failures"]:
        print(f"{r['module']}: the unmutated notebook fails under the mutation runner:", file=out)
        for cell, message in r["baseline_failures"].items():
            print(f"  {cell}: {message}", file=out)
        return
    print(f"{r['module']}: {r['run']} of {r['generated']} mutants run, {r['killed']} killed "
          f"({r['timeouts']} timeouts, {r['crashes']} crashes), {r['survived']} survived, "
          f"{r['equivalent']} equivalent: {r['percent_killed']:.1f}% killed "
          f"[{r['seconds']:.0f} s, {r['mutants_per_minute'] or 0:.0f} mutants/min, "
          f"{len(r['skipped_cells'])} demo cells skipped]", file=out)
    for row in r["mutants"]:
        if row["status"] == "survived":
            print(f"  survived    {row['id']}  (cell {row['cell']}, line {row['line']})  {row['diff']}", file=out)
    for row in r["mutants"]:
        if row["status"] == "equivalent":
            print(f"  equivalent  {row['id']}  {row['diff']}  -- {row['reason']}", file=out)
    for mutant_id in r["stale_equivalents"]:
        print(f"  warning: {mutant_id} is listed as equivalent but is no longer generated", file=out)
    for mutant_id in r["equivalents_killed"]:
        print(f"  warning: {mutant_id} is listed as equivalent but is killed", file=out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help="modules (NN_name) to test; default: every module")
    parser.add_argument("--limit", type=int, help="run a seeded sample of at most N mutants per module")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit sample (default 0)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at the same time (default 2)")
    parser.add_argument("--json", type=Path, help="write the full result to this file")
    parser.add_argument("--min-killed", type=float, default=0.0,
                        help="exit 1 when a module kills less than this percentage (default 0)")
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default: 4 x the baseline time + 10 s)")
    parser.add_argument("--memory-mb", type=int, default=2048, help="extra memory a mutant may use (default 2048)")
    parser.add_argument("--only", action="append", metavar="ID", help="run only this mutant (repeatable)")
    parser.add_argument("--equivalents", type=Path, default=EQUIVALENTS, help="the list of equivalent mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants (id and diff) without running them")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        _worker_main(args.worker)
        return 0
    known = module_names()
    unknown = [m for m in args.modules if m not in known]
    if unknown:
        print(f"unknown module(s) {unknown}; the modules are {known}", file=sys.stderr)
        return 2
    equivalents = load_equivalents(args.equivalents)
    for module in sorted(set(equivalents) - set(known)):
        print(f"warning: {args.equivalents} lists mutants of {module}, which is not a module", file=sys.stderr)
    generated = {module: notebook_mutants(read(module_notebook(module))) for module in args.modules or known}
    only = set(args.only or ())
    unmatched = only - {m.id for mutants in generated.values() for m in mutants}
    if unmatched:
        print(f"no such mutant(s): {sorted(unmatched)} (see --list)", file=sys.stderr)
        return 2
    reports, exit_code = [], 0
    for module, mutants in generated.items():
        chosen = select_mutants(mutants, args.limit, args.seed, only)
        if args.list:
            for mutant in chosen:
                print(f"{mutant.id}  {mutant.diff}")
            continue
        if not chosen:
            continue
        print(f"{module}: running {len(chosen)} of {len(mutants)} mutants with {args.jobs} jobs", file=sys.stderr)
        raw = run_notebook(module_notebook(module), chosen, args.jobs, args.timeout, args.memory_mb, progress=sys.stderr)
        report = module_report(module, mutants, chosen, raw, equivalents.get(module, {}))
        reports.append(report)
        print_report(report)
        sys.stdout.flush()
        if report["baseline_failures"]:
            exit_code = 2
        elif report["percent_killed"] < args.min_killed and exit_code == 0:
            exit_code = 1
    if args.json and not args.list:
        settings = {k: v for k, v in vars(args).items() if k not in ("worker", "json", "list", "equivalents")}
        args.json.write_text(json.dumps({"settings": settings, "modules": reports}, indent=1, default=str) + "\n",
                             encoding="utf-8")
    if exit_code == 1:
        below = [r["module"] for r in reports if r["percent_killed"] < args.min_killed]
        print(f"below {args.min_killed:g}% killed: {', '.join(below)}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

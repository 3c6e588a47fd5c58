"""Hostile submissions for class grading: student code that attacks the grader, its gradebook,
the solutions, other students, the network or the machine.

Two kinds:
- *Snooping* attacks (a cell added after the setup cell of a correct solution) try something, swallow
  the error and print `HARM DONE: ...` only when they succeed. Sandboxed, they achieve nothing: the
  notebook keeps full marks and its output never says `HARM DONE`.
- *Self-destructive* attacks (put at the top of the last solution cell) break their own kernel: the
  memory hog fails in that cell and a plain endless loop is interrupted, so only the tests after it
  lose points (like a syntax error); the others end the kernel (killed for ignoring the interrupt,
  or by themselves), so the notebook scores 0 as nbgrader scores any notebook whose kernel died.
"""

from __future__ import annotations

from tests.course.submissions import edited, grade_ids, with_cell_after_setup

HARM = "HARM DONE"


def _attempts(*snippets: str) -> str:
    """Each snippet in its own try block: it prints HARM DONE only if it got through."""
    body = ["import os, socket, sqlite3"]
    for snippet in snippets:
        body.append("try:\n" + "".join(f"    {line}\n" for line in snippet.strip().splitlines()) +
                    "except Exception as error:\n    print('blocked:', type(error).__name__, error)")
    return "\n".join(body) + "\n"


def snooping_attacks(course: str, victim: str, module: str, port: int) -> dict[str, str]:
    """Attack cells by name; `course` is the course folder, `victim` another student, `port` a listener on 127.0.0.1."""
    victim_nb = f"{course}/submitted/{victim}/{module}/{module}.ipynb"
    return {
        "deletes-gradebook": _attempts(
            f"os.remove({course + '/gradebook.db'!r}); print({HARM!r}, 'deleted the gradebook')",
            f"open({course + '/gradebook.db'!r}, 'wb').write(b'junk'); print({HARM!r}, 'corrupted the gradebook')",
            "os.remove('../../../gradebook.db'); print('HARM DONE', 'deleted the gradebook by a relative path')",
            f"sqlite3.connect({course + '/gradebook.db'!r}).execute('drop table grade'); print({HARM!r}, 'dropped')",
        ),
        "reads-solutions": _attempts(
            f"print({HARM!r}, open({course + f'/source/{module}/{module}.ipynb'!r}).read()[:2000])",
            f"print({HARM!r}, os.listdir({course + '/source'!r}))",
            f"print({HARM!r}, open({victim_nb!r}).read()[:2000])",
            # Its own folder is in the view; anyone else's must not be.
            f"others = set(os.listdir({course + '/autograded'!r})) - {{os.path.basename(os.path.dirname(os.getcwd()))}}\n"
            f"assert others, 'only its own folder is visible'\nprint({HARM!r}, others)",
            "others = set(os.listdir('../..')) - {os.path.basename(os.path.dirname(os.getcwd()))}\n"
            "assert others, 'only its own folder is visible'\nprint('HARM DONE', others)",
        ),
        "writes-elsewhere": _attempts(
            f"open({victim_nb!r}, 'w').write('{{}}'); print({HARM!r}, 'overwrote a submission')",
            f"os.makedirs({course + f'/feedback/{victim}/{module}'!r}, exist_ok=True); "
            f"open({course + f'/feedback/{victim}/{module}/{module}.html'!r}, 'w').write('pwned'); "
            f"print({HARM!r}, 'wrote feedback')",
            f"os.makedirs({course + '/exchange/tinytorch/outbound'!r}, exist_ok=True); "
            f"open({course + '/exchange/tinytorch/outbound/evil'!r}, 'w').write('x'); print({HARM!r}, 'wrote the exchange')",
            # A link in its own folder: nbgrader (as root) later writes the graded notebook through it.
            f"os.symlink({victim_nb!r}, 'trap.ipynb'); os.rename('trap.ipynb', {module + '.ipynb'!r}); "
            "print('left a link to another submission')",
            "open('/usr/evil', 'w').write('x'); print('HARM DONE', 'wrote /usr')",
        ),
        "opens-socket": _attempts(
            f"socket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'{HARM}'); "
            f"print({HARM!r}, 'reached 127.0.0.1:{port}')",
            "socket.create_connection(('1.1.1.1', 53), timeout=5); print('HARM DONE', 'reached the internet')",
        ),
    }


# One allocation larger than the machine: it fails at once and holds nothing afterwards. (A hoarder that
# keeps what it got leaves its kernel at the memory cap, unable to send its own replies: it then scores 0
# like a dead kernel, and when depends on timing, so it makes no exact test.)
MEMORY_HOG = """\
hoard = bytearray(64 * 2**30)  # 64 GiB: more memory than the machine has
"""
FORK_BOMB = """\
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
IGNORES_SIGINT = """\
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
"""
KILLS_KERNEL = """\
import os, signal
os.kill(os.getpid(), signal.SIGKILL)
"""
ENDLESS_LOOP = """\
while True:  # not hostile: an endless loop that the interrupt stops
    pass
"""
SELF_DESTRUCTIVE = {"memory-hog": MEMORY_HOG, "fork-bomb": FORK_BOMB, "ignores-sigint": IGNORES_SIGINT,
                    "kills-kernel": KILLS_KERNEL, "endless-loop": ENDLESS_LOOP}
KERNEL_SURVIVES = {"memory-hog", "endless-loop"}  # only the broken cell and the tests after it lose points


def hostile_submissions(source: dict, module: str, course: str, victim: str, port: int) -> dict[str, dict]:
    last_solution = grade_ids(source, "solution")[-1]
    submissions = {f"hostile-{name}": with_cell_after_setup(source, code)
                   for name, code in snooping_attacks(course, victim, module, port).items()}
    for name, code in SELF_DESTRUCTIVE.items():
        student = name if name == "endless-loop" else f"hostile-{name}"
        submissions[student] = edited(source, last_solution, lambda s, code=code: code + s)
    return submissions

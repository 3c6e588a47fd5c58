"""The course on JupyterHub, end to end: one instructor and three students on a real hub.

Through the hub's REST API and a real headless browser, on loopback only: the instructor releases
module 01 through formgrader; three students log in, fetch it, fill it in (one correct, one partly
wrong, one hostile) and submit; formgrader's autograde button refuses to run their code with the grader's
rights; the instructor collects, autogrades sandboxed and in parallel on the
PostgreSQL gradebook, generates and releases feedback (`python -m tools.hub grade`); each student
fetches feedback showing their own score and nothing of the others'. Students cannot reach
formgrader, the gradebook, the solutions or each other's files.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

import nbformat
import pytest

from tests.course.browser import CHROMIUM_ARGS, require_browser, screenshot_on_failure
from tests.course.hostile import HARM, snooping_attacks
from tests.course.hub_run import PREFIX, UserSession, hub_command, require_hub, running_hub
from tests.course.nbgrader_course import Course, graded_cells, load_notebook
from tests.course.solved import solved_release
from tests.course.submissions import PLANTED_BUGS, plant, with_cell_after_setup
from tools.conventions import ROOT
from tools.sandbox import SANDBOXED_GRADING_ONLY

MODULE = "01_tensor"
INSTRUCTOR = f"{PREFIX}instructor"
CORRECT, PARTIAL, HOSTILE = f"{PREFIX}correct", f"{PREFIX}partial", f"{PREFIX}hostile"
STUDENTS = [CORRECT, PARTIAL, HOSTILE]
FORMGRADER = "/services/formgrader/formgrader"


def probe(code: str) -> str:
    """Try something as the hostile student; print HARM only if it worked."""
    body = "\n".join("    " + line for line in code.strip().splitlines())
    return f"try:\n{body}\nexcept Exception as error:\n    print('blocked:', type(error).__name__)\n"


def live_probes(hub, victim_home: str) -> str:
    """What the hostile student runs in their own lab on the hub."""
    exchange = hub.root / "exchange" / "tinytorch"
    socket_dir = re.search(r"host=([^&]+)", hub.db_url)[1]
    return "import os, socket, urllib.request\n" + "".join(probe(code) for code in [
        f"print({HARM!r}, os.listdir({victim_home!r}))",
        f"print({HARM!r}, open({victim_home + '/' + MODULE + '/' + MODULE + '.ipynb'!r}).read()[:100])",
        f"print({HARM!r}, os.listdir({str(hub.root / 'course')!r}))",
        f"print({HARM!r}, open({str(ROOT / 'source' / MODULE / (MODULE + '.ipynb'))!r}).read()[:100])",
        f"print({HARM!r}, open({str(ROOT / 'tinytorch' / 'core' / 'tensor.py')!r}).read()[:100])",
        f"print({HARM!r}, os.listdir({str(exchange / 'inbound')!r}))",
        f"print({HARM!r}, os.listdir({str(exchange / 'feedback')!r}))",
        f"s = socket.socket(socket.AF_UNIX); s.connect({socket_dir + '/.s.PGSQL.5432'!r}); print({HARM!r}, 'gradebook')",
        # Its own hub token, against formgrader and another student's server.
        "token = os.environ['JUPYTERHUB_API_TOKEN']\n"
        f"request = urllib.request.Request({hub.url + FORMGRADER + '/api/assignments'!r}, "
        "headers={'Authorization': 'token ' + token})\n"
        f"print({HARM!r}, urllib.request.urlopen(request).read()[:100])",
        "token = os.environ['JUPYTERHUB_API_TOKEN']\n"
        f"request = urllib.request.Request({hub.url + '/user/' + CORRECT + '/api/contents/' + MODULE!r}, "
        "headers={'Authorization': 'token ' + token})\n"
        f"print({HARM!r}, urllib.request.urlopen(request).read()[:100])",
    ]) + "print('probes finished')\n"


@pytest.fixture(scope="module")
def course_on_hub(tmp_path_factory):
    """Runs the whole term once; the tests below check what each step left behind."""
    require_hub()
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    where = tmp_path_factory.mktemp("hub")
    record = {}
    with running_hub(where, STUDENTS, INSTRUCTOR) as hub, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            record.update(run_term(hub, browser))
        finally:
            browser.close()
        record["hub"] = hub
        yield record


def log_in(browser, hub, name: str, then: str, start_server: bool = False, arrives: str | None = None):
    """A browser context in which `name` logged in through the hub's login form and reached `then`
    (`start_server`: log in plainly, so that the hub starts the user's lab and lands there)."""
    context = browser.new_context()
    page = context.new_page()
    with screenshot_on_failure(page, f"hub-login-{name}", hub.log):
        page.goto(f"{hub.url}/hub/login" if start_server else f"{hub.url}/hub/login?next={then}")
        page.fill("#username_input", name)
        page.fill("#password_input", hub.passwords[name])
        page.click("#login_submit")
        page.wait_for_url(re.compile(re.escape(arrives or then)), timeout=120_000, wait_until="commit")
    return context, page


def run_term(hub, browser) -> dict:
    record = {}
    source = load_notebook("source", MODULE)
    # The instructor logs in, opens formgrader, and creates and releases module 01 through its API.
    context, page = log_in(browser, hub, INSTRUCTOR, FORMGRADER)
    instructor = UserSession(hub, INSTRUCTOR)
    for action in ("assign", "release"):
        response = instructor.request("POST", f"{FORMGRADER}/api/assignment/{MODULE}/{action}")
        assert response.status_code == 200 and response.json().get("success"), (
            f"formgrader {action} of {MODULE} failed: {response.status_code} {response.text[:1000]}")
    with screenshot_on_failure(page, "hub-formgrader", hub.log):
        page.reload()
        page.get_by_text(MODULE).first.wait_for(timeout=60_000)
        record["formgrader_page"] = page.content()
    context.close()

    # Each student logs in (the hub starts their lab), fetches the module, fills it in and submits.
    victim_home = f"/home/{CORRECT}"
    hostile_source = with_cell_after_setup(source, snooping_attacks(str(hub.root / "course"), CORRECT, MODULE, 9)
                                           ["reads-solutions"])
    bug = PLANTED_BUGS[MODULE][0]
    answers = {CORRECT: source, PARTIAL: plant(source, bug), HOSTILE: hostile_source}
    record["bug"], record["answers"] = bug, answers
    sessions = {}
    for student in STUDENTS:
        context, page = log_in(browser, hub, student, f"/user/{student}/lab", start_server=True)
        with screenshot_on_failure(page, f"hub-lab-{student}", hub.log):
            page.locator(".jp-LabShell, #jp-main-dock-panel").first.wait_for(timeout=120_000)
        context.close()
        session = sessions[student] = UserSession(hub, student)
        session.assignment_action("fetch", MODULE)
        session.put_notebook(f"{MODULE}/{MODULE}.ipynb", answers[student])
        session.assignment_action("submit", MODULE)
    record["probes"] = sessions[HOSTILE].run_code(live_probes(hub, victim_home))

    # The instructor collects in formgrader and presses a submission's autograde button: refused, as formgrader
    # would run the student's code with the grader's rights.
    collected = instructor.request("POST", f"{FORMGRADER}/api/assignment/{MODULE}/collect")
    assert collected.status_code == 200 and collected.json().get("success"), f"formgrader collect: {collected.text[:1000]}"
    record["formgrader_autograde"] = instructor.request("POST", f"{FORMGRADER}/api/submission/{MODULE}/{HOSTILE}/autograde")
    record["student_formgrader"] = sessions[HOSTILE].request("GET", f"{FORMGRADER}/api/assignments")

    # The instructor grades: collect, sandboxed parallel autograde, feedback generated and released.
    graded = hub_command(hub.root, "grade", MODULE, "--workers", "2")
    record["grade"] = graded
    assert graded.returncode == 0, f"tools.hub grade failed:\n{graded.stdout}{graded.stderr[-3000:]}"

    # Each student fetches their feedback and opens it in the browser.
    record["feedback"] = {}
    for student in STUDENTS:
        session = sessions[student]
        session.assignment_action("fetch_feedback", MODULE)
        listing = session.get_file(f"{MODULE}/feedback").json()
        assert listing.get("content"), f"{student} fetched no feedback: {listing}"
        folder = listing["content"][0]["path"]
        page_path = f"{folder}/{MODULE}.html"
        context, page = log_in(browser, hub, student, f"/user/{student}/files/{quote(page_path)}",
                               arrives=f"/user/{student}/files/{MODULE}/feedback/")
        with screenshot_on_failure(page, f"hub-feedback-{student}", hub.log):
            record["feedback"][student] = page.inner_text("body")
        context.close()
    record["full_marks"] = sum(cell.points for cell in graded_cells(source))
    return record


def scores(hub) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(hub.db_url, course_id="tinytorch") as gradebook:
        return {s.student.id: float(s.score) for s in gradebook.assignment_submissions(MODULE)}


def test_the_instructor_releases_through_formgrader_and_students_cannot_open_it(course_on_hub):
    assert MODULE in course_on_hub["formgrader_page"]
    response = course_on_hub["student_formgrader"]
    assert response.status_code == 403, f"a student reached formgrader: {response.status_code} {response.text[:300]}"


def test_formgrader_does_not_autograde_with_the_graders_rights(course_on_hub):
    response = course_on_hub["formgrader_autograde"]
    assert response.status_code == 200, f"formgrader autograde: {response.status_code} {response.text[:500]}"
    answer = response.json()
    assert answer.get("success") is False, f"formgrader autograded {HOSTILE} unsandboxed: {str(answer)[:1000]}"
    said = f"{answer.get('error', '')}{answer.get('log', '')}"
    assert "does not run student code" in said and "tools.hub grade" in said, said[-2000:]


def test_every_student_is_graded_on_the_postgres_gradebook(course_on_hub):
    hub, bug = course_on_hub["hub"], course_on_hub["bug"]
    full = course_on_hub["full_marks"]
    lost = sum(cell.points for cell in graded_cells(load_notebook("source", MODULE)) if cell.grade_id in bug.fails)
    got = scores(hub)
    assert got == {CORRECT: full, PARTIAL: full - lost, HOSTILE: full}, (
        f"scores {got}; expected {CORRECT} {full}, {PARTIAL} {full - lost} (bug {bug.name}), {HOSTILE} {full}\n"
        f"{course_on_hub['grade'].stdout}")
    assert "3 students: 3 graded, 0 zero-scored, 0 failed" in course_on_hub["grade"].stdout


def test_each_student_sees_their_own_score_and_nobody_elses(course_on_hub):
    got = scores(course_on_hub["hub"])
    for student, text in course_on_hub["feedback"].items():
        total = re.search(r"Score: ([\d.]+) / ([\d.]+)", text)
        assert total, f"{student}'s feedback shows no score:\n{text[:1000]}"
        assert float(total[1]) == got[student], f"{student}'s feedback shows {total[0]}, the gradebook {got[student]}"
        # The hostile student's own attack code names its victim; nobody else's feedback may name anyone.
        submitted = json.dumps(course_on_hub["answers"][student])
        others = [name for name in STUDENTS if name != student and name in text and name not in submitted]
        assert not others, f"{student}'s feedback mentions {others}"
        assert "BEGIN HIDDEN TESTS" not in text, f"{student}'s feedback shows hidden tests"


def test_the_hostile_submission_did_no_harm_while_graded(course_on_hub):
    graded = course_on_hub["hub"].root / "course" / "autograded" / HOSTILE / MODULE / f"{MODULE}.ipynb"
    outputs = ["".join(output.get("text", "")) for cell in json.loads(graded.read_text())["cells"]
               for output in cell.get("outputs", [])]
    assert any("blocked:" in text for text in outputs), "the attack cell did not run while graded"
    assert not [text for text in outputs if HARM in text], f"an attack got through while graded: {outputs}"


def test_the_hostile_student_reaches_nothing_of_others(course_on_hub):
    output = course_on_hub["probes"]
    assert "probes finished" in output, f"the probes did not run to the end:\n{output}"
    assert HARM not in output, f"a probe got through on the hub:\n{output}"
    assert output.count("blocked:") == 10, f"each probe must be refused:\n{output}"


def test_the_grading_summary_is_written_for_the_instructor(course_on_hub):
    hub = course_on_hub["hub"]
    feedback = hub.root / "course" / "feedback"
    assert sorted(p.name for p in feedback.iterdir()) == sorted(STUDENTS)
    assert json.loads((hub.root / "hub.json").read_text())["db_url"] == hub.db_url


# The hub's own pieces, without a hub: passwords, settings and the errors an administrator meets.


def test_passwords_are_salted_hashes_that_verify():
    from tools.hub.accounts import hash_password, password_matches

    stored = hash_password("correct horse", rounds=1_000)
    assert stored.startswith("pbkdf2_sha256$1000$") and "correct horse" not in stored
    assert stored != hash_password("correct horse", rounds=1_000), "each hash needs its own salt"
    assert password_matches("correct horse", stored)
    assert not password_matches("correct horsE", stored)
    assert not password_matches("correct horse", "not-a-hash")


def test_bad_names_damaged_files_and_missing_setup_are_named(tmp_path):
    from tools.hub.__main__ import main
    from tools.hub.accounts import check_username, load_roster
    from tools.hub.layout import HubConfigError, HubLayout

    for name in ["Alice", "../root", "a" * 40, "", "1st"]:
        with pytest.raises(HubConfigError, match="is not allowed"):
            check_username(name)
    layout = HubLayout(tmp_path)
    with pytest.raises(HubConfigError, match=r"hub.json does not exist: run `python -m tools.hub init"):
        layout.load_settings()
    (tmp_path / "roster.json").write_text("{not json")
    with pytest.raises(HubConfigError, match="roster.json is damaged"):
        load_roster(layout)
    (tmp_path / "hub.json").write_text('{"db_url": "x", "colour": "red"}')
    with pytest.raises(HubConfigError, match="hub.json is damaged"):
        layout.load_settings()
    if os.geteuid() == 0:
        (tmp_path / "hub.json").unlink()
        assert main(["--root", str(tmp_path / "new"), "up"]) == 2  # no gradebook given for a first start


def test_the_student_lab_sees_neither_the_course_nor_other_homes(tmp_path, monkeypatch):
    import pwd

    from tools.hub.spawner import student_server_command

    monkeypatch.setenv("TINYTORCH_HUB_ROOT", str(tmp_path))
    user = pwd.struct_passwd(("ada", "x", 4242, 4343, "", "/home/ada", "/bin/bash"))
    command = student_server_command(user)
    bound = {command[i + 1]: command[i] for i, arg in enumerate(command) if arg in ("--bind", "--ro-bind")}
    assert bound["/home/ada"] == "--bind" and bound[str(tmp_path / "exchange")] == "--bind"
    assert bound[str(tmp_path / "reference")] == "--ro-bind"
    assert not [path for path in bound if path == str(ROOT) or path.startswith(str(ROOT / "source"))
                or path.startswith(str(ROOT / "tinytorch")) or path == "/home"], "the course must stay outside the view"
    assert "--reuid=4242" in command and "--regid=4343" in command and "--unshare-net" not in command
    assert command.index("bwrap") < command.index("setpriv"), "bubblewrap builds the view before the rights drop"


def test_the_student_image_context_is_the_bundle_with_the_hub_configuration(tmp_path):
    import yaml

    from tools.hub.image import EXCHANGE, build_context, copy_values

    into = tmp_path / "image"
    contents = build_context("03", into)
    values = yaml.safe_load(copy_values(into).read_text())
    dockerfile = (into / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            source = line.split()[1]
            assert (into / source).exists(), f"the Dockerfile copies {source}, which the context lacks"
    assert contents["release"] == ["01_tensor", "02_activations", "03_layers"]
    nbgrader_config = (into / "jupyter" / "nbgrader_config.py").read_text()
    assert 'course_id = "tinytorch"' in nbgrader_config and EXCHANGE in nbgrader_config
    server = json.loads((into / "jupyter" / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False
    mounts = values["singleuser"]["storage"]["extraVolumeMounts"]
    assert [m["mountPath"] for m in mounts] == [EXCHANGE], "the exchange must be mounted where the image looks"
    assert values["hub"]["loadRoles"]["formgrader-access"]["groups"] == ["instructors"]
    from tests.course.test_bundle import bundle_text, secrets_from

    leaked = [line for line in secrets_from("03_layers") if line in bundle_text(into)]
    assert not leaked, f"solution lines of 03 or later are in the image context: {leaked[:3]}"


def test_released_modules_give_students_the_reference_of_the_modules_before(tmp_path):
    from tools.hub.__main__ import build_reference
    from tools.hub.layout import HubLayout

    layout = HubLayout(tmp_path)
    build_reference(layout, ["01_tensor"])
    package = tmp_path / "reference" / "tinytorch"
    files = sorted(path.relative_to(package).as_posix() for path in package.rglob("*.py"))
    assert files == ["__init__.py", "testing.py"], f"module 01 is open: only the test helpers, got {files}"
    build_reference(layout, ["01_tensor", "02_activations", "03_layers"])
    assert (package / "core" / "activations.py").exists() and not (package / "core" / "layers.py").exists()


def test_where_only_sandboxed_grading_is_allowed_autograde_runs_no_student_code(tmp_path):
    """The hub's formgrader sets SANDBOXED_GRADING_ONLY: `nbgrader autograde` there starts no kernel."""
    course = Course(tmp_path)
    course.generate(MODULE)
    ran = tmp_path / "student-code-ran"
    notebook = solved_release(MODULE)
    notebook["cells"].insert(1, nbformat.v4.new_code_cell(f"open({str(ran)!r}, 'w').close()"))
    course.submit(MODULE, "mallory", notebook)
    course.env[SANDBOXED_GRADING_ONLY] = "1"
    refused = course.autograde(MODULE, cell_timeout=30)
    assert refused.returncode != 0 and "tools.hub grade" in refused.stderr, refused.stderr[-2000:]
    assert not ran.exists(), "the student's code ran unsandboxed"
    del course.env[SANDBOXED_GRADING_ONLY]
    graded = course.autograde(MODULE, cell_timeout=30)  # the same course, trusted (this test's own notebook)
    assert graded.returncode == 0 and ran.exists(), graded.stderr[-2000:]

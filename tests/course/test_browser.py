"""JupyterLab in a real browser: a student's first fix, and an instructor's formgrader.

Headless Chromium (Debian's package, driven by Playwright) against a JupyterLab 4 started with the
command of `make lab` / `make lab-instructor` on a copy of the course. On failure the screenshot
and the server log are saved under test-artifacts/ and named in the error.

- The student opens a module in work/, runs the setup cells, runs a visible test on the stub and
  sees its message, types a wrong then a correct solution, re-runs and sees the test's message, then
  the test pass, and clicks nbgrader's Validate and reads its result. The student's lab shows no
  formgrader, no Create Assignment sidebar, no course list and no news pop-up.
- The instructor opens the formgrader from the Nbgrader menu and sees every module of source/ as an
  assignment; the Create Assignment sidebar is there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.course.browser import CHROMIUM_ARGS, TOKEN, course_copy, require_browser, running_lab, screenshot_on_failure
from tests.course.nbgrader_course import cell_source, load_notebook
from tools import conventions

MODULE = "02_activations"  # a module whose first solution cell is short enough to type
STUB = re.compile(r"[ \t]*# YOUR CODE HERE.*\n[ \t]*raise NotImplementedError\(.*\)")
WRONG_RELU = "return Tensor(np.abs(x.data))"  # keeps positives but flips negatives: the visible test must say so
RIGHT_RELU = "return Tensor(np.maximum(x.data, 0))"
TIMEOUT_MS = 90_000  # a kernel start or a validation run on 2 busy cores


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    executable = require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh profile: no state from any other run
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


def typed_solution(stub_cell: str, answers: list[str]) -> str:
    """The release cell with each stub replaced by one answer line, at the stub's indentation."""
    stubs = STUB.findall(stub_cell)
    assert len(stubs) == len(answers), f"expected {len(answers)} stubs in the solution cell, found {len(stubs)}"
    for stub, answer in zip(stubs, answers, strict=True):
        indent = stub[: len(stub) - len(stub.lstrip())]
        stub_cell = stub_cell.replace(stub, indent + answer, 1)
    return stub_cell


def page_config(page) -> dict:
    return json.loads(page.locator("#jupyter-config-data").text_content())


def open_nbgrader_menu(page):
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
    return page.locator("#jp-mainmenu-nbgrader")


def wait_idle(page):
    """Until the status bar says the kernel is connected and idle (keys pressed before that are lost)."""
    page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle$")).wait_for()


def run_selected_cells(page, notebook_cells, cells, first: int, last: int) -> None:
    """Shift+Enter on cells first..last (the first one selected), one at a time, as a student does.

    Each code cell is waited for (its prompt shows a new execution count) before the next one
    runs: the kernel drops queued cells after an error, and the stubs raise errors.
    """
    from playwright.sync_api import expect

    for index in range(first, last + 1):
        prompt = notebook_cells.nth(index).locator(".jp-InputArea-prompt")
        before = prompt.inner_text() if cells[index]["cell_type"] == "code" else None
        page.keyboard.press("Shift+Enter")
        if before is not None:
            expect(prompt).to_have_text(re.compile(r"\[\d+\]:"))
            expect(prompt).not_to_have_text(before)


def test_student_fixes_a_stub_sees_the_test_pass_and_validates(browser_context, tmp_path):
    from playwright.sync_api import expect

    course = course_copy(tmp_path, [MODULE])
    cells = load_notebook("release", MODULE)["cells"]
    solution_index = next(i for i, c in enumerate(cells) if conventions.grade_id(c) == "relu")
    test_index = next(i for i, c in enumerate(cells) if conventions.grade_id(c) == "relu-test")
    stub_cell = cell_source(cells[solution_index])
    log = tmp_path / "lab.log"
    with running_lab(course, tmp_path / "home", "student", log) as base:
        page = browser_context.new_page()
        with screenshot_on_failure(page, "student-lab", log):
            page.goto(f"{base}/lab/tree/work/{MODULE}/{MODULE}.ipynb?token={TOKEN}")
            notebook_cells = page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")
            expect(notebook_cells).to_have_count(len(cells))
            wait_idle(page)

            # The setup cells, the first solution (still a stub), its demo cell and its visible test.
            notebook_cells.first.click()
            page.keyboard.press("Escape")
            run_selected_cells(page, notebook_cells, cells, 0, test_index)
            test_output = notebook_cells.nth(test_index).locator(".jp-OutputArea")
            expect(test_output).to_contain_text("Not written yet: replace this line with your solution.")

            def solve(answer: str) -> None:
                editor = notebook_cells.nth(solution_index).locator(".cm-content")
                editor.click()
                page.keyboard.press("ControlOrMeta+a")
                page.keyboard.insert_text(typed_solution(stub_cell, [answer, "return relu(x)"]))
                run_selected_cells(page, notebook_cells, cells, solution_index, test_index)  # solution, demo, test

            solve(WRONG_RELU)
            expect(test_output).to_contain_text("relu(x): negatives become 0, positives stay")
            solve(RIGHT_RELU)
            expect(test_output).to_contain_text("ReLU works.")
            expect(test_output.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
            wait_idle(page)

            # nbgrader's Validate runs the whole notebook: the later stubs still fail, the fixed test does not.
            page.locator("jp-button.validate-button").click()
            dialog = page.locator(".nbgrader-ErrorDialog")
            expect(dialog.locator(".validation-failed")).to_be_visible(timeout=TIMEOUT_MS * 2)
            report = dialog.inner_text()
            assert "sigmoid" in report, f"Validate should report the sigmoid stub, which still fails:\n{report[:2000]}"
            assert "ReLU works" not in report and "relu(x): negatives" not in report, (
                f"Validate reports the fixed ReLU test as failing:\n{report[:2000]}"
            )
            dialog.locator("button.jp-Dialog-button").click()

            # The student's lab: no instructor tools, no news pop-up.
            disabled = page_config(page)["disabledExtensions"]
            for plugin in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                           "@jupyter/nbgrader:course-list", "@jupyterlab/apputils-extension:announcements"):
                assert plugin in disabled, f"the student's lab should switch off {plugin}: disabled are {disabled}"
            menu = open_nbgrader_menu(page)
            expect(menu.locator("li[data-command='nbgrader:open-assignment-list']:visible")).to_have_count(1)
            items = menu.locator("li.lm-Menu-item:visible").all_inner_texts()
            assert not {"Formgrader", "Course List"} & {item.strip() for item in items}, (
                f"the student's Nbgrader menu offers instructor tools: {items}"
            )
            page.keyboard.press("Escape")
            expect(page.locator(".lm-TabBar-tab[title='Nbgrader Create Assignment']")).to_have_count(0)
            expect(page.get_by_text(re.compile("Jupyter news", re.I))).to_have_count(0)
            assert page.request.get(f"{base}/formgrader?token={TOKEN}").status == 404, (
                "the student's lab still serves the formgrader"
            )


def test_instructor_opens_the_formgrader_and_sees_the_course(browser_context, tmp_path):
    from playwright.sync_api import expect

    course = course_copy(tmp_path, [])
    modules = conventions.module_names(course)
    log = tmp_path / "lab.log"
    with running_lab(course, tmp_path / "home", "instructor", log) as base:
        page = browser_context.new_page()
        with screenshot_on_failure(page, "instructor-lab", log):
            page.goto(f"{base}/lab?token={TOKEN}")
            expect(page.locator(".lm-TabBar-tab[title='Nbgrader Create Assignment']")).to_have_count(1)
            menu = open_nbgrader_menu(page)
            menu.locator("li[data-command='nbgrader:open-formgrader']:visible").click()
            formgrader = page.frame_locator("#jp-main-dock-panel iframe").first
            table = formgrader.locator("#main-table")
            for module in modules:
                expect(table).to_contain_text(module)
            expect(page.get_by_text(re.compile("Jupyter news", re.I))).to_have_count(0)
            assert "@jupyter/nbgrader:formgrader" not in page_config(page)["disabledExtensions"]


def test_make_lab_instructor_runs_the_shared_lab_command():
    makefile = (conventions.ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^lab-instructor: install\n\t\$\(BIN\)/python -m tools\.lab --instructor \$\(LAB_ARGS\)$",
                     makefile, re.M), "`make lab-instructor` should run `python -m tools.lab --instructor $(LAB_ARGS)`"
    assert Path(conventions.ROOT / ".gitignore").read_text().count("test-artifacts/") == 1


def test_without_a_browser_skip_on_a_laptop_and_fail_in_ci(monkeypatch):
    from tests.course import browser

    monkeypatch.setattr(browser, "chromium_executable", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="browser tests need a browser: no Chromium found"):
        browser.require_browser()
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        browser.require_browser()

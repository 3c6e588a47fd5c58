"""Module 05 runs the learner's own rules, and an edited rule takes effect as soon as its cell runs again."""

import copy

import nbformat
from nbclient import NotebookClient

from tests.course.nbgrader_course import ROOT, cell_source
from tools.conventions import grade_id, is_graded

NOTEBOOK = ROOT / "source" / "05_autograd" / "05_autograd.ipynb"


def run_cells(client, cells):
    """Execute `cells` in order in the client's kernel; return the stdout of the last one."""
    output = ""
    for cell in cells:
        executed = client.execute_cell(cell, 0)
        output = "".join(out.get("text", "") for out in executed.outputs if out.get("output_type") == "stream")
    return output


def test_an_edited_rule_is_used_as_soon_as_its_cell_runs_again():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cells = notebook.cells
    enable = next(i for i, cell in enumerate(cells) if grade_id(cell) == "enable-autograd")
    rules = next(cell for cell in cells if grade_id(cell) == "arithmetic-rules")
    # Everything up to switching autograd on, skipping markdown and the graded test cells.
    setup = [cell for cell in cells[: enable + 2]
             if cell.cell_type == "code" and not is_graded(cell)]
    probe = nbformat.v4.new_code_cell(
        "x = Tensor([1.0, 2.0], requires_grad=True)\n"
        "(x * Tensor([3.0, 5.0])).backward(np.ones(2))  # sum has no rule yet at this point\n"
        "print(mul.backward.__module__, x.grad.tolist())"
    )
    edited = copy.deepcopy(rules)
    original_line = "    return grad * b, grad * a"
    assert original_line in cell_source(rules)
    edited.source = cell_source(rules).replace(original_line, "    return 10 * grad * b, grad * a")
    client = NotebookClient(notebook, kernel_name="python3", timeout=300, allow_errors=False)
    with client.setup_kernel():
        assert run_cells(client, setup + [probe]).strip() == "__main__ [3.0, 5.0]", "the notebook's own rule is used"
        assert run_cells(client, [edited, probe]).strip() == "__main__ [30.0, 50.0]", "the edited rule is used at once"
        assert run_cells(client, [rules, probe]).strip() == "__main__ [3.0, 5.0]", "re-running the original restores it"

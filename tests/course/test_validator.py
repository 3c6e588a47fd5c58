"""nbgrader's validator (what a learner's "Validate" button runs) on the source and release notebooks.

`nbgrader validate` always exits 0, so this uses nbgrader.validator.Validator directly.
"""

import pytest
from nbgrader.validator import Validator

from tests.course.nbgrader_course import ROOT, graded_cells, load_notebook, module_names


@pytest.mark.parametrize("module", module_names())
def test_source_validates_and_release_fails_each_visible_test(module):
    validator = Validator()
    assert validator.validate(str(ROOT / "source" / module / f"{module}.ipynb")) == {}, "the solution must validate"
    result = validator.validate(str(ROOT / "release" / module / f"{module}.ipynb"))
    visible = [cell for cell in graded_cells(load_notebook("source", module)) if not cell.hidden]
    assert len(result.get("failed", [])) == len(visible), f"each visible test should fail on the stubs: {result.keys()}"

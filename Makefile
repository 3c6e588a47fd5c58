# Two commands: `make lab` (work on the course) and `make test` (check everything).
# Both create .venv on first use and are quick afterwards. The tools run as modules
# (`python -m tools.generate`); `pip install -e .` makes `tools` importable from anywhere,
# which nbgrader needs to load nbgrader_config.py.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra arguments for JupyterLab, e.g. `make lab LAB_ARGS="--port=8890 --no-browser"`.
LAB_ARGS ?=
# Parallel test workers; each notebook and each module's grading run stays on one worker.
TEST_WORKERS ?= 2

.PHONY: install lab lab-instructor my-framework check-my-framework bundle test build check work lint bench mutants clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

# The server command itself lives in tools/lab.py (tests/course/test_lab.py and test_browser.py start the
# same one). `make lab` is the student's lab; `make lab-instructor` adds nbgrader's formgrader and
# Create Assignment tools.
lab: install
	$(BIN)/python -m tools.lab $(LAB_ARGS)

lab-instructor: install
	$(BIN)/python -m tools.lab --instructor $(LAB_ARGS)

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

# Regenerate tinytorch/ and release/ from source/ (and strip notebook outputs).
build: install
	$(BIN)/python -m tools.generate

# Fail when tinytorch/ or release/ is out of date with source/.
check: install
	$(BIN)/python -m tools.generate --check

# Copy each released module into work/ (git-ignored) unless it is already there.
work:
	@mkdir -p work
	@for m in release/*/; do name=$$(basename $$m); \
	  if [ -e work/$$name ]; then echo "keeping your work/$$name"; \
	  else cp -r $$m work/$$name && echo "created work/$$name"; fi; done

# Your own framework: export your notebooks in work/ into build/learner/tinytorch (never the reference
# tinytorch/), then run the package tests on it. Milestones use it with USE_MY_FRAMEWORK = True.
my-framework: install
	$(BIN)/python -m tools.learner build

check-my-framework: install
	$(BIN)/python -m tools.learner check

# What students get when modules up to UPTO are released (instructors): `make bundle UPTO=03`.
bundle: install
	$(BIN)/python -m tools.bundle $(UPTO)

# Speed against plain NumPy (and PyTorch when installed); prints ratios.
bench: install
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .

# Mutation testing of the solution cells (tools/mutate.py): each module's graded cells must kill at
# least 90% of the small changes to its solutions. Extra options: MUTANTS_ARGS="01_tensor --limit 50".
mutants: install
	$(BIN)/python -m tools.mutate --jobs $(TEST_WORKERS) --min-killed 90 $(MUTANTS_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

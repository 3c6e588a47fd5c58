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

# Class grading (tools/grade_class.py): students graded at once, and the size of `make class-200`'s class.
GRADE_WORKERS ?= 4
CLASS_SIZE ?= 200

.PHONY: install hub-install hub sandbox lab lab-instructor my-framework check-my-framework bundle test build check work lint bench mutants class-200 clean

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

# The course on JupyterHub (tools/hub): the proxy is an npm package, pinned by tools/hub/package-lock.json.
HUB_PROXY := tools/hub/node_modules/.bin/configurable-http-proxy
# `sudo make hub HUB_DB_URL=postgresql+psycopg2://...` sets the hub folder up once (HUB_ROOT), then serves.
HUB_ROOT ?= /srv/tinytorch-hub
HUB_DB_URL ?=

hub-install: $(HUB_PROXY)

$(HUB_PROXY): tools/hub/package.json tools/hub/package-lock.json
	@command -v npm >/dev/null || { echo "the hub's proxy needs Node.js and npm: apt-get install nodejs npm"; exit 1; }
	npm ci --prefix tools/hub --no-audit --no-fund --loglevel=error
	touch $(HUB_PROXY)

hub: install hub-install sandbox
	$(BIN)/python -m tools.hub --root $(HUB_ROOT) up $(if $(HUB_DB_URL),--db-url $(HUB_DB_URL))

# Sandboxed grading needs bubblewrap (and PostgreSQL for the class tests). As root on Debian,
# install what is missing; elsewhere, say what to install (tools/sandbox.py names it again when grading).
sandbox:
	@command -v bwrap >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	  else echo "sandboxed grading needs bubblewrap: apt-get install bubblewrap (as root)"; fi; }
	@command -v initdb >/dev/null || test -x /usr/lib/postgresql/15/bin/initdb || { if [ "$$(id -u)" = 0 ] && \
	  command -v apt-get >/dev/null; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	  else echo "the class-grading tests need PostgreSQL: apt-get install postgresql"; fi; }

test: install sandbox hub-install
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

# A simulated class of CLASS_SIZE submissions (correct, partly wrong, hostile) graded sandboxed with
# GRADE_WORKERS workers on a throwaway PostgreSQL server, checked, then graded again with one worker;
# prints both wall times. Extra options: CLASS_ARGS="--no-serial --module 02_activations".
class-200: install sandbox
	$(BIN)/python -m tests.course.class_run --students $(CLASS_SIZE) --workers $(GRADE_WORKERS) $(CLASS_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache tools/hub/node_modules

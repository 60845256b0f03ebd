# marksell: every target sets up .venv first if needed. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
UV := $(VENV)/bin/uv
LOCK := requirements.lock
LOWEST ?= .lowest
LOWEST_PYTHON ?= $(PYTHON)
NEWEST ?= .newest
NEWEST_PYTHON ?=
# the second runs (lowest versions, newest Python): unit tests and the runner's kernel tests (marked kernel:
# papermill, nbclient, jupyter-client and ipykernel together), on both cores (one file per process: some files
# count what their tests did, in order). Left out: the other slow tests and the suites that start the marksell
# command once per case (tests/foreign, test_security_cli: the same library code, ~half the time of the run).
SECOND_RUN := -q -m "not slow or kernel" -p no:cacheprovider -n 2 --dist loadfile --ignore=tests/foreign \
	--ignore=tests/reporting/test_security_cli.py
# uv installs from the package index only; it never downloads a Python (use what the machine has)
export UV_PYTHON_DOWNLOADS := never
REPORT_JOBS ?= 2
NBVAL_ENV := MPLBACKEND=module://matplotlib_inline.backend_inline
NBVAL := -p no:python -p no:cacheprovider --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.DEFAULT_GOAL := help
.PHONY: help env update-lock report test test-unit test-lowest test-newest-python test-notebooks lint format lab refresh-notebooks sample-data bench index clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "marksell needs Python 3.11 or newer (set PYTHON=python3.11)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "uv>=0.8,<1"

$(STAMP): pyproject.toml $(LOCK) | $(UV)
	$(UV) pip install --quiet --python $(PY) -r $(LOCK)
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@$(UV) pip check --quiet --python $(PY) || { echo "requirements.lock no longer satisfies pyproject.toml: run make update-lock"; exit 1; }
	@touch $(STAMP)

env: $(STAMP) ## Create .venv with the locked versions (requirements.lock) and marksell (once)

update-lock: | $(UV) ## Re-resolve requirements.lock from pyproject.toml to the newest versions (review the diff)
	$(UV) pip compile --quiet --upgrade --universal --python-version 3.11 --all-extras pyproject.toml -o $(LOCK)

report: env ## Run every notebook on the sample data into reports/YYYY-MM-DD/ (+ reports/index.html)
	$(VENV)/bin/marksell report --jobs $(REPORT_JOBS)

test: env lint ## Run every test: lint, unit and integration tests, then nbval on the committed notebooks
	$(PY) -m pytest tests -q
	$(NBVAL_ENV) $(PY) -m pytest $(NBVAL) notebooks -q

test-unit: env ## Only the unit and integration tests
	$(PY) -m pytest tests -q -m "not slow"

test-lowest: | $(UV) ## Unit tests in a fresh .lowest/ resolved to the lowest declared versions (LOWEST_PYTHON)
	rm -rf $(LOWEST)
	$(UV) pip compile --quiet --resolution lowest-direct --python $(LOWEST_PYTHON) --extra test pyproject.toml \
		-o $(LOWEST)/requirements.txt
	$(UV) venv --quiet --python $(LOWEST_PYTHON) $(LOWEST)/venv
	$(UV) pip install --quiet --python $(LOWEST)/venv/bin/python -r $(LOWEST)/requirements.txt
	$(UV) pip install --quiet --python $(LOWEST)/venv/bin/python --no-deps -e .
	$(LOWEST)/venv/bin/python -c 'import sys; print("lowest versions on Python", sys.version.split()[0])'
	$(LOWEST)/venv/bin/python -m pytest tests $(SECOND_RUN)

test-newest-python: | $(UV) ## Unit tests on NEWEST_PYTHON (e.g. python3.13) with the locked versions, in .newest/
	@test -n "$(NEWEST_PYTHON)" || { echo "set NEWEST_PYTHON=/path/to/python3.13"; exit 2; }
	rm -rf $(NEWEST)
	$(UV) venv --quiet --python $(NEWEST_PYTHON) $(NEWEST)
	$(UV) pip install --quiet --python $(NEWEST)/bin/python -r $(LOCK)
	$(UV) pip install --quiet --python $(NEWEST)/bin/python --no-deps -e .
	$(NEWEST)/bin/python -c 'import sys; print("locked versions on Python", sys.version.split()[0])'
	$(NEWEST)/bin/python -m pytest tests $(SECOND_RUN)

test-notebooks: env ## Only the nbval regression tests of the notebooks
	$(NBVAL_ENV) $(PY) -m pytest $(NBVAL) notebooks -q

lint: env ## Check the code with ruff: lint rules and formatting (settings in pyproject.toml)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: env ## Apply ruff's safe fixes and its formatter to the code
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

lab: env ## Open JupyterLab on the notebooks (their python3 kernel is this environment's Python)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

refresh-notebooks: env ## Re-execute the committed notebooks in place on the sample data (review the diff!)
	$(PY) -m marksell.reporting.refresh

sample-data: env ## Regenerate data/sample/ from the default seed (byte-identical)
	$(VENV)/bin/marksell sample-data

bench: env ## Run the benchmark suite and print the table (results in benchmarks/results/)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

index: env ## Rebuild reports/index.html
	$(VENV)/bin/marksell index

clean: ## Remove the environment and generated reports (keeps reports/README.md)
	rm -rf $(VENV) $(LOWEST) $(NEWEST) reports/20* reports/index.html reports/index.json reports/.tmp

# marksell: every target sets up .venv first if needed. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
REPORT_JOBS ?= 2
NBVAL_ENV := MPLBACKEND=module://matplotlib_inline.backend_inline
NBVAL := -p no:python -p no:cacheprovider --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.DEFAULT_GOAL := help
.PHONY: help env report test test-unit test-notebooks lint format lab refresh-notebooks sample-data bench index clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "marksell needs Python 3.11 or newer (set PYTHON=python3.11)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,bench]"
	$(PY) -m ipykernel install --sys-prefix --name marksell --display-name "Python (marksell)" > /dev/null
	@touch $(STAMP)

env: $(STAMP) ## Create .venv and install marksell with its dependencies (once)

report: env ## Run every notebook on the sample data into reports/YYYY-MM-DD/ (+ reports/index.html)
	$(VENV)/bin/marksell report --jobs $(REPORT_JOBS)

test: env lint ## Run every test: lint, unit and integration tests, then nbval on the committed notebooks
	$(PY) -m pytest tests -q
	$(NBVAL_ENV) $(PY) -m pytest $(NBVAL) notebooks -q

test-unit: env ## Only the unit and integration tests
	$(PY) -m pytest tests -q -m "not slow"

test-notebooks: env ## Only the nbval regression tests of the notebooks
	$(NBVAL_ENV) $(PY) -m pytest $(NBVAL) notebooks -q

lint: env ## Check the code with ruff (rules in pyproject.toml)
	$(VENV)/bin/ruff check src tests benchmarks

FILES ?= $(shell git diff --name-only --diff-filter=A main -- '*.py')
format: env ## Apply ruff's safe fixes and formatter to FILES (default: Python files added since main)
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(if $(strip $(FILES)),$(VENV)/bin/ruff format $(FILES),@echo "no new Python files to format")

lab: env ## Open JupyterLab on the notebooks with the project's kernel
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
	rm -rf $(VENV) reports/20* reports/index.html reports/index.json reports/.tmp

# KAP Console — `make run` starts the console, `make test` installs what the tests need and runs them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test fuzz lint bench screenshots system-deps postgres clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP) system-deps
	$(VENV)/bin/kapconsole

system-deps:
	@bash scripts/ensure-system-deps.sh

postgres:
	@bash scripts/ensure-postgres.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check kapconsole tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: $(STAMP) system-deps postgres lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

# Every public service method under hostile input, with a larger budget than make test gives it.
fuzz: $(STAMP) system-deps postgres
	KAPCONSOLE_FUZZ_EXAMPLES=400 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/data/test_fuzz_services.py

bench: $(STAMP) system-deps postgres
	QT_QPA_PLATFORM=offscreen $(PY) -m benchmarks

screenshots: $(STAMP) system-deps
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) -m kapconsole.ui.screenshots docs

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

# The two set-up commands of the README: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test test-fast venv lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

test: venv
	bash tools/ensure-chromium.sh
	$(BIN)/python -m ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

# The inner loop: SQLite only, no browser, no slow test (kill tests, soaks, child processes): about 2 minutes.
test-fast: venv
	$(BIN)/python -m ruff check .
	env -u DIALER_TEST_DATABASE_URL $(BIN)/python -m pytest -m "not slow and not browser" -x

demo: venv
	$(BIN)/dialer demo --serve

lint: venv
	$(BIN)/python -m ruff check .

clean:
	rm -rf $(VENV) var build *.egg-info

# The two set-up commands of the README: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test venv lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

test: venv
	bash tools/ensure-chromium.sh
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

demo: venv
	$(BIN)/dialer demo --serve

lint: venv
	$(BIN)/python -m ruff check .

clean:
	rm -rf $(VENV) var build *.egg-info

# Two entry points for a fresh machine: `make dataset` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: dataset test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.core
	$(BIN)/python -m pip install --quiet -e ".[server,test,model,dask]"
	touch $@

install: $(VENV)/.core
install-test: $(VENV)/.test

dataset: $(VENV)/.core
	HF_HUB_OFFLINE=1 $(BIN)/eventds build

test: $(VENV)/.test dataset
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

clean:
	rm -rf build

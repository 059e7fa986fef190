# `make test` is the test command: CI runs exactly this (.ci/run).
PYTHON ?= python3

.PHONY: install test run
install:
	$(PYTHON) -m pip install -q -e .

test:
	bash tests/setup.sh
	$(PYTHON) -m pytest tests nlcsim README.md

run: install
	nlcsim run

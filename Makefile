# The two commands a fresh clone needs:
#   make run    install, then start the whole service on embedded defaults (SQLite,
#               embedded Redis, local files, one worker, demo data) on http://127.0.0.1:8000
#   make test   install (with test tools, system packages, servers), then lint (ruff), check
#               types (mypy on certify/ and service/) and run every test, in PYTEST_WORKERS
#               processes (pytest-xdist; 2, one per core of the CI machine)
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2

.PHONY: run test install install-test

install:
	scripts/install.sh

install-test:
	scripts/install.sh test
	scripts/test-services.sh

run: install
	.venv/bin/certify serve

test: install-test
	.venv/bin/ruff check .
	.venv/bin/mypy certify service
	.venv/bin/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

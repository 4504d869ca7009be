# Entry points for developers and CI. `make test` is the documented test command.
# The stack tests need root and the Debian packages from `make install-system`.
PYTHON ?= python3

.PHONY: install install-system install-python test lint demo bench

install: install-system install-python

# Dovecot, Pigeonhole, Postfix, swaks, openssl (apt; root). Also used by .ci/run.
install-system:
	.ci/install-system-packages

install-python:
	$(PYTHON) -m pip install -e '.[test]'

# `make test` and `make demo` work on a fresh machine: they install what is missing first
# (system packages only when a server binary is absent; the package when pyproject.toml changed).
STAMP := var/.installed
$(STAMP): pyproject.toml .ci/install-system-packages
	@command -v dovecot >/dev/null && command -v postfix >/dev/null && command -v systemd-analyze >/dev/null \
		|| .ci/install-system-packages
	$(PYTHON) -m pip install -e '.[test]'
	@mkdir -p var && touch $@

test: $(STAMP)
	$(PYTHON) -m pytest -q

lint:
	ruff check responder tests bench && ruff format --check responder tests bench && mypy

demo: $(STAMP)
	$(PYTHON) -m responder demo

bench: $(STAMP)
	$(PYTHON) -m bench

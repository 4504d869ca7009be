# Entry points for developers and CI. `make test` is the documented test command.
# The stack tests need root and the Debian packages from `make install-system`.
#
# Everything Python lives in a virtual environment, .venv, created from $(PYTHON): the
# system's Python is never touched, so Debian's own python3 (PEP 668, "externally
# managed") works as it is, without --break-system-packages.
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Recipes see the venv's scripts (`responder`, `ruff`) first, as if it were activated.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install install-system install-python test lint demo bench

install: install-system install-python

# Dovecot, Pigeonhole, Postfix, swaks, openssl, python3-venv (apt; root). Also used by .ci/run.
install-system:
	.ci/install-system-packages

install-python: $(STAMP)

# `make test` and `make demo` work on a fresh machine: they install what is missing first
# (system packages only when a server binary or Python's venv module is absent; the package
# into .venv when pyproject.toml changed or .venv is new).
$(STAMP): pyproject.toml .ci/install-system-packages
	@command -v dovecot >/dev/null && command -v postfix >/dev/null \
		&& command -v systemd-analyze >/dev/null && command -v chromium >/dev/null \
		&& $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null \
		|| .ci/install-system-packages
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

test: $(STAMP)
	$(VPY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check responder tests bench && $(VENV)/bin/ruff format --check responder tests bench && $(VENV)/bin/mypy

demo: $(STAMP)
	$(VPY) -m responder demo

bench: $(STAMP)
	$(VPY) -m pip install --quiet --disable-pip-version-check -e ".[test,bench]"
	$(VPY) -m bench

# The two commands of the quick start: `make demo` and `make test`.
# Both install what they need on a fresh Debian machine (system packages through
# apt-get, Python packages into ./.venv), so each is one command.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/.dataward-demo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends
# Tools the tests drive for real: gpg, 7-Zip, Chromium, pdftotext, antiword/catdoc, PostgreSQL,
# Tesseract, and a Samba AD domain controller (SMB shares and LDAP) on loopback.
TEST_TOOLS := gpg 7zz chromium pdftotext antiword catdoc pg_ctlcluster tesseract samba smbclient ldapsearch \
  smbcacls ip openssl kinit klist smbcontrol
TEST_PACKAGES := gnupg 7zip chromium poppler-utils antiword catdoc postgresql tesseract-ocr tesseract-ocr-eng \
  samba samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind smbclient ldap-utils \
  iproute2 openssl krb5-user

.PHONY: install lock demo lint test bench bench-backup clean system-python system-demo-tools system-test-tools

system-python:
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { $(SUDO) apt-get update -qq; $(APT) python3-venv python3-pip; }
	@# the network extra's gssapi and krb5 (Kerberos) build against MIT Kerberos
	@command -v krb5-config >/dev/null && command -v gcc >/dev/null && \
	  $(PYTHON) -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || \
	  { $(SUDO) apt-get update -qq; $(APT) libkrb5-dev gcc python3-dev >/dev/null; }

system-demo-tools:
	@command -v gpg >/dev/null || { $(SUDO) apt-get update -qq; $(APT) gnupg >/dev/null; }

system-test-tools:
	@missing=""; for t in $(TEST_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then echo "installing system packages for:$$missing"; \
	  $(SUDO) apt-get update -qq && $(APT) $(TEST_PACKAGES) >/dev/null; fi

# Python packages come from requirements.lock, the versions the suite was last run on, so a
# new release upstream cannot change what a school installs. `make lock` refreshes it.
UV_VERSION := 0.13.9
# Every extra but `bench` (its peers, such as presidio-image-redactor, install on demand).
LOCK_EXTRAS := --extra test --extra outlook --extra postgres --extra network --extra ocr --extra lint

$(BIN)/dataward: pyproject.toml requirements.lock | system-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

## Refresh the lock to today's releases (then run `make test` before committing it).
lock: $(BIN)/dataward
	$(BIN)/uv pip compile pyproject.toml $(LOCK_EXTRAS) --universal --python-version 3.11 \
	  --upgrade --annotation-style line -q --custom-compile-command "make lock" -o requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .

install: $(BIN)/dataward

## Build the demo school, run the nightly job on it and write the DPO report.
demo: install system-demo-tools
	DATAWARD_HOME=$(DEMO_HOME) $(BIN)/dataward demo
	@echo "dataward is installed in $(VENV): run '. $(VENV)/bin/activate' for the dataward command,"
	@echo "then e.g. 'DATAWARD_HOME=$(DEMO_HOME) dataward scans' to look at the demo's state."

## The checks CI runs before the tests: ruff (the rule set in pyproject.toml), mypy (strict
## on classifiers/, pipelines/, the ledger and settings; cache under .venv) and deptry
## (declared dependencies match what src/ imports). Tools come from the lock's lint extra.
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/deptry src

## Install everything, run the checks, then the test suite (two processes).
test: install lint system-test-tools
	$(BIN)/python -m pytest -n 2 -q -p no:cacheprovider

bench: install
	$(BIN)/python bench/scan_bench.py

# dataward against restic (Debian's package) on a folder and on SeaweedFS S3 (the test extra).
bench-backup: install
	@command -v restic >/dev/null || { $(SUDO) apt-get update -qq; $(APT) restic >/dev/null; }
	$(BIN)/python bench/backup_bench.py --size-mb 1024 --repeat 3

clean:
	rm -rf $(VENV) $(DEMO_HOME)

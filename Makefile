# hostkeeper: `make run` and `make test` set everything up themselves.
PYTHON ?= python3
# What runs under systemd uses the host's own interpreter: a pyenv or venv interpreter
# under /root or /home is hidden from the unit by ProtectHome=yes.
INSTALL_PYTHON ?= /usr/bin/python3
DEB_DIR ?= dist
DEB_REVISION ?= 1
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PREFIX ?= /opt/hostkeeper
SYSTEMD_DIR ?= /etc/systemd/system
LOGROTATE_DIR ?= /etc/logrotate.d
CONFIG_DIR ?= /etc/hostkeeper
BIN_DIR ?= /usr/local/bin

.PHONY: all venv run test lint pytest test-system-python bench deb install uninstall clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	mkdir -p var/reports var/backups
	$(BIN)/hostkeeper --config etc/hostkeeper/dev.yaml daemon

# import-linter lives in a venv of its own: it pulls in rich, which structlog would then
# load into the daemon (about 10 MiB of resident memory) in the development venv.
LINT_VENV ?= .venv-lint
IMPORT_LINTER ?= import-linter>=2.1,<3
$(LINT_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --upgrade pip
	$(LINT_VENV)/bin/pip install --quiet '$(IMPORT_LINTER)'
	touch $@

lint: $(STAMP) $(LINT_VENV)/.installed
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy
	PYTHONPATH=src $(LINT_VENV)/bin/lint-imports --no-cache

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint pytest

# The unit, integration and contract suites again on the host's own interpreter (Debian
# 12: 3.11.2), the one the package and `make install` run hostkeeper on. CI runs both.
SYSTEM_VENV ?= .venv-system
$(SYSTEM_VENV)/.installed: pyproject.toml
	@packaging/check-interpreter $(INSTALL_PYTHON)
	$(INSTALL_PYTHON) -m venv $(SYSTEM_VENV)
	$(SYSTEM_VENV)/bin/pip install --quiet --upgrade pip
	$(SYSTEM_VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

test-system-python: $(SYSTEM_VENV)/.installed
	$(SYSTEM_VENV)/bin/pytest tests/unit tests/integration tests/contract $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# A Debian package: dist/hostkeeper_VERSION-REVISION_ARCH.deb (see docs/install.md).
deb:
	DEB_PYTHON=$(INSTALL_PYTHON) packaging/debian/build $(DEB_DIR) $(DEB_REVISION)

install:
	@test "$$(id -u)" = 0 || { echo "make install must run as root" >&2; exit 1; }
	@packaging/check-interpreter $(INSTALL_PYTHON)
	$(INSTALL_PYTHON) -m venv $(PREFIX)
	$(PREFIX)/bin/pip install --quiet --upgrade pip
	$(PREFIX)/bin/pip install --quiet .
	ln -sf $(PREFIX)/bin/hostkeeper $(BIN_DIR)/hostkeeper
	install -D -m 0644 packaging/systemd/hostkeeper.service $(SYSTEMD_DIR)/hostkeeper.service
	install -D -m 0644 packaging/logrotate/hostkeeper $(LOGROTATE_DIR)/hostkeeper
	install -d -m 0750 $(CONFIG_DIR)
	@if [ -e $(CONFIG_DIR)/hostkeeper.yaml ]; then \
		echo "keeping the existing $(CONFIG_DIR)/hostkeeper.yaml"; \
	else \
		install -m 0640 etc/hostkeeper/hostkeeper.yaml $(CONFIG_DIR)/hostkeeper.yaml; \
	fi
	-systemctl daemon-reload
	@echo "installed; start with: systemctl enable --now hostkeeper"

uninstall:
	@test "$$(id -u)" = 0 || { echo "make uninstall must run as root" >&2; exit 1; }
	-systemctl disable --now hostkeeper
	rm -f $(SYSTEMD_DIR)/hostkeeper.service $(LOGROTATE_DIR)/hostkeeper $(BIN_DIR)/hostkeeper
	rm -rf $(PREFIX)
	-systemctl daemon-reload
	@echo "removed; $(CONFIG_DIR), /var/lib/hostkeeper and /var/backups/hostkeeper are kept"

clean:
	rm -rf $(VENV) $(SYSTEM_VENV) $(DEB_DIR) var .pytest_cache .mypy_cache .ruff_cache

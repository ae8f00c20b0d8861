# Rectify: `make run` sets up and starts everything; `make test` runs the whole suite,
# `make test-fast` the inner loop (no browser, services or slow tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)

# Local runs are development runs unless the caller says otherwise.
export DEBUG ?= 1

.PHONY: install translations messages run test test-fast test-services test-browser lint check bench browser clean

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Rectify needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) translations

# The .mo files are built, not committed: compiled in pure Python (polib), no GNU gettext needed.
translations: $(STAMP)
	$(BIN)/python manage.py compile_translations

# Developer step (needs GNU gettext's xgettext): refresh locale/en/LC_MESSAGES/django.po from the
# code, then write the English of every new msgid; tests/rectify/test_i18n.py fails until that is done.
messages: install
	$(BIN)/python manage.py makemessages -l en --no-obsolete -i "tests/*" -i "bench/*" -i "var/*"

run: install
	$(BIN)/python manage.py runstack

# The suite in two passes: everything that only needs the test database on every core
# (pytest-xdist, one database per worker), then, one at a time, the tests that start real
# workers, beat, gunicorn, private databases or a browser, or share Redis queues.
# pytest exits 5 when it collected no test: from either pass that is a failure, never a pass.
TEST_WORKERS ?= auto
SERIAL_TESTS := services or browser
PYTEST := $(BIN)/python -m pytest
pytest_pass = $(PYTEST) $(1); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

test: install
	@status=0; \
	( $(call pytest_pass,-n $(TEST_WORKERS) -m "not ($(SERIAL_TESTS))" $(PYTEST_ARGS)) ) || status=1; \
	( $(call pytest_pass,-p no:xdist -m "$(SERIAL_TESTS)" $(PYTEST_ARGS)) ) || status=1; \
	exit $$status

# The inner loop: no browser, no services, nothing slow; always on SQLite.
test-fast: install
	@DATABASE_URL= $(call pytest_pass,-n $(TEST_WORKERS) -m "not (services or browser or slow)" $(PYTEST_ARGS))

test-services: install
	@$(call pytest_pass,-p no:xdist -m services $(PYTEST_ARGS))

test-browser: install
	@$(call pytest_pass,-p no:xdist -m browser $(PYTEST_ARGS))

lint: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# National-scale ledger on PostgreSQL (DATABASE_URL, default rectify_bench), served by gunicorn,
# measured under 8 concurrent clients; writes var/bench/latest.json and docs/benchmarks.md.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var

# Rectify: `make run` sets up and starts everything; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)

# Local runs are development runs unless the caller says otherwise.
export DEBUG ?= 1

.PHONY: install translations messages run test test-services test-browser lint check bench browser clean

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
# code, then write the English of every new msgid; tests/test_i18n.py fails until that is done.
messages: install
	$(BIN)/python manage.py makemessages -l en --no-obsolete -i "tests/*" -i "bench/*" -i "var/*"

run: install
	$(BIN)/python manage.py runstack

# pytest exits 5 when it collected no test: that is a failure, never a pass.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

test-services: PYTEST_ARGS = -m services
test-services: test

test-browser: PYTEST_ARGS = -m browser
test-browser: test

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

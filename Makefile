# Living Lab: `make run` to try it, `make test` to check it. Everything installs itself.

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
FLASK  := FLASK_APP=app.factory $(VENV)/bin/flask
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install compile-catalogs migrate run test test-postgres lint fmt chromium bench i18n-stats clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

compile-catalogs: install
	$(FLASK) i18n compile

migrate: compile-catalogs
	$(FLASK) db upgrade

# API, console and scheduler on http://$(HOST):$(PORT); Ctrl-C stops both processes.
# Cookies stay Secure: browsers accept them from http://127.0.0.1 and localhost.
run: migrate
	$(FLASK) demo load
	@echo "Console: http://$(HOST):$(PORT)/console   API docs: http://$(HOST):$(PORT)/api/v1/docs"
	@trap 'kill 0' INT TERM; \
	MAIL_SINK=$${MAIL_SINK:-console} $(FLASK) scheduler & \
	$(VENV)/bin/gunicorn --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - \
		'app.factory:create_app()' & \
	wait

# Browser tests drive Debian's Chromium; install it when missing.
chromium:
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

test: compile-catalogs chromium
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres:
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(MAKE) test

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

i18n-stats: install
	$(FLASK) i18n stats

bench: migrate
	@command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk)
	$(PY) bench/campaign_list.py
	$(PY) bench/outbox.py
	$(PY) bench/survey_submit.py
	$(PY) bench/idea_list.py
	$(PY) bench/workshop_register.py
	$(PY) bench/energy_import.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

# Two commands: `make run` (embedded demo, no outside service) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
HOST   ?= 127.0.0.1:8000

.PHONY: run test install install-test browser gettext messages lint bench stress clean

$(PY):
	$(PYTHON) -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(PY)
	$(PIP) install -c constraints.txt .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(PY)
	$(PIP) install -c constraints.txt ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed messages
install-test: $(VENV)/.installed-test messages

# Translations: config/locale/<lang>/LC_MESSAGES/django.po is the source (djangojs.po beside it:
# the admin's JavaScript strings Django's own catalogue lacks), each .mo is build output
# (not committed), compiled here by every entry point (run, test, lint). compilemessages needs
# GNU gettext's msgfmt: installed with apt-get where missing and permitted, like Chromium.
gettext:
	@command -v msgfmt >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext) \
	  || { echo "msgfmt (GNU gettext) missing: install gettext to compile the translations"; exit 1; }; }

MO_FILES := $(patsubst %.po,%.mo,$(wildcard config/locale/*/LC_MESSAGES/*.po))
messages: $(MO_FILES)
config/locale/%/LC_MESSAGES/django.mo: config/locale/%/LC_MESSAGES/django.po | gettext $(VENV)/.installed
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages --locale $* --ignore '.*' --ignore var
config/locale/%/LC_MESSAGES/djangojs.mo: config/locale/%/LC_MESSAGES/djangojs.po | gettext $(VENV)/.installed
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages --locale $* --ignore '.*' --ignore var

# The embedded demo runs in debug; without DJANGO_DEBUG=1 the settings are production's.
run: export DJANGO_DEBUG ?= 1
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_formulary
	$(PY) manage.py seed_demo
	@echo "Web app on http://$(HOST)/  (admin: /admin/, API docs: /api/docs/). Ctrl-C stops all."
	@# honcho runs the Procfile's web (gunicorn), worker and beat, each in a session of its own;
	@# on Ctrl-C it sends them TERM, waits up to 5 s, then KILLs what is left (acks_late tasks are
	@# redone). exec: honcho is the recipe's only process, so make waits on it alone.
	@PATH="$(abspath $(VENV))/bin:$$PATH" WEB_BIND="$(HOST)" exec $(VENV)/bin/honcho start -f Procfile

# PostgreSQL and Redis are used when reachable (DATABASE_URL / REDIS_URL, or the local ones);
# REQUIRE_SERVICES=1 makes their absence a failure. The database tests run again on SQLite (not the
# API contract tests: they check the HTTP contract, the same on either database, and take minutes).
# The browser tests drive Debian's Chromium; install it where missing and possible (root + apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "Chromium missing and not installable here: browser tests will skip"; }
	@# axe-core (accessibility checks injected by the browser suite), pinned by its lock file.
	@command -v npm >/dev/null 2>&1 && (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) \
	  || echo "npm missing: the accessibility checks will skip"

# pytest-xdist spreads the test files over TEST_WORKERS processes (default: one per core); each
# has its own test database (pytest-django suffixes _gw0, _gw1 …) and its own task queues.
TEST_WORKERS ?= auto
test: install-test browser
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile
	TEST_DB=sqlite $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not worker and not e2e and not redis and not rabbitmq and not ops and not contract"

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The figures of issue 14 beside their floors, as one table (bench/results/latest.md, .json), on
# PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench, created if missing;
# its data is generated once per size and seed, then reused). BENCH_SIZE=tiny|small|large|huge.
BENCH_SIZE ?= large
BENCH_SEED ?= 1
BENCH_RUNS ?= 5
BENCH_TIMEOUT ?= 60
bench: install-test
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench} PYTHONWARNINGS="ignore:No directory at:UserWarning" \
	  $(PY) -m bench --size $(BENCH_SIZE) --seed $(BENCH_SEED) \
	  --runs $(BENCH_RUNS) --timeout $(BENCH_TIMEOUT)

# The production process set under load (bench/stress/run.py): 2 gunicorn + 2 workers + beat on a
# scratch PostgreSQL database and the broker (REDIS_URL, or STRESS_BROKER=rabbitmq), locust headless.
STRESS_SECONDS ?= 60
stress: install-test
	STRESS_SECONDS=$(STRESS_SECONDS) $(PY) bench/stress/run.py

clean:
	rm -rf $(VENV) var staticfiles test-artifacts

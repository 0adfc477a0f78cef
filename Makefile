# Aftercare: `make run` serves the demo clinic, `make test` runs the checks. Nothing else needed.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run dev serve test unit integration lint format typecheck migrate seed requirements bench clean fake-twilio

# Development mode for make run/dev/migrate/seed/bench: DEBUG on and this install's own secret
# key (generated once, never a constant in the repository). Production (make serve) reads only
# the environment.
SECRET_KEY_FILE := var/secret-key
DEV_ENV = DEBUG=1 SECRET_KEY="$$(cat $(SECRET_KEY_FILE))"
# bin/ scripts find python, gunicorn, celery and supervisord on PATH.
VENV_PATH = PATH="$(CURDIR)/$(BIN):$$PATH"
PORT ?= 8000

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

$(SECRET_KEY_FILE): | $(BIN)/python
	mkdir -p $(dir $@)
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

migrate: $(STAMP) $(SECRET_KEY_FILE)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

seed: migrate
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py seed_demo_products
	$(DEV_ENV) $(BIN)/python manage.py seed_demo_payments

# Payments in `make run`: with STRIPE_SECRET_KEY in the environment, that Stripe account;
# without it, localstripe (a fake Stripe server, a dev dependency) on STRIPE_DEV_PORT under the
# same supervisor, so a deposit can be paid with test card 4242 4242 4242 4242.
STRIPE_DEV_PORT ?= 8420
LOCAL_STRIPE_ENV = STRIPE_SECRET_KEY=sk_test_local STRIPE_PUBLISHABLE_KEY=pk_test_local \
	STRIPE_WEBHOOK_SECRET=whsec_local STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_DEV_PORT) \
	STRIPE_DEV_PORT=$(STRIPE_DEV_PORT)

# The embedded clinic on http://127.0.0.1:$(PORT)/: gunicorn, a Celery worker and beat under
# bin/supervise, which restarts whichever dies. SQLite and the broker live in var/.
run: seed
	@echo "Aftercare: booking site http://127.0.0.1:$(PORT)/book/  staff http://127.0.0.1:$(PORT)/staff/"
	@echo "  (reception / practitioner / manager, password aftercare-demo); Ctrl-C stops everything"
ifeq ($(STRIPE_SECRET_KEY),)
	@echo "  payments: localstripe on port $(STRIPE_DEV_PORT) (test card 4242 4242 4242 4242)"
	$(DEV_ENV) $(LOCAL_STRIPE_ENV) $(VENV_PATH) BIND=127.0.0.1:$(PORT) bin/supervise --procfile Procfile.localstripe
else
	$(DEV_ENV) $(VENV_PATH) BIND=127.0.0.1:$(PORT) bin/supervise
endif

# Like run, with Django's autoreloading development server as the web process.
dev: seed
	$(DEV_ENV) $(VENV_PATH) BIND=127.0.0.1:$(PORT) bin/supervise --procfile Procfile.dev

# Production: migrate, collect the hashed static files, then web on 0.0.0.0:$${PORT:-8000},
# worker and beat from the Procfile. Everything comes from the environment (no demo data).
serve: $(STAMP)
	$(VENV_PATH) bin/release
	$(VENV_PATH) bin/supervise

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs on clinic/, bookings/, records/, reminders/ and workspace/ (settings in pyproject).
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The fast unit suite on SQLite (DATABASE_URL ignored), one pytest-xdist worker per core
# (UNIT_WORKERS= runs it in one process), then the marked suites: integration
# tests against the PostgreSQL in TEST_DATABASE_URL/DATABASE_URL and the Redis in REDIS_URL,
# browser tests in Debian's chromium, and slow end-to-end tests. Integration tests skip with a
# reason when those services are absent, and fail instead when CI or REQUIRE_SERVICES is set.
UNIT_WORKERS ?= -n auto
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	env -u DATABASE_URL $(BIN)/pytest -m "not integration and not browser and not slow" $(UNIT_WORKERS) $(PYTEST_ARGS)
	DATABASE_URL="$${TEST_DATABASE_URL:-$$DATABASE_URL}" $(BIN)/pytest -m "integration or browser or slow" $(PYTEST_ARGS); \
	  status=$$?; if [ $$status -eq 5 ]; then echo "no integration tests collected"; exit 1; fi; exit $$status

unit: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest -m "not integration and not browser and not slow" $(UNIT_WORKERS) $(PYTEST_ARGS)

fake-twilio: $(STAMP)
	$(BIN)/python -m tests.fake_twilio

# Benchmarks print figures (not tests). They use the local PostgreSQL and Redis; override with
# BENCH_DATABASE_URL / BENCH_REDIS_URL.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/aftercare_bench_reminders
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/5
# bench/machine.py before each: how fast the (shared, drifting) host was at the time.
bench: $(STAMP) $(SECRET_KEY_FILE)
	$(BIN)/python bench/machine.py
	$(DEV_ENV) $(BIN)/python bench/availability.py
	$(BIN)/python bench/machine.py
	$(DEV_ENV) BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/booking_race.py
	$(DEV_ENV) $(BIN)/python bench/abuse_limits.py
	$(BIN)/python bench/machine.py
	$(DEV_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/reminders.py
	$(BIN)/python bench/machine.py
	$(DEV_ENV) BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/http.py

# Re-pin dependencies after editing pyproject.toml (needs pip-tools in the venv).
requirements: $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.txt pyproject.toml

clean:
	rm -rf $(VENV) var/*.sqlite3* var/celery-broker* var/celerybeat-schedule* var/prometheus

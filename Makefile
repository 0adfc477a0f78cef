# Aftercare: `make run` serves the demo clinic, `make test` runs the checks. Nothing else needed.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test unit integration lint format typecheck migrate seed requirements bench clean fake-twilio

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py run_dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs on clinic/, bookings/, reminders/ and workspace/ (settings in pyproject).
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The fast unit suite on SQLite (DATABASE_URL ignored), then the marked suites: integration
# tests against the PostgreSQL in TEST_DATABASE_URL/DATABASE_URL and the Redis in REDIS_URL,
# browser tests in Debian's chromium, and slow end-to-end tests. Integration tests skip with a
# reason when those services are absent, and fail instead when CI or REQUIRE_SERVICES is set.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	env -u DATABASE_URL $(BIN)/pytest -m "not integration and not browser and not slow" $(PYTEST_ARGS)
	DATABASE_URL="$${TEST_DATABASE_URL:-$$DATABASE_URL}" $(BIN)/pytest -m "integration or browser or slow" $(PYTEST_ARGS); \
	  status=$$?; if [ $$status -eq 5 ]; then echo "no integration tests collected"; exit 1; fi; exit $$status

unit: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest -m "not integration and not browser and not slow" $(PYTEST_ARGS)

fake-twilio: $(STAMP)
	$(BIN)/python -m tests.fake_twilio

# Benchmarks print figures (not tests). They use the local PostgreSQL and Redis; override with
# BENCH_DATABASE_URL / BENCH_REDIS_URL.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/aftercare_bench_reminders
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/5
bench: $(STAMP)
	$(BIN)/python bench/availability.py
	$(BIN)/python bench/booking_race.py
	$(BIN)/python bench/abuse_limits.py
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/reminders.py
	BENCH_REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/http.py

# Re-pin dependencies after editing pyproject.toml (needs pip-tools in the venv).
requirements: $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.txt pyproject.toml

clean:
	rm -rf $(VENV) var/*.sqlite3* var/celery-broker var/celerybeat-schedule*

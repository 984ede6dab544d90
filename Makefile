# Two commands matter: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install lint format bench drills clean

$(BIN)/python:
	@echo "==> Creating a Python virtual environment in $(VENV) (first run only)"
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	@echo "==> Installing Python packages into $(VENV): about a minute the first time, quiet while it works"
	@$(BIN)/pip install --quiet --upgrade pip
	@$(BIN)/pip install --quiet -r requirements-dev.txt
	@echo "==> Packages installed"
	@touch $@

install: $(VENV)/.installed

# Web + Celery worker + beat in one foreground process (config/run.py, honcho); Ctrl-C stops all three, status 0.
# On a terminal the runner is its own foreground job (bash -m), so Ctrl-C reaches it and not make, which would
# otherwise report "Interrupt" and exit 130 however cleanly the processes stopped.
RUNNER := env PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m config.run Procfile
run: export DJANGO_DEBUG ?= true
run: export PORT := $(PORT)
run: install
	@echo "==> Migrating the database"
	@$(BIN)/python manage.py migrate --noinput
	@echo "==> Loading the demo conference (first run only: about 20 s)"
	@$(BIN)/python manage.py seed_demo --if-empty
	@$(BIN)/python manage.py ensure_demo_coordinator
	@echo "==> Starting web, Celery worker and beat. Ctrl-C stops all three."
	@echo "Cardvote: open http://127.0.0.1:$(PORT)/ and log in as coordinator / cardvote-demo (API docs: /api/docs/)"
	@if [ -t 0 ]; then exec bash -mc '$(RUNNER)'; else exec $(RUNNER); fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# In parallel on two cores (pytest-xdist). Tests marked xdist_group share one worker: the drills
# ("processes") and the browser tests ("browser"); see tests/conftest.py and tests/support/xdist.py.
# --durations=15 prints the slowest tests at the end: the place to look when the suite grows slower.
PYTEST_WORKERS ?= 2
test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=15

bench: install
	$(BIN)/python -m bench

# The fault drills (every tests/**/test_drill_*.py: killed workers, Redis outages, Twilio errors, dropped PostgreSQL
# connections) against PostgreSQL and Redis configured as .ci/run does, one after another, with the long variants
# (a 20 s Redis outage). Prints each drill's figures and a PASSED/FAILED line per drill.
drills: export CI ?= true
drills: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
drills: export REDIS_URL ?= redis://127.0.0.1:6379/0
drills: export DRILL_REDIS_OUTAGE_SECONDS ?= 20
drills: install
	@echo "==> Fault drills on PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), one at a time; Redis outage $${DRILL_REDIS_OUTAGE_SECONDS} s"
	$(BIN)/pytest -p no:xdist -q -rA --no-header --durations=0 $$(find tests -name 'test_drill_*.py' | sort)

clean:
	rm -rf var .pytest_cache test-output

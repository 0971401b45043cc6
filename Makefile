# Canopy — every day-to-day command. `make help` lists them.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
# `python3 -m uv` when a pip-installed uv is not on PATH (see scripts/setup.sh).
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --frozen
SERVICES := ingestion fanout notify analytics

TENANT ?= acme
# USER is also the shell's login name: only a USER given on the command line counts.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),alice)
ROLES ?= member

.DEFAULT_GOAL := help
.PHONY: help setup up down status test unit lint fmt typecheck bench token migrate rebuild-feeds demo-traffic

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## install everything: uv, Python deps, Apache Kafka (Maven Central), a JDK, Postgres, Redis when missing
	@scripts/setup.sh

up: ## start Postgres, Redis, the broker and the four services, seed the demo tenant (SEED=0: don't)
	$(if $(SEED),CANOPY_DEMO_SEED=$(SEED) )$(RUN) python -m canopy_dev.localrun up

down: ## stop exactly what `make up` started
	$(RUN) python -m canopy_dev.localrun down

status: ## show what the local stack is running
	$(RUN) python -m canopy_dev.localrun status

test: lint typecheck ## lint, type-check, then the whole test suite against real servers
	$(RUN) pytest

unit: ## only the tests that need no servers
	$(RUN) pytest -m "not integration and not e2e and not cluster"

lint: ## ruff format check, ruff lint, import-linter contracts
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) lint-imports

fmt: ## format and auto-fix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

typecheck: ## mypy strict over the common library, every service, the tests and scripts
	$(RUN) mypy libs/common/src libs/dev/src libs/testing/src services/*/src libs/common/tests libs/dev/tests libs/testing/tests services/ingestion/tests tests scripts bench
	$(RUN) mypy services/fanout/tests  # a run of its own: every service's tests have a conftest
	$(RUN) mypy services/notification/tests
	$(RUN) mypy services/analytics/tests
	$(RUN) mypy services/web/tests

bench: ## run the benchmarks; figures printed and written to bench/results.json
	$(RUN) python -m bench

token: ## print a local JWT: make token TENANT=acme USER=alice ROLES=member,moderator
	@$(RUN) python -m canopy_common.auth token --tenant $(TENANT) --user $(TOKEN_USER) --roles $(ROLES)

demo-traffic: ## keep the demo tenant busy until Ctrl-C (after make up): make demo-traffic [RATE=2]
	$(RUN) python -m canopy_dev.demo traffic --tenant $(TENANT) $(if $(RATE),--rate $(RATE))

migrate: ## apply every service's SQL migrations (a no-op when up to date)
	@for svc in $(SERVICES); do $(RUN) python -m canopy_$$svc migrate || exit 1; done

rebuild-feeds: ## rebuild feeds in Redis from Postgres: make rebuild-feeds TENANT=acme [USER=ada]
	$(RUN) python -m canopy_fanout.rebuild --tenant $(TENANT) $(if $(filter command line,$(origin USER)),--user $(USER))

.PHONY: deploy-check
deploy-check: ## check docker-compose.yml, the Dockerfile and deploy/ with promtool, docker-compose, kubernetes-validate
	$(RUN) pytest tests/deploy -q

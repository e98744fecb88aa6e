# Carebridge: the operator's interface. `make` alone lists the targets.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall when the dependency list changes, not on every run.
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

# Python's default, whatever the shell says: compiled modules are kept in __pycache__ (ignored
# by git). With PYTHONDONTWRITEBYTECODE set, as some images do, every pytest worker rewrote and
# compiled every test module again, and every service process the suites start compiled the
# services from source: the workers took 17.6 s instead of 10.3 s to reach their first test.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help install run cluster reset status tokens token revoke-token rotate-token api-keys api-key revoke-api-key retention test test-fast lint fmt contracts bench soak check clean docs docs-build docs-config notifications-preview mail

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing Carebridge and its tools into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install everything (done by the other targets when needed)

run: $(STAMP) ## Start PostgreSQL, NATS and the three services in the foreground (Ctrl-C stops all)
	@$(BIN)/python -m deploy.stack run

cluster: $(STAMP) ## Run a 3-node NATS cluster (JetStream) in the foreground; prints its NATS_URL
	@$(BIN)/python -m deploy.cluster run

reset: $(STAMP) ## Delete the local stack's data (.stack/); refused while a stack runs
	@$(BIN)/python -m deploy.stack reset

status: $(STAMP) ## Show the running local stack (URLs, credentials file)
	@$(BIN)/python -m deploy.stack status

tokens: $(STAMP) ## List staff tokens (never their secret); DATABASE_URL or the running stack
	@$(BIN)/python -m deploy.tokens list

token: $(STAMP) ## Issue a staff token, printed once: make token PERSON="Anna" ROLES="coordinator" [TTL_DAYS=90]
	@test -n "$(PERSON)" -a -n "$(ROLES)" || { echo 'usage: make token PERSON="Anna Example" ROLES="coordinator editor" [TTL_DAYS=90]' >&2; exit 2; }
	@$(BIN)/python -m deploy.tokens create --person "$(PERSON)" $(foreach r,$(ROLES),--role $(r)) $(if $(TTL_DAYS),--ttl-days "$(TTL_DAYS)")

rotate-token: $(STAMP) ## A new secret for a staff token, printed once; the old one works GRACE_HOURS more (24)
	@test -n "$(ID)" || { echo 'usage: make rotate-token ID=<token id> [GRACE_HOURS=24] [TTL_DAYS=90]' >&2; exit 2; }
	@$(BIN)/python -m deploy.tokens rotate "$(ID)" $(if $(GRACE_HOURS),--grace-hours "$(GRACE_HOURS)") $(if $(TTL_DAYS),--ttl-days "$(TTL_DAYS)")

revoke-token: $(STAMP) ## Revoke a staff token: make revoke-token ID=<token id from make tokens>
	@test -n "$(ID)" || { echo 'usage: make revoke-token ID=<token id>' >&2; exit 2; }
	@$(BIN)/python -m deploy.tokens revoke "$(ID)"

api-keys: $(STAMP) ## List API keys of third-party consumers (never their secret)
	@$(BIN)/python -m deploy.api_keys list

api-key: $(STAMP) ## Issue an API key, printed once: make api-key NAME=site KIND=publishable ORIGINS="https://site.example" (KIND=secret for a server; RATE, SITE_URL optional)
	@test -n "$(NAME)" -a -n "$(KIND)" || { echo 'usage: make api-key NAME=heart-clinic-finder KIND=publishable|secret [ORIGINS="https://a.example https://b.example"] [RATE=600] [SITE_URL="https://a.example/{locale}/{slug}"]' >&2; exit 2; }
	@$(BIN)/python -m deploy.api_keys create --name "$(NAME)" --kind "$(KIND)" $(foreach o,$(ORIGINS),--origin $(o)) $(if $(RATE),--rate $(RATE)) $(if $(SITE_URL),--site-url "$(SITE_URL)")

revoke-api-key: $(STAMP) ## Revoke a consumer's API keys, or one (rotation): make revoke-api-key NAME=site [ID=<key id>]
	@test -n "$(NAME)" || { echo 'usage: make revoke-api-key NAME=<consumer> [ID=<key id from make api-keys>]' >&2; exit 2; }
	@$(BIN)/python -m deploy.api_keys revoke "$(NAME)" $(if $(ID),--id "$(ID)")

retention: $(STAMP) ## Apply the retention periods per data class now on the running stack (ARGS=--dry-run)
	@$(BIN)/python -m deploy.stack.with_env $(BIN)/python -m services.inquiries.retention $(ARGS)

# The suite waits on servers more than it computes, so it runs in more workers than cores (3 on
# 2 cores took 0.45 of a serial run's time; 4, with the fault suite on a worker of its own, 8 min
# 0 s against 9 min 16 s for 3, 2026-12-06). The xdist controller starts one PostgreSQL and one
# NATS for all of them. Each target keeps its temp folder in the checkout (.pytest-tmp/<target>,
# emptied when the target starts): pytest's shared one under /tmp prunes older runs, those of
# other clones too.
WORKERS ?= 4

test: $(STAMP) ## Run the whole suite in parallel on real PostgreSQL and NATS (WORKERS=4; TEST_*_URL to use yours)
	@mkdir -p .pytest-tmp
	@$(BIN)/pytest -n $(WORKERS) --dist loadgroup --basetemp=.pytest-tmp/test $(ARGS)

# In one process: starting workers costs more than these tests take.
test-fast: $(STAMP) ## Unit and use-case tests only (no app boot, under a minute): the loop while coding
	@mkdir -p .pytest-tmp
	@$(BIN)/pytest --basetemp=.pytest-tmp/test-fast tests/unit tests/usecases $(ARGS)

lint: $(STAMP) ## ruff (lint + format check), mypy --strict, import layering
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@$(BIN)/lint-imports

fmt: $(STAMP) ## Format and auto-fix the code
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

contracts: $(STAMP) ## Regenerate JSON Schemas, AsyncAPI and OpenAPI documents in contracts/, and the TypeScript client
	@$(BIN)/python -m deploy.api_documents
	@if command -v npm >/dev/null; then cd clients/typescript && { test -d node_modules || npm ci --no-audit --no-fund --loglevel=error; } && npm run -s generate; else echo "npm not found: clients/typescript not regenerated" >&2; fi

docs-config: $(STAMP) ## Regenerate docs/operations/configuration.md from the settings Structs
	@$(BIN)/python -m deploy.settings_reference

docs: $(STAMP) ## Serve the documentation site locally, rebuilt on every change
	@$(BIN)/mkdocs serve

docs-build: $(STAMP) ## Build the documentation site into site/ (strict: a broken link fails)
	@$(BIN)/mkdocs build --strict

bench: $(STAMP) ## Measure throughput and latency on real servers (figures for the issue notes)
	@$(BIN)/python -m tests.perf

soak: $(STAMP) ## Long run under faults, not in CI: make soak MINUTES=30 RATE=1 (a random process killed every 60 s)
	@$(BIN)/python -m tests.soak --minutes $(or $(MINUTES),30) --rate $(or $(RATE),1) --kill-every $(or $(KILL_EVERY),60)

check: lint test ## Exactly what CI runs

clean: ## Remove caches and build output (keeps .venv and the stack's data)
	@rm -rf .pytest_cache .pytest-tmp .mypy_cache .ruff_cache .import_linter_cache build dist *.egg-info .bench .soak site .notifications-preview
	@find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +

notifications-preview: $(STAMP) ## Write every notification template in every language to .notifications-preview/
	@$(BIN)/python -m services.notifications.preview .notifications-preview

mail: $(STAMP) ## List the latest messages the local stack caught: email (.stack/mail/) and SMS (.stack/sms/)
	@$(BIN)/python -m deploy.stack.mail

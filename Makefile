# Every habit is a target; each one creates the virtual environment it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PROTO_FILES := $(shell find protos -name '*.proto')
DATABASE_URL ?= sqlite:///meetings.db
# Where the google/api and google/type protos come from: the googleapis-common-protos wheel.
PROTODEPS := .protodeps

.PHONY: install generate check-generated protodeps lint buf-lint buf-breaking typecheck test \
        test-sqlite test-postgres run clean bench bench-quick

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Copy the google protos we import out of the installed wheels, so buf works offline.
protodeps: $(STAMP)
	$(PY) -m tools.protodeps $(PROTODEPS)

generate: $(STAMP)
	$(PY) -m tools.generate

check-generated: $(STAMP)
	$(PY) -m tools.generate --check

buf-lint: protodeps
	$(BIN)/buf lint

# Compares the protos with main's (FILE rules); on main itself it compares with the last commit.
buf-breaking: protodeps
	$(PY) -m tools.breaking

lint: $(STAMP) buf-lint buf-breaking check-generated
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy server gateway store cli tools

# The suite runs on SQLite; set MEETINGS_TEST_DATABASE_URL (or use test-postgres) for PostgreSQL.
test: $(STAMP)
	$(BIN)/pytest -q

PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
test-postgres: $(STAMP)
	MEETINGS_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q

run: $(STAMP)
	$(BIN)/meetings demo --database $(DATABASE_URL) --if-empty
	$(BIN)/meetings serve --database $(DATABASE_URL) --banner

clean:
	rm -rf $(VENV) $(PROTODEPS) build .mypy_cache .ruff_cache .pytest_cache

# --- Production topology (deploy/) ---
.PHONY: run-workers test-topology image
WORKERS ?= 2
IMAGE   ?= meetings-api

# Like `make run`, with WORKERS gRPC server processes and WORKERS gateway processes.
run-workers: $(STAMP)
	$(BIN)/meetings demo --database $(DATABASE_URL) --if-empty
	$(BIN)/meetings serve --database $(DATABASE_URL) --workers $(WORKERS) --banner

# Several processes per tier, pooling, failover, deploy/ consistency (SQLite; set
# MEETINGS_TEST_DATABASE_URL for PostgreSQL).
test-topology: $(STAMP)
	$(BIN)/pytest -q tests/topology

# The container image of deploy/Dockerfile (needs Docker with BuildKit).
image:
	docker build -f deploy/Dockerfile -t $(IMAGE) .

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
        test-sqlite test-postgres run clean bench bench-quick bench-compare bench-tools

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
# Each further check of `make lint` is a prerequisite line of its own.
lint: layering
lint: dead-code
lint: sizes
lint: lint-deploy

# The tiers import downwards only: the contracts are [tool.importlinter] in pyproject.toml.
.PHONY: layering
layering: $(STAMP)
	$(BIN)/lint-imports --no-cache

# Code nothing uses: [tool.vulture] in pyproject.toml, entry points in tools/vulture_whitelist.py.
.PHONY: dead-code
dead-code: $(STAMP)
	$(BIN)/vulture

# No module over 500 lines, no function body over 60, in server/ gateway/ store/ cli/.
.PHONY: sizes
sizes: $(STAMP)
	$(PY) -m tools.sizes server gateway store cli

# deploy/ against schemas and a linter, all offline: the manifests against Kubernetes' own
# schemas (strict: a misspelt field fails) of the newest release the validator ships and of
# an older one (1.27, where the gRPC probes the samples use became GA; a validator release
# that stops shipping it fails here: raise it then); the Compose file against the Compose
# Specification's schema vendored in check-jsonschema; the Dockerfile with hadolint.
# DEPLOY_DIR lets the tests check a broken copy.
KUBERNETES_MIN_VERSION ?= 1.27
DEPLOY_DIR ?= deploy
.PHONY: lint-deploy
lint-deploy: $(STAMP)
	$(BIN)/kubernetes-validate --strict --quiet $(DEPLOY_DIR)/kubernetes.yaml
	$(BIN)/kubernetes-validate --strict --quiet -k $(KUBERNETES_MIN_VERSION) \
	  $(DEPLOY_DIR)/kubernetes.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec $(DEPLOY_DIR)/compose.yaml
	$(BIN)/hadolint $(DEPLOY_DIR)/Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy server gateway store cli tools bench

# Debian's Chromium, for the export page's browser test (Playwright drives it; it cannot
# download a browser of its own here). Installed only when missing; needs root (or sudo).
CHROMIUM ?= /usr/bin/chromium
.PHONY: browser
browser:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    chromium fonts-liberation; }

# The suite runs on SQLite; set MEETINGS_TEST_DATABASE_URL (or use test-postgres) for PostgreSQL.
# In TEST_WORKERS processes (pytest-xdist; 0 runs it in this one): each has its own scratch
# databases. Much of a test is waiting on the services it starts, so two processes take half
# the time of one on two cores.
TEST_WORKERS ?= 2
test: $(STAMP) browser
	$(BIN)/pytest -q -rs -m "not faults" -n $(TEST_WORKERS)

PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
test-postgres: $(STAMP) browser
	MEETINGS_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -rs -m "not faults" -n $(TEST_WORKERS)

# Fault injection: the database stopped and started again (a throwaway PostgreSQL of its
# own: initdb and postgres from PG_BINDIR, else PATH, else /usr/lib/postgresql/*/bin), SIGTERM
# during an export, mass disconnects, a hung gRPC backend. Real processes, signals and timing,
# so apart from `make test`; CI runs it as a step of its own. The tests whose subject is the
# test database run once more on PostgreSQL (PG_TEST_URL).
FAULTS_ON_POSTGRES := tests/reliability/test_graceful_stop.py tests/reliability/test_disconnects.py
.PHONY: test-faults
test-faults: $(STAMP)
	$(BIN)/pytest -q -rs -m faults
	MEETINGS_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -rs -m faults $(FAULTS_ON_POSTGRES)

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
	$(BIN)/pytest -q -rs tests/topology

# The container image of deploy/Dockerfile (needs Docker with BuildKit).
image:
	docker build -f deploy/Dockerfile -t $(IMAGE) .

# --- Benchmark (bench/) ---
# The export and the upcoming feed of `meetings serve`, measured side by side from client
# processes, on SQLite and PostgreSQL (BENCH_DATABASE=sqlite|postgres|both). The database of
# BENCH_MEETINGS meetings is built once and cached (bench/data/, or a meetings_bench_<N>_v<V>
# database beside BENCH_POSTGRES_URL); results go to bench/results/. No timing is asserted.
BENCH_MEETINGS      ?= 1000000
BENCH_DATABASE      ?= both
BENCH_POSTGRES_URL  ?= postgresql://postgres@127.0.0.1:5432/test
export BENCH_POSTGRES_URL

bench: $(STAMP)
	$(PY) -m bench --meetings $(BENCH_MEETINGS) --database $(BENCH_DATABASE)

# A small smoke run (20,000 meetings, short load): proves the harness runs, for CI.
bench-quick: $(STAMP)
	$(PY) -m bench --quick --database $(BENCH_DATABASE)

# The service of another revision (BASE, default the previous commit) and of this checkout,
# alternating on the same database with the same clients: a change's effect as a ratio.
BASE ?= HEAD~1
bench-compare: $(STAMP)
	$(PY) -m bench.compare --base $(BASE) --database $(firstword $(subst both,sqlite,$(BENCH_DATABASE))) $(COMPARE_ARGS)

# The same requests (REST and gRPC) to the service of BASE and of this checkout, on one demo
# database (CONTRACT_DATABASE=sqlite|postgres), compared byte for byte: fails on a difference.
CONTRACT_DATABASE ?= sqlite
.PHONY: contract-check
contract-check: $(STAMP)
	$(PY) -m bench.contract_check --base $(BASE) --database $(CONTRACT_DATABASE) $(CONTRACT_ARGS)

# wrk and h2load (Debian packages) drive the feed under load; without them the harness says
# so and falls back to Python load clients.
bench-tools:
	apt-get update && apt-get install -y wrk nghttp2-client

# --- Reliability (tests/reliability) ---
.PHONY: test-reliability fuzz fuzz-ci soak soak-ci
FUZZ_EXAMPLES ?= 4000
SOAK_SECONDS  ?= 600

# Hostile tokens and input, brute force, deadlines, faults (also part of `make test`).
test-reliability: $(STAMP)
	$(BIN)/pytest -q -rs tests/reliability

# Schemathesis, every check on, against GET /openapi.json of a running `meetings serve`
# (~13,000 cases: the upcoming feed has few distinct inputs, so cases grow slower than examples).
fuzz: $(STAMP)
	$(PY) -m tests.reliability.fuzz --examples $(FUZZ_EXAMPLES) --min-cases 10000

# The CI form: at least 1,000 generated cases in about a minute.
fuzz-ci: $(STAMP)
	$(PY) -m tests.reliability.fuzz --examples 250 --min-cases 1000

# Mixed traffic for ten minutes with RSS and open descriptors sampled: no growth, no errors.
soak: $(STAMP)
	$(PY) -m tests.reliability.soak --seconds $(SOAK_SECONDS) --max-rss-slope 1.5

# The CI form: one minute, bounding gross leaks only, with glibc's malloc arenas capped (with
# its default, the arenas settle by steps for minutes: +8 to +16 MB/min over the first one).
soak-ci: $(STAMP)
	$(PY) -m tests.reliability.soak --seconds 60 --max-rss-slope 15 --malloc-arenas 2

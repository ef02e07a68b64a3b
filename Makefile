# The two commands: `make serve` and `make test` (`make check` is its faster tier, for while you work).
# Everything else sets itself up on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1

.PHONY: install chromium serve ask test check lint eval bench load clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch from the local wheel store first, so no dependency can pull a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

# make serve PORT=7861 HOST=0.0.0.0 (with RAG_AUTH=USER:PASSWORD set: beyond loopback a login is required); rag serve builds or updates the index itself, after checking the port.
HOST ?= 127.0.0.1
PORT ?= 7860

serve: install
	$(BIN)/rag serve --host "$(HOST)" --port "$(PORT)"

ask: install
	@test -n "$(Q)" || { echo 'usage: make ask Q="your question"'; exit 2; }
	$(BIN)/rag ask "$(Q)"

# The browser tests drive Debian's chromium (Playwright's own browser download is never used).
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq chromium); } \
		|| { echo "make test needs Debian's chromium for the browser tests: run 'sudo apt-get install -y chromium'"; exit 2; }

test: install chromium
	$(BIN)/ruff check .
	$(BIN)/pytest

# No browser, servers, kill loops or real-model rebuilds (the `slow` and `heavy` tests): `make test` runs them.
# Two workers, and the report's real-model index kept in .pytest_cache until index/, the report or a package
# changes (`make test` builds it afresh). Measured back to back on a busy 2-core machine: 221 s -> 148 s.
check: install
	$(BIN)/ruff check .
	RAG_TEST_REUSE_INDEX=1 $(BIN)/pytest -m "not slow and not heavy" -q -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

eval: install
	$(BIN)/rag eval --suite report --suite squad-dev --suite covid-dev

bench: install
	$(BIN)/python -m eval.bench
	$(BIN)/python -m eval.ray_bench

load: install
	$(BIN)/python -m eval.load

# data/ (votes on answers) is the user's and is kept.
clean:
	rm -rf index/data eval/reports .pytest_cache

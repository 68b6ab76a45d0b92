# maemae: every target sets up its own environment, so a fresh machine needs only Python 3.11 and pip.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= var/demo

ENGINE_TESTS := tests/test_compiled.py tests/backtest tests/risk tests/execution tests/domain tests/krx tests/strategy \
	tests/brokers/test_sim_exchange.py tests/brokers/test_paper_parity.py

.PHONY: setup demo test chaos lint format bench clean clean-numba

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --extra dev --python $(PYTHON)
	touch $@

# The engine's hot modules compiled with mypyc (scripts/compile_engine.py), rebuilt when any source changes;
# maemae runs the .py files whenever the build does not match them. MAEMAE_COMPILE=0 skips it.
COMPILED := src/maemae/_compiled/manifest.json
SOURCES := $(shell find src/maemae -name '*.py' -not -path '*/_compiled/*')

$(COMPILED): $(VENV)/.installed scripts/compile_engine.py $(SOURCES)
	$(BIN)/python scripts/compile_engine.py

setup: $(VENV)/.installed $(COMPILED)

demo: setup
	$(BIN)/maemae data sample --dir $(DEMO_DIR)/market
	$(BIN)/maemae compare --config examples/minimal.toml --out $(DEMO_DIR)/backtest
	@echo "demo: open $(DEMO_DIR)/backtest/compare/compare.html (each policy's report.html is linked from it)"

test: setup
	scripts/ensure-postgres
	scripts/ensure-chromium
	$(BIN)/pytest -n auto -q
	# The engine's tests again on the .py files, as they run where nothing is compiled (docs/architecture.md)
	MAEMAE_PURE_PYTHON=1 $(BIN)/pytest -n auto -q $(ENGINE_TESTS)

# The crash test with 500 kills instead of the 50 of the normal run (about 10 minutes on 2 cores).
chaos: setup
	MAEMAE_CHAOS_KILLS=250 $(BIN)/pytest -n auto -q tests/store/test_crash_recovery.py

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: setup
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --extra dev --extra bench --python $(PYTHON)
	$(BIN)/python -m benchmarks.run

clean: clean-numba
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache src/maemae/_compiled

clean-numba:
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete

# maemae: every target sets up its own environment, so a fresh machine needs only Python 3.11, pip and a C
# compiler (MAEMAE_COMPILE=0 without one: the engine then runs as Python).
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= var/demo

# The tests of the compiled modules' behaviour, run again on the .py files (docs/architecture.md); the
# whole-day runs of the live loop and its processes (marker whole_day) only in the compiled pass
ENGINE_TESTS := tests/test_compiled.py tests/backtest tests/risk tests/execution tests/domain tests/krx tests/strategy \
	tests/engine tests/store tests/brokers/test_sim_exchange.py tests/brokers/test_paper_parity.py

.PHONY: setup demo test chaos lint format bench clean clean-numba

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --extra dev --python $(PYTHON)
	touch $@

# Then the engine's hot modules compiled with mypyc (scripts/compile_engine.py): built again when the sources,
# the Python or mypyc differ from the build's (the script compares contents; it returns at once otherwise).
# maemae runs the .py files whenever the build does not match them. MAEMAE_COMPILE=0 builds nothing.
setup: $(VENV)/.installed
	$(BIN)/python scripts/compile_engine.py

demo: setup
	$(BIN)/maemae data sample --replace --dir $(DEMO_DIR)/market
	$(BIN)/maemae compare --config examples/minimal.toml --out $(DEMO_DIR)/backtest
	@echo "demo: open $(DEMO_DIR)/backtest/compare/compare.html (each policy's report.html is linked from it)"

test: setup
	scripts/ensure-postgres
	scripts/ensure-chromium
ifeq ($(MAEMAE_COMPILE),0)
	$(BIN)/pytest -n auto -q
else
	MAEMAE_REQUIRE_COMPILED=1 $(BIN)/pytest -n auto -q
	MAEMAE_PURE_PYTHON=1 $(BIN)/pytest -n auto -q -m "not whole_day and not kis_live and not creon_live and not network" $(ENGINE_TESTS)
endif

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
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache src/maemae/_compiled src/maemae/_compiled.new

clean-numba:
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete

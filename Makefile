# maemae: every target sets up its own environment, so a fresh machine needs only Python 3.11 and pip.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= var/demo

.PHONY: setup demo test chaos lint format bench clean clean-numba

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --extra dev --python $(PYTHON)
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/maemae data sample --dir $(DEMO_DIR)/market
	$(BIN)/maemae compare --config examples/minimal.toml --out $(DEMO_DIR)/backtest
	@echo "demo: open $(DEMO_DIR)/backtest/compare/compare.html (each policy's report.html is linked from it)"

test: setup
	scripts/ensure-postgres
	scripts/ensure-chromium
	$(BIN)/pytest -n auto -q

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
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache

clean-numba:
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete

"""Compiles the engine's hot modules with mypyc into src/maemae/_compiled (run by `make setup`).

Why these modules: a backtest's time goes to the bar loop and the order path (runner, kernel, order manager,
portfolio, simulated exchange, risk gate and exits, ticks, costs, the calendar and the clock) and to the
day's preparation (the market's daily history, limits, fills' settlement dates). They are the same files paper and live
trading run; `maemae.compiled` loads the build only while it matches the sources. Strategies stay Python:
their settings are pydantic models, and users subclass the strategy API.

MAEMAE_COMPILE=0 skips the build (the `.py` files run, about a quarter slower on the year-long benchmark).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src"
GROUP = "maemae_engine"
MODULES = (
    "maemae.backtest.runner",
    "maemae.backtest.grid_bars",
    "maemae.engine.kernel",
    "maemae.execution.order_manager",
    "maemae.execution.portfolio",
    "maemae.domain.order",
    "maemae.domain.order_states",
    "maemae.domain.account",
    "maemae.domain.position",
    "maemae.brokers.sim.exchange",
    "maemae.brokers.sim.matching",
    "maemae.risk.gate",
    "maemae.risk.rules",
    "maemae.risk.state",
    "maemae.risk.decision",
    "maemae.risk.exits",
    "maemae.krx.ticks",
    "maemae.krx.costs",
    "maemae.data.bars",
    "maemae.domain.fill",
    "maemae.domain.clock_time",
    "maemae.krx.limits",
    "maemae.krx.sessions",
    "maemae.krx.settlement",
    "maemae.krx.calendar",
    "maemae.engine.clock",
    "maemae.engine.composition",
    "maemae.backtest.market",
)


def main() -> int:
    started = time.monotonic()
    os.environ["MAEMAE_PURE_PYTHON"] = "1"  # the digest below must come from the files, not a loaded build
    sys.path.insert(0, str(SOURCE))
    from maemae.compiled import BUILD_DIR, MANIFEST, source_digest

    if os.environ.get("MAEMAE_COMPILE", "1") == "0":
        shutil.rmtree(BUILD_DIR, ignore_errors=True)
        print("compile-engine: MAEMAE_COMPILE=0, the engine runs as Python")
        return 0
    try:
        from mypyc.build import mypycify
        from setuptools import setup
    except ImportError as error:
        print(f"compile-engine: {error.name} is missing: install the dev extra (make setup does)", file=sys.stderr)
        return 1
    import mypy.version

    digest = source_digest()
    shutil.rmtree(BUILD_DIR, ignore_errors=True)
    work = ROOT / ".venv" / "mypyc"
    work.mkdir(parents=True, exist_ok=True)
    paths = [str(SOURCE / (name.replace(".", "/") + ".py")) for name in MODULES]
    os.chdir(ROOT)  # mypyc type-checks with the project's mypy settings (pyproject.toml)
    extensions = mypycify(paths, group_name=GROUP, target_dir=str(work / "c"))
    os.chdir(work)  # setuptools would read the project's own metadata from pyproject.toml
    setup(
        name="maemae-engine",
        ext_modules=extensions,
        script_args=["--quiet", "build_ext", "--build-lib", str(BUILD_DIR), "--build-temp", str(work / "o")],
    )
    suffix = next(s for s in _extension_suffixes() if any(BUILD_DIR.rglob(f"*{s}")))
    modules = {name: name.replace(".", "/") + suffix for name in (*MODULES, f"{GROUP}__mypyc")}
    missing = [name for name, file in modules.items() if not (BUILD_DIR / file).exists()]
    if missing:
        print(f"compile-engine: no extension was built for {', '.join(missing)}", file=sys.stderr)
        return 1
    manifest = {"digest": digest, "suffix": suffix, "mypyc": mypy.version.__version__, "modules": modules}
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"compile-engine: {len(MODULES)} modules compiled with mypyc in {time.monotonic() - started:.0f} s")
    return 0


def _extension_suffixes() -> list[str]:
    from importlib.machinery import EXTENSION_SUFFIXES

    return EXTENSION_SUFFIXES


if __name__ == "__main__":
    sys.exit(main())

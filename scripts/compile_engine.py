"""Compiles the engine's hot modules with mypyc into src/maemae/_compiled (run by `make setup`).

Why these modules: a backtest's time goes to the bar loop and the order path (runner, kernel, order manager,
portfolio, simulated exchange, risk gate and exits, ticks, costs, the calendar and the clock), to the values
built on every order, fill and bar (the intents, the order manager's events, the broker port's messages, the
gate's context, the strategy inputs) and to the day's preparation (the market's daily history, limits,
fills' settlement dates). The domain's enums are compiled too: mypyc resolves a member of an enum compiled
with it (``Side.BUY``) at once, where one from a Python module is read through the enum metaclass's
``__getattr__`` hook, about 700 instructions on Python 3.11 (a 20-stock, 60-day backtest named members
92,000 times). They are the same files paper and live trading run; `maemae.compiled` loads the build only
while it matches the sources. Strategy classes stay Python (their settings are pydantic models, and users
subclass the strategy API), but the built-in minute strategy's work on a bar is compiled: ``RSIMinute.on_bar``
hands it to ``maemae.strategy.timing``, whose ``styled_intent`` also builds ``OrderStyleParams.intent``'s
orders (a 20-stock, 60-day backtest's 3,187 calls cost 105 M instructions interpreted, 67 M so).

It runs on every `make setup` and returns at once when the build on disk is of the sources, the module list,
the Python and the mypyc there are now. MAEMAE_COMPILE=0 records that nothing is to be compiled (the `.py`
files run, about a quarter slower on the year-long benchmark), until a run without it builds again.
"""

from __future__ import annotations

import importlib.machinery
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
    "maemae.domain.enums",
    "maemae.domain.intents",
    "maemae.domain.events",
    "maemae.domain.account",
    "maemae.domain.position",
    "maemae.brokers.sim.exchange",
    "maemae.brokers.sim.matching",
    "maemae.risk.gate",
    "maemae.risk.rules",
    "maemae.risk.state",
    "maemae.risk.decision",
    "maemae.risk.context",
    "maemae.strategy.inputs",
    "maemae.strategy.timing",
    "maemae.risk.exits",
    "maemae.krx.ticks",
    "maemae.krx.costs",
    "maemae.data.bars",
    "maemae.domain.fill",
    "maemae.ports.messages",
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
    from maemae.compiled import BUILD_DIR, MANIFEST, current_build, read_manifest, source_digest

    wanted = os.environ.get("MAEMAE_COMPILE", "1") != "0"
    digest = source_digest()
    current = read_manifest(MANIFEST)
    if not wanted:
        if current.get("disabled") is not True:
            _replace_build(BUILD_DIR, None, {"disabled": True})
            print("compile-engine: MAEMAE_COMPILE=0: the engine runs as Python")
        return 0
    try:
        import mypy.version
        from mypyc.build import mypycify
        from setuptools import setup
    except ImportError as error:
        print(
            f"compile-engine: {error.name} is missing: install the dev extra (make setup does)",
            file=sys.stderr,
        )
        return 1
    built = set(current.get("modules", {})) == {*MODULES, f"{GROUP}__mypyc"}
    if current_build()[0] is not None and current.get("mypyc") == mypy.version.__version__ and built:
        return 0  # the build on disk is of these sources and modules, this Python and this mypyc
    work = ROOT / ".venv" / "mypyc"
    fresh = BUILD_DIR.with_name(BUILD_DIR.name + ".new")  # swapped in whole once built and checked
    shutil.rmtree(fresh, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    paths = [str(SOURCE / (name.replace(".", "/") + ".py")) for name in MODULES]
    try:
        os.chdir(ROOT)  # mypyc type-checks with the project's mypy settings (pyproject.toml)
        extensions = mypycify(paths, group_name=GROUP, target_dir=str(work / "c"))
        os.chdir(work)  # setuptools would read the project's own metadata from pyproject.toml
        setup(
            name="maemae-engine",
            ext_modules=extensions,
            script_args=["--quiet", "build_ext", "--build-lib", str(fresh), "--build-temp", str(work / "o")],
        )
    except (SystemExit, Exception) as error:  # mypy's type errors exit; a compiler error raises
        print(
            f"compile-engine: the build failed ({error}); without a C compiler, MAEMAE_COMPILE=0",
            file=sys.stderr,
        )
        return 1
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    modules = {name: name.replace(".", "/") + suffix for name in (*MODULES, f"{GROUP}__mypyc")}
    missing = [name for name, file in modules.items() if not (fresh / file).exists()]
    if missing:
        print(f"compile-engine: no extension was built for {', '.join(missing)}", file=sys.stderr)
        return 1
    if source_digest() != digest:  # a file changed while mypyc read them: this build may hold either
        print("compile-engine: the sources changed during the build; run it again", file=sys.stderr)
        return 1
    manifest = {"digest": digest, "suffix": suffix, "mypyc": mypy.version.__version__, "modules": modules}
    _replace_build(BUILD_DIR, fresh, manifest)
    print(f"compile-engine: {len(MODULES)} modules compiled with mypyc in {time.monotonic() - started:.0f} s")
    return 0


def _replace_build(build: Path, fresh: Path | None, manifest: dict[str, object]) -> None:
    """Put ``fresh`` (or an empty build) in place of ``build``, its manifest written last and atomically."""
    staged = fresh
    if staged is None:  # nothing built: a directory holding only the manifest, no leftover of an old build
        staged = build.with_name(build.name + ".new")
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
    (staged / "manifest.json.tmp").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.replace(staged / "manifest.json.tmp", staged / "manifest.json")
    shutil.rmtree(build, ignore_errors=True)
    os.replace(staged, build)


if __name__ == "__main__":
    sys.exit(main())

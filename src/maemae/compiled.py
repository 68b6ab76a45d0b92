"""Runs the engine's hot modules compiled by mypyc, but only when they were built from the sources on disk.

Why: a backtest spends its time in plain Python objects (orders, fills, the portfolio, the risk gate).
mypyc compiles those same source files to C extensions (`scripts/compile_engine.py`, run by `make setup`),
so a backtest, paper and live trading still run one code, only faster. A compiled module that no longer
matches its source would quietly run old code, and compiled modules call each other directly, so the build
is used whole or not at all: only when the digest of every maemae source file equals the one recorded when it
was built, for this Python. Otherwise the `.py` files run and one line on stderr says why.

`MAEMAE_PURE_PYTHON=1` runs the `.py` files whatever was built; a build made with `MAEMAE_COMPILE=0` holds
no modules, only a manifest that says so.
"""

from __future__ import annotations

import copyreg
import dataclasses
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_DIR = PACKAGE_DIR / "_compiled"
MANIFEST = BUILD_DIR / "manifest.json"
PURE_ENV = "MAEMAE_PURE_PYTHON"
NOT_BUILT = "not built (make setup builds it)"
DISABLED = "not compiled (MAEMAE_COMPILE=0)"


def source_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over every maemae source file's path and bytes: any edit anywhere changes it.

    All files, not only the compiled ones: mypyc builds a module against the types it imports. Hidden
    files and links are not sources (an editor's lock file `.#runner.py` is a link to nowhere).
    """
    digest = hashlib.sha256()
    sources = (
        path
        for path in package_dir.rglob("*.py")
        if not path.name.startswith(".") and not path.is_symlink() and path.is_file()
    )
    for path in sorted(sources):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


class _CompiledFinder:
    """Finds the compiled extension for each module of the build, ahead of the `.py` file beside it."""

    def __init__(self, modules: dict[str, Path]) -> None:
        self._modules = modules

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        extension = self._modules.get(name)
        if extension is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(name, str(extension))
        return importlib.util.spec_from_file_location(name, extension, loader=loader)


def read_manifest(path: Path) -> dict[str, Any]:
    """The build's manifest; empty when there is none or it cannot be read (an unfinished build)."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def usable_build(package_dir: Path = PACKAGE_DIR) -> tuple[dict[str, Path] | None, str]:
    """The build's modules and their extension files, or None and why the `.py` files run instead."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None, f"{PURE_ENV} is set"
    return current_build(package_dir)


def current_build(package_dir: Path = PACKAGE_DIR) -> tuple[dict[str, Path] | None, str]:
    """As :func:`usable_build`, whatever the environment asks: the build script's test for nothing to do."""
    build_dir = package_dir / BUILD_DIR.name
    manifest_path = build_dir / MANIFEST.name
    if not manifest_path.exists():
        return None, NOT_BUILT
    manifest = read_manifest(manifest_path)
    if manifest.get("disabled") is True:
        return None, DISABLED
    if manifest.get("suffix") not in importlib.machinery.EXTENSION_SUFFIXES:
        return None, f"built for another Python ({manifest.get('suffix')})"
    listed = manifest.get("modules")
    modules = (
        {str(name): build_dir / str(file) for name, file in listed.items()}
        if isinstance(listed, dict)
        else {}
    )
    if not modules or not all(path.exists() for path in modules.values()):
        return None, "the build is incomplete (make setup builds it again)"
    if manifest.get("digest") != source_digest(package_dir):
        return None, "the sources changed since it was built (make setup builds it again)"
    return modules, f"compiled with mypyc {manifest.get('mypyc', '?')} ({len(modules) - 1} modules)"


def pickle_by_fields(*classes: type) -> None:
    """Pickle each dataclass of ``classes`` as a call of the class with its fields in order.

    A compiled class is rebuilt by calling its ``__init__``, not field by field as pickle otherwise does,
    so a class with an ``__init__`` of its own (written out so mypyc compiles it) or a frozen one cannot be
    restored without this. The simulated exchange's server receives such objects over its socket.
    The same in both forms: the `.py` classes are rebuilt the same way, through their checks.
    """
    for cls in classes:
        copyreg.pickle(cls, _by_fields(cls))


def _by_fields(cls: type) -> Callable[[object], tuple[type, tuple[object, ...]]]:
    names = tuple(field.name for field in dataclasses.fields(cls) if field.init)  # what __init__ takes

    def reduce(obj: object) -> tuple[type, tuple[object, ...]]:
        return cls, tuple(getattr(obj, name) for name in names)

    return reduce


_modules, STATUS = usable_build()
ACTIVE = _modules is not None
"""Whether this process runs the compiled engine; `STATUS` says which and why (the bench reports it)."""

if _modules is not None:
    sys.meta_path.insert(0, _CompiledFinder(_modules))
elif STATUS not in (NOT_BUILT, DISABLED) and not STATUS.startswith(PURE_ENV):
    print(f"maemae: the compiled engine is not used: {STATUS}", file=sys.stderr)

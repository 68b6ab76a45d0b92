"""The compiled engine (`maemae.compiled`): a build runs only while it matches every source file."""

import importlib
import importlib.machinery
import json
import os
import pickle
from datetime import datetime
from pathlib import Path

import pytest

from maemae import compiled
from maemae.brokers.sim.matching import MarketBar
from maemae.domain.clock_time import KST
from maemae.krx.limits import PriceLimits

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _package_with_build(root: Path) -> Path:
    """A package of two source files and a 'build' of one module, recorded against their digest."""
    package = root / "pkg"
    (package / "engine").mkdir(parents=True)
    (package / "__init__.py").write_text('"""pkg"""\n')
    (package / "engine" / "loop.py").write_text("def step() -> int:\n    return 1\n")
    build = package / "_compiled"
    (build / "pkg" / "engine").mkdir(parents=True)
    (build / "pkg" / "engine" / f"loop{SUFFIX}").write_bytes(b"")
    (build / f"group__mypyc{SUFFIX}").write_bytes(b"")
    manifest = {
        "digest": compiled.source_digest(package),
        "suffix": SUFFIX,
        "mypyc": "test",
        "modules": {"pkg.engine.loop": f"pkg/engine/loop{SUFFIX}", "group__mypyc": f"group__mypyc{SUFFIX}"},
    }
    (build / "manifest.json").write_text(json.dumps(manifest))
    return package


def test_build_when_it_matches_the_sources_then_its_modules_load_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(compiled.PURE_ENV, raising=False)
    package = _package_with_build(tmp_path)
    modules, status = compiled.usable_build(package)
    assert modules == {
        "pkg.engine.loop": package / "_compiled" / "pkg" / "engine" / f"loop{SUFFIX}",
        "group__mypyc": package / "_compiled" / f"group__mypyc{SUFFIX}",
    }
    assert status == "compiled with mypyc test (1 modules)"


def test_build_when_an_editor_left_a_lock_file_then_it_is_no_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Emacs's `.#loop.py` is a link to nowhere; reading it would stop every import of maemae."""
    monkeypatch.delenv(compiled.PURE_ENV, raising=False)
    package = _package_with_build(tmp_path)
    (package / "engine" / ".#loop.py").symlink_to(package / "engine" / "nowhere")
    assert compiled.usable_build(package)[0] is not None


def test_build_when_its_manifest_is_damaged_or_says_not_compiled_then_the_py_files_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(compiled.PURE_ENV, raising=False)
    package = _package_with_build(tmp_path)
    manifest_path = package / "_compiled" / "manifest.json"
    for damaged in ('{"digest": "', "[]", json.dumps({"suffix": SUFFIX})):
        manifest_path.write_text(damaged)
        assert compiled.usable_build(package)[0] is None
    manifest_path.write_text('{"disabled": true}')
    assert compiled.usable_build(package) == (None, compiled.DISABLED)


@pytest.mark.parametrize(
    "change",
    [
        lambda package: (package / "engine" / "loop.py").write_text("def step() -> int:\n    return 2\n"),
        lambda package: (package / "engine" / "new.py").write_text("X = 1\n"),  # not a compiled module
        lambda package: (package / "engine" / "loop.py").rename(package / "engine" / "moved.py"),
    ],
    ids=["edited", "added", "renamed"],
)
def test_build_when_any_source_changed_then_the_py_files_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: object
) -> None:
    monkeypatch.delenv(compiled.PURE_ENV, raising=False)
    package = _package_with_build(tmp_path)
    change(package)  # type: ignore[operator]
    assert compiled.usable_build(package) == (
        None,
        "the sources changed since it was built (make setup builds it again)",
    )


def test_build_for_another_python_or_incomplete_then_the_py_files_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(compiled.PURE_ENV, raising=False)
    package = _package_with_build(tmp_path)
    (package / "_compiled" / "pkg" / "engine" / f"loop{SUFFIX}").unlink()
    assert compiled.usable_build(package)[1] == "the build is incomplete (make setup builds it again)"
    manifest_path = package / "_compiled" / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) | {"suffix": ".cpython-39-other.so"}
    manifest_path.write_text(json.dumps(manifest))
    assert compiled.usable_build(package) == (None, "built for another Python (.cpython-39-other.so)")
    manifest_path.unlink()
    assert compiled.usable_build(package) == (None, compiled.NOT_BUILT)


def test_build_when_pure_python_is_asked_for_then_it_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(compiled.PURE_ENV, "1")
    assert compiled.usable_build(_package_with_build(tmp_path)) == (None, "MAEMAE_PURE_PYTHON is set")


def test_engine_when_a_current_build_exists_runs_compiled() -> None:
    """What `make setup` built is what runs (the first pass of `make test`, which sets
    MAEMAE_REQUIRE_COMPILED); the second pass runs Python."""
    engine_modules = ["maemae.backtest.runner", "maemae.execution.order_manager", "maemae.krx.ticks"]
    origins = {name: Path(importlib.import_module(name).__file__ or "").name for name in engine_modules}
    if os.environ.get("MAEMAE_REQUIRE_COMPILED") == "1":
        assert compiled.ACTIVE, compiled.STATUS
    if compiled.ACTIVE:
        assert all(origin.endswith(SUFFIX) for origin in origins.values()), origins
        return
    assert all(origin.endswith(".py") for origin in origins.values()), origins
    if compiled.STATUS.startswith(compiled.PURE_ENV) or compiled.STATUS in (
        compiled.NOT_BUILT,
        compiled.DISABLED,
    ):
        return
    manifest = json.loads(compiled.MANIFEST.read_text(encoding="utf-8"))
    if manifest["digest"] != compiled.source_digest():
        pytest.skip("the sources changed since the last make setup")
    pytest.fail(f"a current build was not used: {compiled.STATUS}")


def test_limits_when_sent_to_another_process_arrive_whole() -> None:
    """The simulated exchange's server pickles bars and limits; a compiled frozen class needs its own
    `__reduce__` for that."""
    bar = MarketBar(
        datetime(2025, 1, 2, 9, 1, tzinfo=KST), 1000, 1010, 990, 1005, 700, PriceLimits(1300, 700)
    )
    assert pickle.loads(pickle.dumps(bar)) == bar
    assert pickle.loads(pickle.dumps(PriceLimits(1300, 700))) == PriceLimits(1300, 700)

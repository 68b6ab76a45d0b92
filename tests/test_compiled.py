"""The compiled engine (`maemae.compiled`): a build runs only while it matches every source file."""

import copyreg
import dataclasses
import importlib
import importlib.machinery
import importlib.util
import json
import os
import pickle
from datetime import datetime
from pathlib import Path

import pytest

from maemae import compiled
from maemae.brokers.sim.matching import MarketBar
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.events import FillReceived, OrderStateChanged
from maemae.domain.fill import Fill
from maemae.domain.intents import IntentSource, OrderIntent
from maemae.domain.order import Order, Transition
from maemae.domain.order_states import OrderEvent, OrderState
from maemae.domain.position import Position
from maemae.krx.limits import PriceLimits
from maemae.ports.broker import BrokerFill, BrokerOrderStatus, OrderAck, OrderRequest, OrderUpdate

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
ROOT = Path(__file__).resolve().parents[1]


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


def _compiled_modules() -> list[str]:
    spec = importlib.util.spec_from_file_location("compile_engine", ROOT / "scripts" / "compile_engine.py")
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return list(script.MODULES)


def test_values_when_sent_to_another_process_arrive_whole() -> None:
    """The simulated exchange's server pickles requests, receipts, fills, bars and limits; compiled, a
    frozen class or one with an ``__init__`` of its own is rebuilt only through `pickle_by_fields`."""
    at = datetime(2025, 1, 2, 9, 1, tzinfo=KST)
    code = StockCode("005930")
    values = [
        MarketBar(at, 1000, 1010, 990, 1005, 700, PriceLimits(1300, 700)),
        PriceLimits(1300, 700),
        OrderRequest("20250102-000001", code, Side.BUY, 10, OrderType.LIMIT, 1000),
        OrderAck("S0000001", at),
        BrokerFill("F1", "S0000001", code, Side.BUY, 10, 1000, at, cumulative_quantity=10),
        OrderUpdate("S0000001", BrokerOrderStatus.CANCELLED, at, cancelled_quantity=3, reason="timeout"),
        Fill("F1", "20250102-000001", "S0000001", code, Side.SELL, 10, 1000, at, commission=2, tax=18),
        Position(code, owned_quantity=10, cost_basis=10_002, opened_at=at, strategy="rsi_minute"),
        OrderIntent(
            code, Side.SELL, 10, OrderType.MARKET, source=IntentSource.STOP_LOSS, signal={"rsi": 71.5}
        ),
        OrderStateChanged(
            "20250102-000001", code, OrderState.SUBMITTED, OrderState.ACCEPTED, OrderEvent.ACCEPT, at
        ),
        FillReceived(Fill("F1", "20250102-000001", "S0000001", code, Side.BUY, 10, 1000, at, commission=2)),
    ]
    for value in values:
        assert pickle.loads(pickle.dumps(value)) == value
    order = Order("20250102-000001", code, Side.BUY, 10, OrderType.LIMIT, 1000, at, strategy="s")
    order.fill_ids.add("F1")
    order.apply(OrderEvent.SUBMIT, at, "sent")
    again = pickle.loads(pickle.dumps(order))
    assert (again.order_id, again.fill_ids, again.history, again.strategy) == (
        "20250102-000001",
        {"F1"},
        [Transition(at, OrderEvent.SUBMIT, OrderState.SUBMITTED, "sent")],
        "s",
    )


def test_every_compiled_dataclass_pickle_cannot_rebuild_alone_is_registered() -> None:
    """The rule behind the test above, for every class of every compiled module: frozen, or with an
    ``__init__`` of its own (one @dataclass did not write), means registered with `pickle_by_fields`."""
    unregistered = []
    for name in _compiled_modules():
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if not (dataclasses.is_dataclass(cls) and isinstance(cls, type) and cls.__module__ == name):
                continue
            init = cls.__dict__["__init__"]
            own_init = getattr(getattr(init, "__code__", None), "co_filename", "") != "<string>"
            if (cls.__dataclass_params__.frozen or own_init) and cls not in copyreg.dispatch_table:  # type: ignore[attr-defined]
                unregistered.append(f"{name}.{cls.__name__}")
    assert unregistered == []

"""``maemae params set``: validated against the config models, saved with an audit record, applied by a
running engine before its next step; an invalid value is refused with one line and changes nothing."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from maemae.backtest.service import load_market
from maemae.cli import main
from maemae.config import load_config
from maemae.domain.clock_time import KST
from maemae.domain.order_states import OrderState
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.store.repository import SqlStateStore
from maemae.store.schema import param_changes
from tests.engine.test_paper import _config

DAY = date(2025, 12, 3)
CHANGE_AT = time(10, 0)


def test_params_set_when_valid_then_saved_audited_and_shown(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(market_root, tmp_path))
    assert main(["db", "migrate", "--config", config]) == 0
    assert main(["params", "set", "--config", config, "risk.stop_loss.pct", "2.5"]) == 0
    assert "risk.stop_loss.pct: 1.5 -> 2.5 (" in capsys.readouterr().out
    assert main(["params", "get", "--config", config, "risk.stop_loss.pct"]) == 0
    assert capsys.readouterr().out == "2.5\n"
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        (entry,) = [e for e in store.audit_entries() if e.kind == "param"]
        # the old value as the number it is, not the models' JSON text of a Decimal ("1.5" -> 2.5)
        assert (entry.subject, entry.data["old"], entry.data["new"]) == ("risk.stop_loss.pct", 1.5, 2.5)
        with store.engine.connect() as connection:
            rows = connection.execute(select(param_changes.c.old, param_changes.c.new)).all()
        assert [tuple(row) for row in rows] == [(1.5, 2.5)]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("risk.stop_loss.pct", "abc", "risk.stop_loss.pct = 'abc'"),
        (
            "risk.stop_loss.pct",
            "0.00001",
            "params: risk.stop_loss.pct = 1e-05: expected a number with at most 4 digits after the point",
        ),
        ("risk.order_limits.max_quantity_per_order", "0", "max_quantity_per_order = 0"),
        # a running day made a timedelta of it at its next step, and ended with a traceback
        (
            "execution.unfilled_timeout_s",
            "99999999999999999999999",
            "execution.unfilled_timeout_s = 99999999999999999999999: expected a number <= 86400",
        ),
        (
            "risk.no_such_rule",
            "1",
            "params: unknown key 'risk.no_such_rule' (allowed under risk: cooldown, reentry, ",
        ),
        (
            "strategies.daily.class",
            "x",
            "cannot change while running (only risk.*, execution.* and strategies",
        ),
        # read when a run starts: the kill switch's flag file, the timers
        ("execution.halt_file", "var/OTHER", "params: 'execution.halt_file' is read when a run starts, so"),
        ("execution.reconcile_s", "120", "params: 'execution.reconcile_s' is read when a run starts, so"),
    ],
)
def test_params_set_when_invalid_then_one_line_and_nothing_saved(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str, expected: str
) -> None:
    config = str(_config(market_root, tmp_path))
    assert main(["db", "migrate", "--config", config]) == 0
    capsys.readouterr()
    assert main(["params", "set", "--config", config, key, value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert expected in err[0]
    _assert_nothing_saved(tmp_path)


def _assert_nothing_saved(directory: Path) -> None:
    """No override document and no audit record: a refused change leaves the store as it was."""
    store = SqlStateStore(f"sqlite:///{directory}/state.db")
    try:
        assert store.runtime_document("params") is None
        assert store.verify_audit().records == 0
    finally:
        store.close()


def _store_only_config(directory: Path, pct: str) -> str:
    """A config of a state store and a stop loss only: ``params`` needs no market."""
    path = directory / "maemae.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{directory}/state.db"\n\n[risk.stop_loss]\npct = "{pct}"\n',
        encoding="utf-8",
    )
    assert main(["db", "migrate", "--config", str(path)]) == 0
    return str(path)


def test_params_get_when_decimal_then_a_json_number_with_the_decimals_own_digits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _store_only_config(tmp_path, "1.50")  # a float would print 1.5, a JSON string "1.50"
    capsys.readouterr()
    assert main(["params", "get", "--config", config, "risk.stop_loss.pct"]) == 0
    assert capsys.readouterr().out == "1.50\n"

    assert main(["params", "get", "--config", config]) == 0
    out = capsys.readouterr().out
    assert '"pct": 1.50\n' in out
    shown = json.loads(out, parse_float=Decimal)
    assert str(shown["risk"]["stop_loss"]["pct"]) == "1.50"
    assert shown["risk"]["take_profit"]["trigger_pct"] == 5  # a whole Decimal: a JSON integer
    assert shown["execution"]["halt_file"] == "var/HALT"  # text stays text
    assert shown["execution"]["resilience"]["retry_backoff_s"] == Decimal("0.5")  # a float field as before


@pytest.mark.parametrize(
    "key", ["risk.stop_loss.pct", "execution.resilience.reject_breaker_cooldown_s"]
)  # a Decimal field, and a float field without an upper bound (which took inf before)
@pytest.mark.parametrize("value", ["1e400", "inf", "nan", "-inf"])
def test_params_set_when_not_a_finite_number_then_one_line_naming_the_value_as_typed_and_nothing_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str
) -> None:
    config = _store_only_config(tmp_path, "1.5")
    capsys.readouterr()
    assert main(["params", "set", "--config", config, "--", key, value]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: params: {key} = {value}: expected a finite number\n"
    _assert_nothing_saved(tmp_path)


def test_params_when_changed_during_a_run_then_applied_from_the_next_step(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = str(_config(market_root, tmp_path))
    config = load_config(Path(config_file))
    market, days = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
    exchange = make_sim_exchange(config, market.calendar, market.instruments, clock.now)

    def operator(moment: datetime) -> None:
        if moment.time() == CHANGE_AT:
            assert (
                main(
                    [
                        "params",
                        "set",
                        "--config",
                        config_file,
                        "risk.order_limits.max_quantity_per_order",
                        "1",
                    ]
                )
                == 0
            )

    store = SqlStateStore(config.store.url)
    try:
        outcome = run_persisted_replay(config, market, days, exchange, store, clock, operator)
        sent = [o for o in outcome.engine.orders.orders.values() if o.state is not OrderState.DENIED]
        before = [o.quantity for o in sent if o.created_at.time() < CHANGE_AT]
        after = [o.quantity for o in sent if o.created_at.time() >= CHANGE_AT]
        assert max(before) > 1
        assert after
        assert max(after) == 1
        applied = [e for e in store.audit_entries() if e.kind == "param" and e.subject == "applied"]
        assert applied[-1].data == {"risk.order_limits.max_quantity_per_order": 1}
    finally:
        store.close()

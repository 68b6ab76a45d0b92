"""``maemae params reset KEY``: a saved change is dropped, so the config file's value is in force again,
audited as a change and applied by a running engine before its next step. It is also the way out of an
override an older maemae saved that the models now refuse, which blocked every ``params`` command."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest

from maemae.backtest.service import load_market
from maemae.cli import main
from maemae.config import load_config
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.params import PARAMS_DOCUMENT
from maemae.engine.replay import run_persisted_replay
from maemae.ports.state import StateChange
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import _config
from tests.engine.test_params import DAY
from tests.user_errors import refused

KEY = "risk.stop_loss.pct"


@pytest.fixture
def config(market_root: Path, tmp_path: Path) -> str:
    path = str(_config(market_root, tmp_path))
    assert main(["db", "migrate", "--config", path]) == 0
    return path


def saved_overrides(config: str) -> dict[str, object]:
    store = SqlStateStore(load_config(Path(config)).store.url)
    try:
        return dict(store.runtime_document(PARAMS_DOCUMENT) or {})
    finally:
        store.close()


def test_params_reset_when_a_change_was_saved_returns_to_the_file_and_audits_it(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["params", "set", "--config", config, KEY, "2.5"]) == 0
    assert main(["params", "set", "--config", config, "risk.trailing_stop.pct", "2"]) == 0
    capsys.readouterr()
    assert main(["params", "reset", "--config", config, KEY]) == 0
    assert capsys.readouterr().out.startswith(f"{KEY}: 2.5 -> 1.5 from the config file (")
    assert main(["params", "get", "--config", config, KEY]) == 0
    assert capsys.readouterr().out == "1.5\n"
    assert saved_overrides(config) == {"risk.trailing_stop.pct": 2}  # the other change stays
    store = SqlStateStore(load_config(Path(config)).store.url)
    try:
        last = [e for e in store.audit_entries() if e.kind == "param" and e.subject == KEY][-1]
        assert (last.data["old"], last.data["new"], last.data["reset"]) == (2.5, 1.5, True)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (KEY, f"error: params: {KEY} has no saved override; the config file's value is in force"),
        (
            "risk.no_such_rule",
            "error: params: unknown key 'risk.no_such_rule' (allowed under risk: cooldown, reentry, "
            "daily_caps, one_trade_a_day, take_profit, stop_loss, trailing_stop, portfolio_stop, time_cut, "
            "order_limits, sizing, strategy_change)",
        ),
    ],
)
def test_params_reset_when_nothing_to_drop_then_one_line_and_nothing_saved(
    config: str, key: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(main(["params", "reset", "--config", config, key]), capsys) == expected
    assert saved_overrides(config) == {}


def test_params_when_a_table_and_a_key_in_it_are_set_then_one_override_and_reset_returns_to_the_file(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A table saved whole and a key inside it were two overrides: resetting the key said it had none while
    the table's value was in force, and resetting the table said "from the config file" while the key's
    override still set it."""
    file_value = load_config(Path(config)).risk.stop_loss.pct
    assert main(["params", "set", "--config", config, "risk.stop_loss", '{"enabled": true, "pct": 4}']) == 0
    assert main(["params", "set", "--config", config, KEY, "3"]) == 0  # into the table's override
    assert saved_overrides(config) == {"risk.stop_loss": {"enabled": True, "pct": 3}}
    capsys.readouterr()
    assert refused(main(["params", "reset", "--config", config, KEY]), capsys) == (
        f"error: params: {KEY} is part of the saved override of risk.stop_loss: "
        "`maemae params reset --config F risk.stop_loss` returns it to the config file's value"
    )
    assert main(["params", "reset", "--config", config, "risk.stop_loss"]) == 0
    assert saved_overrides(config) == {}
    capsys.readouterr()
    assert main(["params", "get", "--config", config, KEY]) == 0
    assert capsys.readouterr().out == f"{file_value}\n"


def test_params_when_a_key_then_its_table_are_set_the_table_replaces_it_and_a_table_reset_drops_its_keys(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["params", "set", "--config", config, KEY, "3"]) == 0
    assert main(["params", "set", "--config", config, "risk.stop_loss", '{"enabled": true, "pct": 4}']) == 0
    assert saved_overrides(config) == {"risk.stop_loss": {"enabled": True, "pct": 4}}
    # an older maemae saved both; a reset of the table drops the key's override with it
    store = SqlStateStore(load_config(Path(config)).store.url)
    try:
        store.commit(
            StateChange(runtime={PARAMS_DOCUMENT: {"risk.stop_loss": {"enabled": True, "pct": 4}, KEY: 3}})
        )
    finally:
        store.close()
    capsys.readouterr()
    assert main(["params", "reset", "--config", config, "risk.stop_loss"]) == 0
    assert capsys.readouterr().out.startswith("risk.stop_loss: {")
    assert saved_overrides(config) == {}


def test_params_when_a_saved_override_is_now_refused_names_it_and_reset_clears_it(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older maemae took ``"yes"`` for a switch; the models now refuse it, and with no command to drop
    the override, ``params get|set`` and a run's start refused for good."""
    store = SqlStateStore(load_config(Path(config)).store.url)
    try:
        store.commit(StateChange(runtime={PARAMS_DOCUMENT: {"risk.cooldown.enabled": "yes", KEY: 2.5}}))
    finally:
        store.close()
    line = refused(main(["params", "get", "--config", config]), capsys)
    assert line.startswith("error: params: risk.cooldown.enabled = 'yes': expected true or false")
    assert line.endswith(
        "(a saved override: `maemae params reset --config F risk.cooldown.enabled` returns to the config "
        "file's value)"
    )
    assert main(["params", "reset", "--config", config, "risk.cooldown.enabled"]) == 0
    assert capsys.readouterr().out.startswith('risk.cooldown.enabled: "yes" -> false from the config file')
    assert main(["params", "get", "--config", config, KEY]) == 0
    assert capsys.readouterr().out == "2.5\n"


def test_params_reset_when_another_saved_override_is_refused_names_that_one_and_saves_nothing(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SqlStateStore(load_config(Path(config)).store.url)
    try:
        saved = {"risk.cooldown.enabled": "yes", "risk.trailing_stop.enabled": "no", KEY: 2.5}
        store.commit(StateChange(runtime={PARAMS_DOCUMENT: saved}))
    finally:
        store.close()
    line = refused(main(["params", "reset", "--config", config, "risk.cooldown.enabled"]), capsys)
    assert line.endswith(
        "`maemae params reset --config F risk.trailing_stop.enabled` returns to the config file's value)"
    )
    assert saved_overrides(config) == saved


def test_params_reset_during_a_run_is_applied_from_the_next_step(config: str) -> None:
    settings = load_config(Path(config))
    market, days = load_market(settings, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
    exchange = make_sim_exchange(settings, market.calendar, market.instruments, clock.now)
    key = "risk.order_limits.max_quantity_per_order"

    def operator(moment: datetime) -> None:
        if moment.time() == time(10, 0):
            assert main(["params", "set", "--config", config, key, "1"]) == 0
        if moment.time() == time(11, 0):
            assert main(["params", "reset", "--config", config, key]) == 0

    store = SqlStateStore(settings.store.url)
    try:
        outcome = run_persisted_replay(settings, market, days, exchange, store, clock, operator)
        configured = settings.risk.order_limits.max_quantity_per_order
        assert outcome.engine.gate.config.order_limits.max_quantity_per_order == configured
        applied = [e.data for e in store.audit_entries() if e.kind == "param" and e.subject == "applied"]
        assert applied == [{key: 1}, {key: configured}]
    finally:
        store.close()

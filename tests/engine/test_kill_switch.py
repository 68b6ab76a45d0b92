"""The kill switch: `maemae halt` from another process, or a flag file, stops new orders and cancels open ones
before the running engine's next step; `maemae resume` lifts it. Both are audited."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from maemae.backtest.service import load_market
from maemae.cli import main
from maemae.domain.clock_time import KST
from maemae.domain.order_states import OrderState
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.backtest.test_modes_parity import CONFIGS
from tests.engine.test_paper import _config
from tests.user_errors import one_error_line

DAY = date(2025, 12, 3)
HALT_AT, RESUME_AT = time(9, 41), time(11, 0)


class Operator:
    """Plays the operator at chosen market times, through the command line as a person would (it runs as the
    replay's pacer, so it acts between two steps)."""

    def __init__(self, config_file: Path, flag: Path | None) -> None:
        self.config_file = str(config_file)
        self.flag = flag
        self.done: set[str] = set()

    def __call__(self, moment: datetime) -> None:
        if moment.time() >= HALT_AT and "halt" not in self.done:
            self.done.add("halt")
            if self.flag is None:
                assert main(["halt", "--config", self.config_file, "--reason", "test"]) == 0
            else:
                self.flag.touch()
        if moment.time() >= RESUME_AT and "resume" not in self.done:
            self.done.add("resume")
            if self.flag is None:
                assert main(["resume", "--config", self.config_file]) == 0
            else:
                self.flag.unlink()


@pytest.mark.parametrize("by_file", [False, True])
def test_kill_switch_when_halted_then_no_new_orders_and_open_orders_cancelled(
    market_root: Path, tmp_path: Path, by_file: bool
) -> None:
    flag = tmp_path / "HALT"
    config_file = _config(market_root, tmp_path)
    sections = {
        **CONFIGS["all_risk_rules"],
        "store": {"url": f"sqlite:///{tmp_path}/state.db"},
        "execution": {**CONFIGS["all_risk_rules"]["execution"], "halt_file": str(flag)},
    }
    config = make_config(market_root, **sections)
    market, days = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
    exchange = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    operator = Operator(config_file, flag if by_file else None)
    store = SqlStateStore(config.store.url)
    try:
        outcome = run_persisted_replay(config, market, days, exchange, store, clock, operator)
        orders = list(outcome.engine.orders.orders.values())
        halted = [o for o in orders if HALT_AT < o.created_at.time() < RESUME_AT]
        assert halted, "the strategy kept trying while halted"
        assert {(o.state, o.history[-1].note.split(":")[0]) for o in halted} == {
            (OrderState.DENIED, "kill_switch")
        }
        assert any(o.created_at.time() >= RESUME_AT and o.state is not OrderState.DENIED for o in orders)
        switched = [e for e in store.audit_entries() if e.kind == "operator" and "cancelled" in e.data]
        assert [e.data["to"] for e in switched] == ["halted", "active"]
        assert switched[0].data["cancelled"], "no order was open at the halt: pick another HALT_AT"
        for order_id in switched[0].data["cancelled"]:
            assert outcome.engine.orders.orders[order_id].state is OrderState.CANCELLED
        assert store.verify_audit().ok
    finally:
        store.close()


@pytest.mark.parametrize(
    "command",
    [
        ["halt", "--reason", "stop"],
        ["halt", "--reducing"],
        ["resume"],
        ["params", "get"],
        ["params", "set", "risk.stop_loss.pct", "2.5"],
    ],
)
def test_operator_commands_when_the_store_does_not_exist_then_refused_and_none_created(
    market_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """store.url is relative to the current directory. Run from another one, ``halt`` used to create an empty
    store there and report success (exit 0), while the real running instance went on trading."""
    config_file = _config(market_root, tmp_path)
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace(f"sqlite:///{tmp_path}/state.db", "sqlite:///var/state.db"))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "var").mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    split = 2 if command[0] == "params" else 1  # the options follow the (sub)command's name
    assert main([*command[:split], "--config", str(config_file), *command[split:]]) == 6
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err) == (
        "error: store.url = sqlite:///var/state.db: var/state.db does not exist (relative to the current "
        f"folder {elsewhere}): check the path, or run `maemae db migrate`"
    )
    assert list((elsewhere / "var").iterdir()) == []

"""``maemae params`` for the configured strategies' own parameters (``strategies.daily.params.<name>``,
``strategies.minute.params.<name>``): validated by the strategy's ``Params`` model, saved and audited as a
risk change is, and taken by a running paper day from its next step, whose strategies are built again."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from maemae.backtest.service import load_market
from maemae.cli import main
from maemae.config import load_config
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.order_states import OrderState
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.engine.runtime import replayed_day_in_process
from maemae.engine.scheduler import Scheduler
from maemae.service.control import change_parameter, parameters
from maemae.store.repository import SqlStateStore
from maemae.store.schema import param_changes
from maemae.strategy.api import Signal
from maemae.strategy.rsi_minute import RSIMinute
from tests.backtest.conftest import make_config
from tests.engine.test_paper import _config
from tests.engine.test_params import _assert_nothing_saved

DAY = date(2025, 12, 3)


def _replay(
    directory: Path,
    market_root: Path,
    key: str,
    value: str,
    change_at: time | None,
    stop_at: time | None = None,
) -> list[tuple[object, ...]]:
    """A paper replay of DAY in a store of its own; the operator sets ``key`` to ``value`` with ``maemae
    params set`` before the step at ``change_at`` (None: before the day starts). ``stop_at``: the replay is
    stopped there (a Ctrl-C) and started again, as a restart of the day. The orders sent, as (time, code,
    side, quantity, limit price)."""
    directory.mkdir()
    config_file = str(_config(market_root, directory))
    assert main(["db", "migrate", "--config", config_file]) == 0
    if change_at is None:
        assert main(["params", "set", "--config", config_file, key, value]) == 0
    config = load_config(Path(config_file))
    market, days = load_market(config, DAY, DAY)
    clocks = [SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))]
    # the exchange outlives a stopped run, as one in a process of its own does, on the running engine's clock
    exchange = make_sim_exchange(config, market.calendar, market.instruments, lambda: clocks[-1].now())

    def operator(moment: datetime) -> None:
        if change_at is not None and moment.time() == change_at:
            assert main(["params", "set", "--config", config_file, key, value]) == 0

    stops: list[Callable[[], bool] | None] = [None]
    if stop_at is not None:
        stops = [lambda: clocks[-1].now().time() >= stop_at, None]
    store = SqlStateStore(config.store.url)
    try:
        for number, stop in enumerate(stops):
            if number:  # a restart: a new engine, on a clock of its own
                clocks.append(SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST)))
            outcome = run_persisted_replay(
                config, market, days, exchange, store, clocks[-1], operator, stop=stop
            )
            assert (outcome.stopped_at is not None) == (stop is not None)
    finally:
        store.close()
    sent = [o for o in outcome.engine.orders.orders.values() if o.state is not OrderState.DENIED]
    return sorted((o.created_at.time(), o.code, o.side, o.quantity, o.limit_price) for o in sent)


@pytest.mark.parametrize(
    ("key", "value", "change_at"),
    [
        # RSIMinute's RSI, resumed bar by bar, is built again from the bars with the new zone
        ("strategies.minute.params.oversold", "20", time(9, 20)),
        # a longer SMA needs more daily bars than the day loaded before its open (14 for 15, 10 loaded)
        ("strategies.daily.params.long", "15", time(9, 5)),
    ],
)
def test_paper_day_when_a_strategy_param_changes_mid_day_then_trades_as_a_day_begun_with_it(
    market_root: Path, tmp_path: Path, key: str, value: str, change_at: time
) -> None:
    """Up to ``change_at`` the file's value and the new one sent the same orders on this day, so from there
    on the day changed mid-way is in the state of the day run with the new value from the start: it must
    send the same orders, and other orders than the day kept on the file's value."""
    from_the_start = _replay(tmp_path / "start", market_root, key, value, None)
    changed = _replay(tmp_path / "changed", market_root, key, value, change_at)
    unchanged = _replay(tmp_path / "unchanged", market_root, key, value, time(23, 0))  # never reached
    assert [o for o in unchanged if o[0] < change_at] == [o for o in from_the_start if o[0] < change_at]
    assert changed == from_the_start
    assert changed != unchanged


def test_paper_day_when_restarted_after_a_strategy_param_change_then_keeps_the_new_value(
    market_root: Path, tmp_path: Path
) -> None:
    """A change survives a restart of the day: the restarted engine builds its strategies with it again."""
    key, value = "strategies.daily.params.long", "15"
    from_the_start = _replay(tmp_path / "start", market_root, key, value, None)
    restarted = _replay(tmp_path / "restarted", market_root, key, value, time(9, 5), stop_at=time(9, 30))
    assert restarted == from_the_start


def test_params_set_get_reset_of_a_strategy_param(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(market_root, tmp_path))
    assert main(["db", "migrate", "--config", config]) == 0
    key = "strategies.minute.params.period"  # the file leaves it to RSIMinute's default, 14
    capsys.readouterr()
    assert main(["params", "get", "--config", config, key]) == 0
    assert capsys.readouterr().out == "14\n"
    assert main(["params", "set", "--config", config, key, "9"]) == 0
    assert f"{key}: 14 -> 9 (" in capsys.readouterr().out
    assert main(["params", "get", "--config", config]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["strategies"]["minute"]["params"]["period"] == 9
    assert shown["strategies"]["daily"]["params"]["long"] == 10  # the file's value
    assert main(["params", "reset", "--config", config, key]) == 0
    assert f"{key}: 9 -> 14 from the config file" in capsys.readouterr().out
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        assert store.runtime_document("params") == {}
        entries = [
            (e.subject, e.data["old"], e.data["new"]) for e in store.audit_entries() if e.kind == "param"
        ]
        assert entries == [(key, 14, 9), (key, 9, 14)]
        with store.engine.connect() as connection:
            rows = connection.execute(select(param_changes.c.key, param_changes.c.old, param_changes.c.new))
            assert [tuple(row) for row in rows] == [(key, 14, 9), (key, 9, 14)]
    finally:
        store.close()


USER_DAILY = """
from pydantic import Field
from maemae.strategy.api import DailyStrategy, Signal, StrategyParams

class Params(StrategyParams):
    lookback: int = Field(3, ge=1, le=30)

class Mine(DailyStrategy):
    name = "mine"
    Params = Params

    def history_days(self):
        return self.params.lookback

    def evaluate(self, data):
        return Signal.NONE
"""


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "strategies.daily.params.lookback",
            "0",
            "strategies.daily.params.lookback = 0: expected a number >= 1",
        ),
        ("strategies.daily.params.lookback", "x", "strategies.daily.params.lookback = 'x': expected"),
        ("strategies.daily.params.nope", "1", "unknown key 'strategies.daily.params.nope' (allowed under "),
        ("strategies.minute.params.overbought", "10", "oversold (30) must be below overbought (10)"),
        ("strategies.daily.class", '"sma_daily"', "params: 'strategies.daily.class' cannot change while"),
    ],
)
def test_params_set_when_a_strategy_param_is_refused_then_one_line_and_nothing_saved(
    market_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    key: str,
    value: str,
    expected: str,
) -> None:
    """A user strategy's own ``Params`` model judges its parameter, as when the config file is loaded."""
    (tmp_path / "mine.py").write_text(USER_DAILY, encoding="utf-8")
    path = _config(market_root, tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        'class = "sma_daily"\nparams = { short = 3, long = 10 }', f'class = "{tmp_path / "mine.py"}:Mine"'
    )
    path.write_text(text, encoding="utf-8")
    assert main(["db", "migrate", "--config", str(path)]) == 0
    capsys.readouterr()
    assert main(["params", "set", "--config", str(path), key, value]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("error: params: ")
    assert expected in line
    _assert_nothing_saved(tmp_path)


def _live_day_at(
    market_root: Path, directory: Path, changes: dict[time, str], until: time
) -> dict[StockCode, tuple[int, Signal, float]]:
    """DAY on the live loop with the simulated exchange in this process, run to ``until``, with
    ``strategies.daily.params.long`` set to ``changes[t]`` at each time ``t`` (``time(0)``: before the day
    starts). Each stock's daily bars loaded, daily signal, and the minute strategy's RSI on its bars then."""
    directory.mkdir()
    config = make_config(market_root, execution={"halt_file": str(directory / "HALT")})
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(7, 0), tzinfo=KST))
    store = SqlStateStore(f"sqlite:///{directory / 'state.db'}")
    try:
        for value in [value for at, value in changes.items() if at == time(0)]:
            change_parameter(store, config, "strategies.daily.params.long", value, "test", clock.now())
        live, _ = replayed_day_in_process(config, market, DAY, clock, store)
        scheduler = Scheduler(clock)
        assert live.plan(scheduler)
        for at, value in changes.items():
            if at != time(0):
                scheduler.at(
                    datetime.combine(DAY, at, tzinfo=KST),
                    lambda now, value=value: change_parameter(
                        store, config, "strategies.daily.params.long", value, "test", now
                    ),
                    name="operator",
                )
        scheduler.run_until(datetime.combine(DAY, until, tzinfo=KST))
        minute = live.core.kernel.minute
        assert minute is live.core.minute
        assert isinstance(minute, RSIMinute)
        days = live.core.kernel.data
        return {
            code: (
                len(stock.history),
                stock.signal,
                minute._timing.rsi.last_two(code, days[code].bars.close)[1],
            )
            for code, stock in live.stocks.items()
        }
    finally:
        store.close()


def test_live_day_when_a_strategy_param_changes_then_its_stocks_are_judged_as_by_a_day_begun_with_it(
    market_root: Path, tmp_path: Path
) -> None:
    """``maemae run``: a longer ``long`` set at 09:59:55 loads the daily bars it needs and evaluates the daily
    signals with it at the next minute cycle (10:00:00); each stock's history, signal and RSI at 10:00:05
    are those of a day begun with it."""
    at = time(10, 0, 5)
    changed = _live_day_at(market_root, tmp_path / "changed", {time(9, 59, 55): "15"}, at)
    from_the_start = _live_day_at(market_root, tmp_path / "start", {time(0): "15"}, at)
    unchanged = _live_day_at(market_root, tmp_path / "unchanged", {}, at)
    assert changed == from_the_start
    assert {n for n, _, _ in changed.values()} == {15}
    assert {n for n, _, _ in unchanged.values()} == {10}
    assert [s for _, s, _ in changed.values()] != [s for _, s, _ in unchanged.values()]


def test_params_reset_when_the_strategys_class_changed_then_drops_the_override_it_no_longer_has(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A saved ``short`` of ``sma_daily``, and then the file's daily strategy became one without ``short``:
    every ``params`` command and a run's start refuse the override naming ``params reset``, which drops it."""
    path = _config(market_root, tmp_path)
    assert main(["db", "migrate", "--config", str(path)]) == 0
    key = "strategies.daily.params.short"
    assert main(["params", "set", "--config", str(path), key, "4"]) == 0
    (tmp_path / "mine.py").write_text(USER_DAILY, encoding="utf-8")
    text = path.read_text(encoding="utf-8").replace(
        'class = "sma_daily"\nparams = { short = 3, long = 10 }', f'class = "{tmp_path / "mine.py"}:Mine"'
    )
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["params", "get", "--config", str(path)]) == 2
    assert f"`maemae params reset --config F {key}`" in capsys.readouterr().err
    assert main(["params", "reset", "--config", str(path), key]) == 0
    assert f"{key}: 4 -> null from the config file" in capsys.readouterr().out
    assert main(["params", "get", "--config", str(path), "strategies.daily.params.lookback"]) == 0
    assert capsys.readouterr().out == "3\n"


COUNTED_DAILY = USER_DAILY.replace(
    "    def history_days(self):",
    """    def __init__(self, params):
        super().__init__(params)
        from pathlib import Path
        calls = Path(__file__).with_name("inits")
        calls.write_text(calls.read_text() + "x" if calls.exists() else "x")

    def history_days(self):""",
)


def test_params_get_when_a_user_strategy_is_configured_then_shows_its_params_without_making_it(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``params get`` and the dashboard's ``/api/params`` (``parameters``) read the class's ``Params``
    validated from the config: a user strategy's ``__init__``, which may do work or fail, is not run for them.
    ``params set`` still makes it, as the running engine will with the new value."""
    (tmp_path / "mine.py").write_text(COUNTED_DAILY, encoding="utf-8")
    inits = tmp_path / "inits"
    path = _config(market_root, tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        'class = "sma_daily"\nparams = { short = 3, long = 10 }', f'class = "{tmp_path / "mine.py"}:Mine"'
    )
    path.write_text(text, encoding="utf-8")
    assert main(["db", "migrate", "--config", str(path)]) == 0
    key = "strategies.daily.params.lookback"
    capsys.readouterr()
    assert main(["params", "get", "--config", str(path), key]) == 0
    assert capsys.readouterr().out == "3\n"  # the Params model's default
    assert not inits.exists()
    assert main(["params", "set", "--config", str(path), key, "7"]) == 0
    assert inits.exists()
    inits.unlink()
    capsys.readouterr()
    assert main(["params", "get", "--config", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["strategies"]["daily"]["params"] == {"lookback": 7}
    config = load_config(path)
    store = SqlStateStore(config.store.url)
    try:
        shown = parameters(store, config)
    finally:
        store.close()
    assert shown["strategies"]["daily"]["params"] == {"lookback": 7}
    assert shown["strategies"]["minute"]["params"]["period"] == 14
    assert not inits.exists()

"""Today's minute bars before a start during the day (``LiveDay``): a source that fails is asked once per
start, not once per stock, and the operator is told while the day goes on; a lost connection ends the run as
anywhere. The timers of a start during the day, or of a restart, run on their grid from the open, and a start
in the closing auction runs none before the close."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from maemae.alerts.messages import AlertKind
from maemae.backtest.service import load_market
from maemae.config import MaemaeConfig
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.minute_bar import MinuteBar
from maemae.engine.clock import SimulatedClock
from maemae.engine.live import LiveDay
from maemae.engine.quotes import ReplayedQuotes
from maemae.engine.runtime import replayed_day_in_process
from maemae.engine.scheduler import Scheduler
from maemae.errors import BrokerConnectionLost, RetryableBrokerError
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.engine.test_live_day import Collected

DAY = date(2025, 12, 3)


def _at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute, second), KST)


@pytest.fixture
def config(market_root: Path, tmp_path: Path) -> MaemaeConfig:
    return make_config(market_root, execution={"halt_file": str(tmp_path / "HALT")})


class _FailingChart:
    """A minute chart that fails as a broker does, counting the calls."""

    def __init__(self, error: Exception) -> None:
        self.error, self.calls = error, 0

    def __call__(self, code: StockCode, now: datetime, after: datetime | None) -> list[MinuteBar]:
        self.calls += 1
        raise self.error


def _started_at(
    config: MaemaeConfig, tmp_path: Path, moment: datetime, alerts: Collected | None = None
) -> tuple[LiveDay, Scheduler, SqlStateStore]:
    """A replayed day on the live loop whose clock starts at ``moment``."""
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(moment)
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    live, _ = replayed_day_in_process(config, market, DAY, clock, store, alerts)
    return live, Scheduler(clock), store


def test_live_day_when_the_chart_fails_then_asked_once_alerted_and_the_day_goes_on(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    alerts = Collected()
    live, scheduler, store = _started_at(config, tmp_path, _at(10, 0, 5), alerts)
    try:
        chart = _FailingChart(RetryableBrokerError("EGW00201: rate limited"))
        live.today_so_far = chart
        assert live.plan(scheduler)
        scheduler.run_until(_at(10, 5))
    finally:
        store.close()
    assert len(live.stocks) > 1
    assert chart.calls == 1  # not once per stock, each waiting out the same failure
    (alert,) = [a for a in alerts.alerts if a.kind is AlertKind.ERROR]
    assert alert.title == "minute chart unavailable"
    assert alert.text == (
        "today's minute bars before 10:00 could not be read (EGW00201: rate limited): the day's bars start "
        "at this start"
    )
    assert live.report.cycles == 30  # 10:00:10 to 10:05:00, every 10 s: the day went on


def test_live_day_when_the_connection_is_lost_fetching_the_chart_then_the_run_ends_as_anywhere(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    live, scheduler, store = _started_at(config, tmp_path, _at(10, 0, 5))
    try:
        live.today_so_far = _FailingChart(BrokerConnectionLost("KIS: no reply in 10 s"))
        assert live.plan(scheduler)
        with pytest.raises(BrokerConnectionLost, match="no reply"):
            scheduler.run_until(_at(10, 5))
    finally:
        store.close()


@pytest.mark.parametrize(
    ("start", "first"),
    [
        (_at(7, 0), _at(9, 0)),  # before the open: at the open
        (_at(10, 0, 5), _at(10, 0, 10)),  # during the day: the next moment of the 10 s grid, not 10:00:15
        (_at(10, 0, 10), _at(10, 0, 10)),  # on the grid: at once
    ],
)
def test_live_day_timers_when_started_then_on_their_grid_from_the_open(
    config: MaemaeConfig, tmp_path: Path, start: datetime, first: datetime
) -> None:
    live, scheduler, store = _started_at(config, tmp_path, start)
    try:
        cycles: list[datetime] = []
        real = live.cycle

        def cycle(now: datetime) -> None:
            cycles.append(now)
            real(now)

        live.cycle = cycle  # type: ignore[method-assign]
        assert live.plan(scheduler)
        scheduler.run_until(first + timedelta(seconds=25))
    finally:
        store.close()
    assert cycles == [first, first + timedelta(seconds=10), first + timedelta(seconds=20)]


def test_live_day_when_started_in_the_closing_auction_then_no_cycle_before_the_close(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    """KRX takes orders for the closing auction from 15:20 without trading: the day's cycles end at
    15:19:59, and a start at 15:25 (a restart) waits for the close instead of running one more cycle."""
    live, scheduler, store = _started_at(config, tmp_path, _at(15, 25, 5))
    try:
        assert live.plan(scheduler)
        scheduler.run_until(_at(16, 0))
    finally:
        store.close()
    assert live.closed
    assert (live.report.cycles, live.report.refreshes) == (0, 0)


def test_live_day_when_started_late_in_a_minute_then_that_minute_has_its_bar(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    """A start at 10:00:55 (the refresh's grid next at 10:01:00) takes today's bars that ended (to 09:59)
    and a snapshot at once: the minute running at the start is a bar of its own, with its volume, instead of
    no bar and its volume in 10:01's."""
    live, scheduler, store = _started_at(config, tmp_path, _at(10, 0, 55))
    try:
        assert isinstance(live.prices, ReplayedQuotes)
        live.today_so_far = live.prices.bars_before
        assert live.plan(scheduler)
        scheduler.run_until(_at(10, 1, 30))
    finally:
        store.close()
    market = BarStore(config.data.root)
    for code, stock in live.stocks.items():
        stored = market.read_arrays(code, Timeframe.MINUTE, DAY, DAY)
        minutes = [datetime.fromtimestamp(int(ts) / 1e9, KST) for ts in stored.ts]
        if _at(10, 0) not in minutes:
            continue  # no trade at 10:00 in the stored day
        at_ten = minutes.index(_at(10, 0))
        built = {bar.start: bar for bar in stock.minutes.completed}
        assert _at(9, 59) in built or _at(9, 59) not in minutes
        bar = built[_at(10, 0)]
        assert (bar.close, bar.volume) == (int(stored.close[at_ten]), int(stored.volume[at_ten])), code

"""Today's minute bars before a start during the day (``LiveDay``): a source that fails is asked once per
start, not once per stock, and the operator is told while the day goes on; a lost connection ends the run as
anywhere; a slow one is asked over several refreshes, held stocks first, while the cycles go on and a stock
waiting for its bars is judged by the exit rules alone. The timers of a start during the day, or of a
restart, run on their grid from the open, and a start in the closing auction runs none before the close."""

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
from maemae.domain.enums import Side
from maemae.domain.fill import Fill
from maemae.domain.minute_bar import MinuteBar
from maemae.engine.clock import SimulatedClock
from maemae.engine.live import LiveDay
from maemae.engine.quotes import ReplayedQuotes
from maemae.engine.runtime import replayed_day_in_process
from maemae.engine.scheduler import Scheduler
from maemae.errors import BrokerConnectionLost, RetryableBrokerError
from maemae.store.repository import SqlStateStore
from maemae.strategy.inputs import DailyInput, MinuteInput, Signal
from maemae.strategy.rsi_minute import RSIMinute
from maemae.strategy.sma_daily import SMADaily
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


class _SlowChart:
    """The replayed day's chart, each stock's call taking ``seconds`` on the loop's timer (``timer``)."""

    def __init__(self, live: LiveDay, seconds: float) -> None:
        assert isinstance(live.prices, ReplayedQuotes)
        self.bars_before, self.seconds, self.elapsed = live.prices.bars_before, seconds, 0.0
        self.asked: dict[StockCode, datetime] = {}
        live.today_so_far, live.timer = self, self.timer

    def timer(self) -> float:
        return self.elapsed

    def __call__(self, code: StockCode, now: datetime, after: datetime | None) -> list[MinuteBar]:
        self.elapsed += self.seconds
        self.asked[code] = now
        return self.bars_before(code, now, after)


def test_live_day_when_the_chart_is_slow_then_it_comes_in_over_refreshes_and_waiting_stocks_are_not_timed(
    config: MaemaeConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each stock's chart takes 7 s, more than 60 % of the 10 s refresh: a start at 10:00:05 has one stock's
    bars at once and one more at each refresh, the last ones after 10:01. The cycles run meanwhile, and the
    minute strategy sees a stock only from its chart on, when its bars are the market's up to the chart's
    last whole minute: those before the start, and the minute of the start (10:00), whose bar built from the
    snapshots since 10:00:05 the chart's whole one replaced."""
    timed: list[tuple[StockCode, datetime]] = []
    real = RSIMinute.on_bar

    def on_bar(self: RSIMinute, data: MinuteInput) -> object:
        timed.append((data.code, data.now))
        return real(self, data)

    monkeypatch.setattr(RSIMinute, "on_bar", on_bar)
    live, scheduler, store = _started_at(config, tmp_path, _at(10, 0, 5))
    try:
        chart = _SlowChart(live, 7.0)
        assert live.plan(scheduler)
        scheduler.run_until(_at(10, 0, 5))
        assert len(chart.asked) == 1
        scheduler.run_until(_at(10, 0, 10))
        assert len(chart.asked) == 2
        scheduler.run_until(_at(10, 3))
    finally:
        store.close()
    codes = sorted(live.stocks)
    assert max(chart.asked.values()) >= _at(10, 1)  # some came after the minute of the start was over
    assert sorted(chart.asked) == codes  # each asked once
    assert not [s for s in live.stocks.values() if s.chart_due]
    waited = [code for code in codes if chart.asked[code] > _at(10, 0, 10)]
    assert waited
    assert not [(code, at) for code, at in timed if at < chart.asked[code]]
    safe = {StockCode(config.universe.safe_asset_code or "")}  # never timed by the minute strategy
    assert {code for code, _ in timed} >= set(waited) - safe  # timed once their bars came
    market = BarStore(config.data.root)
    for code in codes:
        stored = market.read_arrays(code, Timeframe.MINUTE, DAY, DAY)
        before = {
            datetime.fromtimestamp(int(ts) / 1e9, KST): (int(close), int(volume))
            for ts, close, volume in zip(stored.ts, stored.close, stored.volume, strict=True)
        }
        built = {b.start: (b.close, b.volume) for b in live.stocks[code].minutes.completed}
        asked = chart.asked[code].replace(second=0)  # the chart's bars ended by then: the minutes before
        assert {m: bar for m, bar in built.items() if m < asked} == {
            m: bar for m, bar in before.items() if m < asked
        }


def test_live_day_chart_order_when_a_universe_waits_then_held_stocks_first_then_buy_signals(
    config: MaemaeConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for one stock's chart a refresh, the stock held is asked first, then the one with the daily
    strategy's buy signal, then the others in code order. At a first start no price has come when the first
    charts are asked: the stock the daily strategy would buy at yesterday's close goes first, not the first
    code."""
    live, _, store = _started_at(config, tmp_path, _at(10, 0, 5))
    judged: list[tuple[StockCode, int, int]] = []

    def evaluate(self: SMADaily, data: DailyInput) -> Signal:
        judged.append((data.code, data.price, data.volume_today))
        return Signal.BUY if data.code == sorted(live.stocks)[-2] else Signal.NONE

    monkeypatch.setattr(SMADaily, "evaluate", evaluate)
    try:
        chart = _SlowChart(live, 10.0)
        live.prepare(_at(10, 0, 5))  # asks one stock: the one the daily strategy would buy
        codes = sorted(live.stocks)
        held, buying = codes[-1], codes[-2]
        assert list(chart.asked) == [buying]
        assert {code: (price, volume) for code, price, volume in judged} == {
            code: (live.stocks[code].base, 0) for code in codes
        }
        fill = Fill("F1", "O1", "B1", held, Side.BUY, 10, 10_000, _at(10, 0, 5))
        live.core.portfolio.apply_fill(fill, "sma_daily")
        live.stocks[buying].signal = Signal.BUY  # as evaluated on the price its chart gave
        for stock in live.stocks.values():
            stock.chart_due = True
        chart.asked.clear()
        for second in (10, 20, 30):
            live._fill_in(_at(10, 0, second))
    finally:
        store.close()
    assert list(chart.asked) == [held, buying, codes[0]]


def test_live_day_when_restarted_before_every_chart_came_then_the_rest_are_asked_and_no_other(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    """The stocks still waiting for their chart at the stop are saved as waiting: the restart asks for
    theirs (from the open) and not again for those that had theirs."""
    live, scheduler, store = _started_at(config, tmp_path, _at(10, 0, 5))
    try:
        first = _SlowChart(live, 7.0)
        assert live.plan(scheduler)
        scheduler.run_until(_at(10, 0, 10))  # two charts; the cycle at 10:00:10 saved the others as waiting
    finally:
        store.close()
    assert len(first.asked) == 2
    live, scheduler, store = _started_at(config, tmp_path, _at(10, 0, 15))
    try:
        second = _SlowChart(live, 0.0)
        assert live.plan(scheduler)
        scheduler.run_until(_at(10, 0, 15))
    finally:
        store.close()
    assert sorted(second.asked) == sorted(set(live.stocks) - set(first.asked))
    assert not [s for s in live.stocks.values() if s.chart_due]

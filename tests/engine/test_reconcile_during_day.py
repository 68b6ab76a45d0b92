"""The reconciliation that runs during the day books the broker's fills before it compares: a fill the broker
has made but maemae has not yet heard of (its push still queued, late or lost) is never taken for shares sold
or bought outside maemae. Before this, a sell filled between two cycles was written off as sold outside, and
its own fill then stopped the run ("sell of 18 exceeds the 0 shares maemae owns")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import pytest

from maemae.brokers.sim.matching import MarketBar
from maemae.config import parse_config
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.engine.composition import Engine, build_backtest_engine, make_calendar
from maemae.engine.persistence import StateRecorder
from maemae.engine.recovery import reconcile_and_record
from maemae.execution.reconciliation import ShortfallWatch
from maemae.krx.limits import price_limits
from maemae.ports.broker import Broker, BrokerEvent, Holding
from maemae.store.repository import SqlStateStore

DAY = date(2025, 12, 3)
CODE = StockCode("005930")


class _Venue:
    """The in-process exchange as the order manager reaches it, with the two ways a fill reaches maemae late:
    its push lost (``drop_pushes``), or the fill made just after the broker's holdings were read
    (``after_holdings``)."""

    def __init__(self, exchange: Broker) -> None:
        self._exchange = exchange
        self.drop_pushes = False
        self.after_holdings: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> object:
        return getattr(self._exchange, name)

    def poll_events(self) -> list[BrokerEvent]:
        events = self._exchange.poll_events()
        return [] if self.drop_pushes else events

    def holdings(self) -> list[Holding]:
        held = self._exchange.holdings()
        if self.after_holdings is not None:
            self.after_holdings()
            self.after_holdings = None
        return held


def _at(minute: int) -> datetime:
    return datetime.combine(DAY, time(9, minute), tzinfo=KST)


def _setup(
    tmp_path: Path, owning: bool = False, cash: int = 50_000_000
) -> tuple[Engine, _Venue, StateRecorder, SqlStateStore]:
    """The engine on the in-process exchange, its venue and a state store; ``owning``: 10 shares bought and
    booked."""
    config = parse_config({"data": {"root": "unused"}, "backtest": {"initial_cash": cash}})
    venues: list[_Venue] = []

    def through(exchange: Broker) -> Broker:
        venues.append(_Venue(exchange))
        return venues[0]  # type: ignore[return-value]

    engine = build_backtest_engine(config, make_calendar(config), {}, DAY, orders_through=through)
    engine.clock.set(_at(30))
    engine.sim.start_day(DAY, {CODE: 10_000})
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    if owning:
        _trade(engine, Side.BUY, 31)
        engine.orders.process_events()
    return engine, venues[0], StateRecorder(store, engine.kernel), store


def _trade(engine: Engine, side: Side, minute: int) -> None:
    """An order for 10 shares at 10,000 won, and the bar that fills it at the exchange (maemae not told)."""
    intent = OrderIntent(CODE, side, 10, OrderType.LIMIT, 10_000, reason="test")
    engine.orders.submit(intent, 10, engine.clock.now())
    engine.clock.set(_at(minute))
    bar = MarketBar(_at(minute), 10_000, 10_000, 10_000, 10_000, 1_000, price_limits(10_000, DAY))
    engine.sim.on_bar(CODE, bar)


def _owned_and_held(engine: Engine) -> tuple[int, int]:
    position = engine.portfolio.positions.get(CODE)
    return (position.owned_quantity, position.account_quantity) if position else (0, 0)


def _reconcile(
    engine: Engine, venue: _Venue, recorder: StateRecorder, shortfalls: ShortfallWatch | None = None
) -> list[str]:
    watch = shortfalls or ShortfallWatch()
    now = engine.clock.now()
    return reconcile_and_record(engine.kernel, venue, recorder, now, watch, _price)  # type: ignore[arg-type]


def _price(code: StockCode) -> int:
    return 10_000


@pytest.mark.parametrize("lost", [False, True], ids=["push queued", "push lost"])
def test_reconcile_when_a_sell_filled_unheard_then_books_it_and_writes_nothing_off(
    tmp_path: Path, lost: bool
) -> None:
    engine, venue, recorder, store = _setup(tmp_path, owning=True)
    try:
        assert _owned_and_held(engine) == (10, 10)
        venue.drop_pushes = lost
        _trade(engine, Side.SELL, 32)  # the exchange has sold the 10 shares; maemae has not processed it
        assert _reconcile(engine, venue, recorder) == []
        assert _owned_and_held(engine) == (0, 0)
        assert engine.portfolio.realised_pnl < 0  # the sale booked as maemae's: commission and tax paid
        assert engine.orders.process_events() == []  # the push, when it comes, adds nothing
        assert not [e for e in store.audit_entries() if e.kind == "reconcile"]
        (saved,) = [o for o in store.load(DAY).orders if o.side is Side.SELL]
        assert saved.filled_quantity == 10
    finally:
        store.close()


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_reconcile_when_a_fill_lands_between_holdings_and_fills_then_that_stock_waits_a_round(
    tmp_path: Path, side: Side
) -> None:
    engine, venue, recorder, store = _setup(tmp_path)
    try:
        if side is Side.SELL:
            _trade(engine, Side.BUY, 31)
            engine.orders.process_events()
        intent = OrderIntent(CODE, side, 10, OrderType.LIMIT, 10_000, reason="test")
        engine.orders.submit(intent, 10, engine.clock.now())
        engine.clock.set(_at(33))
        bar = MarketBar(_at(33), 10_000, 10_000, 10_000, 10_000, 1_000, price_limits(10_000, DAY))
        venue.after_holdings = lambda: engine.sim.on_bar(CODE, bar)
        # the holdings read is from before the fill: comparing with it would write off the 10 bought shares
        # (a buy) or find 10 shares bought outside (a sell)
        assert _reconcile(engine, venue, recorder) == []
        expected = (10, 10) if side is Side.BUY else (0, 0)
        assert _owned_and_held(engine) == expected
        assert _reconcile(engine, venue, recorder) == []  # the next round agrees with the broker
        assert _owned_and_held(engine) == expected
    finally:
        store.close()


def test_reconcile_when_shares_really_were_sold_outside_then_cuts_what_maemae_owns_on_the_second_round(
    tmp_path: Path,
) -> None:
    engine, venue, recorder, store = _setup(tmp_path, owning=True)
    shortfalls = ShortfallWatch()
    try:
        engine.sim.external_trade(CODE, Side.SELL, 4, 10_000)  # in the broker's app: no fill of maemae's
        assert _reconcile(engine, venue, recorder, shortfalls) == [
            "005930 account_quantity: maemae 10, broker 6 (took the broker's)",
            "005930 owned_quantity: maemae 10, broker 6 "
            "(held fewer than maemae owns: cut at the next reconciliation if it still is)",
        ]
        assert _owned_and_held(engine) == (10, 6)  # a balance that lags its fills looks the same, once
        assert _reconcile(engine, venue, recorder, shortfalls) == [
            "005930 owned_quantity: maemae 10, broker 6 (sold outside maemae: owned cut to held)",
        ]
        assert _owned_and_held(engine) == (6, 6)
        assert _reconcile(engine, venue, recorder, shortfalls) == []
    finally:
        store.close()


def test_reconcile_when_the_balance_lags_a_buy_for_one_round_then_nothing_is_written_off(
    tmp_path: Path,
) -> None:
    engine, venue, recorder, store = _setup(tmp_path, owning=True)
    shortfalls = ShortfallWatch()
    try:
        lagging = venue.holdings
        venue.holdings = lambda: []  # type: ignore[method-assign]  # the balance has not seen the buy yet
        lines = _reconcile(engine, venue, recorder, shortfalls)
        assert "005930 owned_quantity: maemae 10, broker 0 (held fewer than maemae owns: " in lines[-1]
        venue.holdings = lagging  # type: ignore[method-assign]
        assert _reconcile(engine, venue, recorder, shortfalls) == [
            "005930 account_quantity: maemae 0, broker 10 (took the broker's)"
        ]
        assert _owned_and_held(engine) == (10, 10)
        assert engine.portfolio.positions[CODE].cost_basis > 0
    finally:
        store.close()


def test_fill_when_a_sell_comes_after_what_maemae_owns_was_cut_then_booked_not_refused(
    tmp_path: Path,
) -> None:
    """A broker whose balance lagged its fills can still lead reconciliation to cut what maemae owns before
    maemae's own sell fill arrives. That fill is booked: refused, it stopped the run and every restart."""
    engine, venue, recorder, store = _setup(tmp_path, owning=True)
    try:
        _trade(engine, Side.SELL, 32)
        position = engine.portfolio.positions[CODE]
        position.set_account_quantity(0)  # what a lagging balance would have made reconciliation do
        position.cap_owned(0)
        (sold,) = engine.orders.process_events()
        assert (sold.side, sold.quantity) == (Side.SELL, 10)
        assert CODE not in engine.portfolio.positions
        assert _reconcile(engine, venue, recorder) == []
    finally:
        store.close()


def test_reconcile_when_shares_were_sold_outside_then_the_portfolio_stop_judges_trading_alone(
    tmp_path: Path,
) -> None:
    """An operator's own sale of maemae's shares is money moved out, not a loss: it tripped the portfolio
    stop (3 % by default), halting new entries for the rest of the day. The day's start equity moves by the
    shares' value, and by cash taken from the broker's figure, so only trading moves equity against it."""
    engine, venue, recorder, store = _setup(tmp_path, owning=True, cash=1_000_000)
    shortfalls = ShortfallWatch()
    state = engine.kernel.gate.state
    try:
        state.start_day(DAY, engine.portfolio.equity(_price))
        start = state.day_start_equity
        traded = engine.portfolio.equity(_price) - start
        engine.sim.external_trade(CODE, Side.SELL, 10, 10_000)  # 100,000 won: 10 % of the book
        _reconcile(engine, venue, recorder, shortfalls)
        assert state.day_start_equity == start  # a balance that lags looks the same: nothing cut yet
        _reconcile(engine, venue, recorder, shortfalls)
        assert _owned_and_held(engine) == (0, 0)
        assert state.day_start_equity == start - 100_000
        assert engine.portfolio.equity(_price) - state.day_start_equity == traded
        level = engine.kernel.exits.portfolio_stop_level
        assert engine.portfolio.equity(_price) <= level(start)  # judged against the old start: tripped
        assert engine.portfolio.equity(_price) > level(state.day_start_equity)
        # the broker's deposit 30,000 won above maemae's (money paid in): equity and start rise together
        engine.portfolio.account.set_settled_cash(engine.portfolio.account.settled_cash - 30_000)
        below = engine.portfolio.equity(_price)
        _reconcile(engine, venue, recorder, shortfalls)
        assert engine.portfolio.equity(_price) == below + 30_000
        assert state.day_start_equity == start - 100_000 + 30_000
        saved = store.load(DAY).runtime["risk"]  # kept for a restart
        assert saved["day_start_equity"] == start - 70_000
    finally:
        store.close()


def test_recovery_when_shares_were_sold_outside_while_stopped_then_moves_the_start_by_their_last_mark(
    tmp_path: Path,
) -> None:
    """A restart in the day: the shares sold while maemae was down are cut at once, valued at the price the
    stopped run last counted them at (its ``marks``), and the start equity moves by that."""
    from maemae.engine.recovery import recover

    engine, venue, recorder, store = _setup(tmp_path, owning=True, cash=1_000_000)
    state = engine.kernel.gate.state
    try:
        state.start_day(DAY, engine.portfolio.equity(_price))
        start = state.day_start_equity
        recorder.checkpoint(valued=(engine.clock.now(), lambda code: 9_500))
        saved = store.load(DAY)
        engine.sim.external_trade(CODE, Side.SELL, 10, 10_000)
        recover(engine.kernel, saved, venue, recorder, engine.clock.now())  # type: ignore[arg-type]
        assert _owned_and_held(engine) == (0, 0)
        assert engine.kernel.gate.state.day_start_equity == start - 10 * 9_500
    finally:
        store.close()

"""The composition root: the one place that picks the clock, the broker and the stores from the config.

Nothing else in maemae asks which mode it runs in (DESIGN 1.1); this module builds the same kernel, risk gate,
order manager and portfolio for every mode and plugs in what differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from multiprocessing import AuthenticationError
from typing import TYPE_CHECKING

from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.matching import FillRules
from maemae.brokers.sim.remote import RemoteExchange
from maemae.brokers.sim.venue import SimulatedVenue
from maemae.config import MaemaeConfig
from maemae.data.instruments import Instrument, listing
from maemae.data.universe import Selector, make_selector
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.engine.clock import Clock, SimulatedClock
from maemae.engine.kernel import TradingKernel
from maemae.errors import BrokerConnectionLost, ConfigError, FatalBrokerError
from maemae.execution.order_manager import OrderManager
from maemae.execution.portfolio import Portfolio
from maemae.execution.resilience import ResilientBroker
from maemae.krx.calendar import TradingCalendar
from maemae.krx.costs import CostModel, Costs
from maemae.krx.ticks import add_ticks
from maemae.ports.broker import Broker, BrokerFill
from maemae.risk.exits import ExitRules
from maemae.risk.gate import RiskGate
from maemae.risk.state import RiskState
from maemae.strategy.api import DailyStrategy, MinuteStrategy
from maemae.strategy.loader import load_daily, load_minute

if TYPE_CHECKING:
    from maemae.store.repository import SqlStateStore


@dataclass(slots=True)
class Engine:
    """Everything one run trades with."""

    config: MaemaeConfig
    clock: SimulatedClock
    sim: SimulatedVenue
    orders: OrderManager
    portfolio: Portfolio
    gate: RiskGate
    kernel: TradingKernel
    daily: DailyStrategy
    minute: MinuteStrategy


def universe_selector(config: MaemaeConfig, calendar: TradingCalendar) -> Selector:
    """The daily universe selector the config names (``universe.selector``)."""
    universe = config.universe
    options: dict[str, object] = (
        {"codes": universe.codes}
        if universe.selector == "fixed"
        else {
            "n": universe.max_stocks,
            "lookback_days": universe.lookback_days,
            "calendar": calendar,
            "include_funds": universe.include_funds,
        }
    )
    return make_selector(universe.selector, **options)


def make_calendar(config: MaemaeConfig) -> TradingCalendar:
    corrections = config.calendar
    return _calendar(corrections.extra_closures, corrections.extra_sessions, corrections.csat_days)


@lru_cache(maxsize=8)
def _calendar(
    extra_closures: tuple[date, ...], extra_sessions: tuple[date, ...], csat_days: tuple[date, ...]
) -> TradingCalendar:
    """One calendar per set of corrections, for the whole process. A calendar never changes once built, and
    what it and :func:`maemae.krx.sessions.session_schedule` keep (shifted sessions, each day's timetable,
    cached per calendar) then serves every run: a sweep's thousand backtests built a thousand calendars and
    made every day's timetable again in each, and the timetables' cache kept the old calendars alive."""
    return TradingCalendar(extra_closures, extra_sessions, csat_days)


def make_sim_exchange(
    config: MaemaeConfig,
    calendar: TradingCalendar,
    instruments: Mapping[StockCode, Instrument],
    clock: Callable[[], datetime],
) -> SimExchange:
    """The simulated exchange the config describes (also what the separate exchange process serves)."""
    sim_config = config.broker.sim
    return SimExchange(
        clock=clock,
        calendar=calendar,
        costs=CostModel(config.costs.commission_rate),
        instruments=instruments,
        initial_cash=config.backtest.initial_cash,
        max_volume_share=sim_config.max_volume_share,
        rules=FillRules(
            fill_at_close=sim_config.fill_at == "next_close", slippage_ticks=sim_config.slippage_ticks
        ),
    )


def load_strategies(config: MaemaeConfig) -> tuple[DailyStrategy, MinuteStrategy]:
    """The configured daily and minute strategies, loaded and checked (``strategy.loader``)."""
    if config.strategies.daily is None or config.strategies.minute is None:
        raise ConfigError("strategies: maemae trades with both a daily and a minute strategy")
    return load_daily(config.strategies.daily), load_minute(config.strategies.minute)


def check_the_start(config: MaemaeConfig) -> None:
    """What a trading run checks before it makes any file or folder, so that a refused run leaves none
    behind: the folder of a configured store (a mistyped path is refused, not made), the strategies (a file
    with a syntax error), the alerts' secrets, then the report folder, which is made (under the store's
    folder by default)."""
    from maemae.alerts.notifiers import secret_problems
    from maemae.config.operations import DEFAULT_STORE_URL
    from maemae.service.report import check_report_dir
    from maemae.store.database import check_store_folder

    if config.store.url != DEFAULT_STORE_URL:  # the default's folder (var/) is made with the run's others
        check_store_folder(config.store.url)
    load_strategies(config)
    if problems := secret_problems(config.alerts):
        raise ConfigError("\n".join(problems))
    check_report_dir(config)


@dataclass(slots=True)
class Core:
    """The parts every mode trades with, over any broker: orders, portfolio, risk gate, kernel, strategies."""

    config: MaemaeConfig
    broker: Broker
    orders: OrderManager
    portfolio: Portfolio
    gate: RiskGate
    kernel: TradingKernel
    daily: DailyStrategy
    minute: MinuteStrategy


def build_core(
    config: MaemaeConfig,
    calendar: TradingCalendar,
    instruments: Mapping[StockCode, Instrument],
    broker: Broker,
    *,
    resilient: bool,
) -> Core:
    """Assemble the trading core on ``broker``. ``resilient`` puts rate limits, read retries and the reject
    circuit breaker between the order manager and the broker, as every paper and live run has them."""
    daily, minute = load_strategies(config)
    costs = CostModel(config.costs.commission_rate)

    # each code's kind and market, read from the instrument list (fixed for the run) at its first fill: a
    # ``Mapping.get`` and the uncompiled ``listing`` on every fill cost about 900 instructions
    listings: dict[StockCode, tuple[InstrumentType, Market]] = {}

    def costs_of(fill: BrokerFill) -> Costs:
        found = listings.get(fill.code)
        if found is None:
            found = listings[fill.code] = listing(instruments.get(fill.code))
        kind, market = found
        return costs.costs(fill.side, fill.price * fill.quantity, fill.at.date(), market, kind, calendar)

    def move_ticks(code: StockCode, price: int, ticks: int, now: datetime) -> int:
        return add_ticks(price, ticks, now.date(), *listing(instruments.get(code)))

    wrapped: Broker = ResilientBroker(broker, config.execution.resilience) if resilient else broker
    orders = OrderManager(wrapped, config.execution, costs_of, move_ticks)
    portfolio = Portfolio(config.backtest.initial_cash, calendar)
    gate = RiskGate(config.risk, RiskState(), costs.commission)
    kernel = TradingKernel(
        minute=minute,
        gate=gate,
        exits=ExitRules(config.risk),
        portfolio=portfolio,
        orders=orders,
        calendar=calendar,
        safe_asset=config.universe.safe_asset_code,
    )
    return Core(config, wrapped, orders, portfolio, gate, kernel, daily, minute)


def build_backtest_engine(
    config: MaemaeConfig,
    calendar: TradingCalendar,
    instruments: dict[StockCode, Instrument],
    start: date,
    venue: SimulatedVenue | None = None,
    clock: SimulatedClock | None = None,
    resilient: bool = False,
    orders_through: Callable[[Broker], Broker] | None = None,
) -> Engine:
    """The engine for a backtest or a paper replay: simulated clock, and the simulated exchange in this
    process (the default) or the given ``venue`` (e.g. the exchange in a process of its own, which then
    shares the engine's ``clock``). ``orders_through`` wraps the venue where the order manager reaches it
    (a paper run's instance-lock check); the driver still feeds the venue itself its bars."""
    clock = clock or SimulatedClock(datetime.combine(start, time(0), tzinfo=KST))
    sim = venue if venue is not None else make_sim_exchange(config, calendar, instruments, clock.now)
    broker = orders_through(sim) if orders_through is not None else sim
    core = build_core(config, calendar, instruments, broker, resilient=resilient)
    return Engine(
        config, clock, sim, core.orders, core.portfolio, core.gate, core.kernel, core.daily, core.minute
    )


def open_state_store(config: MaemaeConfig) -> SqlStateStore:
    """The state database the config names (``store.url``). SQLAlchemy and Alembic are imported here, when
    a store is opened: a backtest needs neither, and they are a second to import and 60,000 objects that
    every full collection of the garbage collector walks."""
    from maemae.store.repository import SqlStateStore

    return SqlStateStore(config.store.url)


def open_existing_state_store(config: MaemaeConfig) -> SqlStateStore:
    """The state database the config names, which must exist already (read-only commands)."""
    from maemae.store.repository import SqlStateStore

    return SqlStateStore(config.store.url, create=False)


def connect_sim_exchange(address: tuple[str, int], authkey: bytes, clock: Clock) -> RemoteExchange:
    """The simulated exchange served by ``maemae sim serve`` at ``address``."""
    try:
        return RemoteExchange(address, authkey, clock.now)
    except (ConnectionError, OSError) as error:
        raise BrokerConnectionLost(
            f"sim exchange {address[0]}:{address[1]}: cannot connect ({error}): "
            "is `maemae sim serve` running?"
        ) from None
    except AuthenticationError:
        raise FatalBrokerError(
            f"sim exchange {address[0]}:{address[1]}: the authentication key does not match the server's"
        ) from None

"""A live run restarted (by ``--supervise``, systemd, a person) asks before its first order, and a modify is
an order: KRX gives it a new number, and a re-priced buy pays more.

The reviewer's failure: ``FirstOrderConfirmation`` held back the first ``submit`` only, so a restarted live
run re-priced an order an earlier run had placed (``execution.on_timeout = "replace"``) before anyone
confirmed anything in this run; with no terminal and no ``--confirm`` it sent that modify to the real
account. Refused, the modify is not sent and the order manager cancels the order instead.
"""

from datetime import date, datetime, time, timedelta

import pytest

from maemae.brokers.sim.venue import SimulatedVenue
from maemae.config import parse_config
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.domain.order_states import OrderState
from maemae.engine.composition import build_backtest_engine, make_calendar
from maemae.engine.confirmation import Ask, FirstOrderConfirmation
from maemae.errors import ConfirmationInterrupted
from maemae.execution.order_manager import OrderManager

DAY = date(2025, 12, 3)
A = StockCode("005930")


def _restarted_run(
    answer: str | None, ask: Ask | None = None
) -> tuple[OrderManager, list[str], SimulatedVenue, datetime]:
    """An order an earlier (confirmed) run placed on the simulated exchange, and the restarted run's order
    manager behind the confirmation (``ask``, or one answering ``answer``), and a time past the order's
    unfilled timeout."""
    config = parse_config({"data": {"root": "unused"}, "execution": {"on_timeout": "replace"}})
    engine = build_backtest_engine(config, make_calendar(config), {}, DAY)
    engine.clock.set(datetime.combine(DAY, time(9, 30), tzinfo=KST))
    engine.sim.start_day(DAY, {A: 10_000})
    intent = OrderIntent(A, Side.BUY, 10, OrderType.LIMIT, 9_000, reason="test")
    placed = engine.orders.submit(intent, 10, engine.clock.now())
    asked: list[str] = []
    if ask is None and answer is not None:
        ask = lambda prompt: asked.append(prompt) or answer  # noqa: E731
    gate = FirstOrderConfirmation(engine.sim, "12345678", confirmed=False, ask=ask)
    restarted = OrderManager(gate, config.execution, engine.orders._costs_of, engine.orders._move_ticks)
    restarted.restore([placed])
    later = engine.clock.now() + timedelta(seconds=config.execution.unfilled_timeout_s + 1)
    engine.clock.set(later)
    return restarted, asked, engine.sim, later


def _restarted_run_after_the_timeout(answer: str | None) -> tuple[OrderManager, list[str], SimulatedVenue]:
    restarted, asked, sim, later = _restarted_run(answer)
    restarted.check_timeouts(later)
    restarted.process_events()
    return restarted, asked, sim


def test_restarted_live_run_when_no_one_confirms_then_the_re_price_is_not_sent_and_the_order_cancelled() -> (
    None
):
    restarted, asked, sim = _restarted_run_after_the_timeout(None)
    (order,) = restarted.orders.values()
    assert order.state is OrderState.CANCELLED
    assert "re-price refused" in order.history[-1].note
    (at_exchange,) = sim.all_orders()
    assert at_exchange.price == 9_000  # never re-priced: no modify reached the exchange
    assert asked == []


def test_restarted_live_run_when_the_person_confirms_the_re_price_then_it_goes() -> None:
    restarted, asked, _ = _restarted_run_after_the_timeout("12345678")
    (order,) = restarted.orders.values()
    assert len(asked) == 1
    assert asked[0].startswith("LIVE ORDER, REAL MONEY, on sim account 1234****: modify of order ")
    assert order.state in (OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED)
    assert order.limit_price is not None
    assert order.limit_price > 9_000


def test_restarted_live_run_when_ctrl_c_at_the_re_price_prompt_then_cancelled_and_the_run_stops() -> None:
    """Ctrl-C refuses a modify as any answer but the number does, and stops the run as Ctrl-C does anywhere:
    the order is not left working, re-priced by no one, while the run goes on."""

    def ctrl_c(prompt: str) -> str:
        raise KeyboardInterrupt

    restarted, _, sim, later = _restarted_run(None, ctrl_c)
    with pytest.raises(ConfirmationInterrupted, match="refused by Ctrl-C at the confirmation"):
        restarted.check_timeouts(later)
    restarted.process_events()
    (order,) = restarted.orders.values()
    assert order.state is OrderState.CANCELLED
    assert "re-price refused" in order.history[-1].note
    (at_exchange,) = sim.all_orders()
    assert at_exchange.price == 9_000  # never re-priced

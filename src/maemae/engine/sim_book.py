"""The book of the simulated exchange a day on the clock runs inside its process (``broker.kind = "sim"``),
carried from the store into the exchange of the next run.

That exchange lives and dies with its run; the store is the only record of what it held. A restart (or the
next day's first start) makes a new exchange and hands it the store's book before recovery asks it anything:
the cash with its pending settlements, each code's shares and cost, the orders of the day with the shares
filled under each broker number (the end-of-day book check compares them), the orders still working, and
how far the day's order numbers and fill ids went. Recovery then finds the exchange as the stopped run left
it, as with a broker whose exchange outlives the run. What the stopped exchange did after the run's last save
(a fill in the seconds before a kill) was never recorded anywhere, so it did not happen: the day goes on
from the saved book.
"""

from __future__ import annotations

from datetime import date, datetime

from maemae.brokers.sim.exchange import SimExchange
from maemae.domain.clock_time import compact_date
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent, OrderState
from maemae.execution.order_manager import order_request
from maemae.ports.broker import BrokerOrder, BrokerOrderStatus, OrderRequest
from maemae.ports.state import SavedState

# the state of an order's current broker number at the exchange, by maemae's state of the order; an order
# without a number there (never sent, or in doubt) is not carried: recovery finds it was never received
_STATUS = {
    OrderState.ACCEPTED: BrokerOrderStatus.WORKING,
    OrderState.PARTIALLY_FILLED: BrokerOrderStatus.WORKING,
    OrderState.PENDING_CANCEL: BrokerOrderStatus.WORKING,  # the cancel's answer is settled by recovery
    OrderState.PENDING_MODIFY: BrokerOrderStatus.WORKING,
    OrderState.FILLED: BrokerOrderStatus.FILLED,
    OrderState.CANCELLED: BrokerOrderStatus.CANCELLED,
    OrderState.EXPIRED: BrokerOrderStatus.EXPIRED,
    OrderState.REJECTED: BrokerOrderStatus.REJECTED,
}
_NUMBERED = (OrderEvent.ACCEPT, OrderEvent.MODIFY_CONFIRMED)  # the events that give an order its number
_FILLED = (OrderEvent.FILL_PARTIAL, OrderEvent.FILL_FULL)


def carry_over(exchange: SimExchange, saved: SavedState, today: date) -> None:
    """Hand ``exchange`` (new, before its first day starts) the book ``saved`` keeps of its predecessor's.
    A store that never traded on the clock has none: the exchange starts with ``backtest.initial_cash``."""
    cursor_day = saved.runtime.get("cursor", {}).get("day")
    if cursor_day is None and saved.is_empty:
        return
    day = date.fromisoformat(str(cursor_day)) if cursor_day else today
    totals = saved.account
    account = totals.account if totals is not None else exchange.account
    holdings = {
        p.code: (p.account_quantity, _cost(p.cost_basis, p.owned_quantity, p.account_quantity))
        for p in saved.positions
        if p.account_quantity
    }
    orders = [shown for order in saved.orders for shown in _as_shown(order)]
    exchange.carry_over(day, account, holdings, orders, _fills_made(saved.fill_ids, day))


def _cost(cost_basis: int, owned: int, held: int) -> int:
    """The exchange's cost of ``held`` shares from maemae's cost of the ``owned`` ones (the same shares on
    the simulated exchange, where nothing is traded outside maemae)."""
    return cost_basis if owned in (0, held) else cost_basis * held // owned


def _as_shown(order: Order) -> list[tuple[OrderRequest, BrokerOrder]]:
    """``order`` as the exchange held it: one entry per broker number it had shares filled under (a modify
    gives a new number; the old one ends cancelled with its fills), and its current number."""
    current = order.broker_order_no
    status = _STATUS.get(order.state)
    if current is None or status is None:
        return []
    request = order_request(order, order.quantity)
    unfilled = order.quantity - order.filled_quantity
    shown = []
    for number, (shares, won) in order.filled_by_number.items():
        if number != current:
            replaced = BrokerOrder(
                number,
                order.code,
                order.side,
                shares,
                order.limit_price,
                order.order_type,
                shares,
                BrokerOrderStatus.CANCELLED,
                order.created_at,
                order.order_id,
                filled_amount=won,
            )
            shown.append((request, replaced))
    shares, won = order.filled_by_number.get(current, (0, 0))
    last_fill = next((t.at for t in reversed(order.history) if t.event in _FILLED), None) if shares else None
    now_shown = BrokerOrder(
        current,
        order.code,
        order.side,
        shares + unfilled,
        order.limit_price,
        order.order_type,
        shares,
        status,
        _numbered_at(order),
        order.order_id,
        filled_amount=won,
        last_fill_at=last_fill,
    )
    return [*shown, (order_request(order, shares + unfilled), now_shown)]


def _numbered_at(order: Order) -> datetime:
    """When the exchange received the order's current number: its acceptance, or the last modify's."""
    return next((t.at for t in reversed(order.history) if t.event in _NUMBERED), order.created_at)


def _fills_made(fill_ids: frozenset[str], day: date) -> int:
    """How far the exchange's fill ids of ``day`` went (``YYYYMMDD-NNNNNN``): the next fill's id goes on
    from there, so no id is given twice."""
    prefix = compact_date(day) + "-"
    return max((int(fill_id[len(prefix) :]) for fill_id in fill_ids if fill_id.startswith(prefix)), default=0)

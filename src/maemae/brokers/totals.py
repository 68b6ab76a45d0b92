"""Running totals per order number, for brokers that report no id per execution (KIS, Creon).

Such a broker's order query gives each order number's filled shares (and won) so far. ``total_fill`` turns a
row into a cumulative :class:`~maemae.ports.broker.BrokerFill` (the order manager records only what a total
adds), and :class:`QueriedOrders` remembers what each number last reported, so a re-read of the day's orders
yields only what changed since: a total that grew, and an order that ended.
"""

from __future__ import annotations

from datetime import datetime

from maemae.ports.broker import BrokerEvent, BrokerFill, BrokerOrder, BrokerOrderStatus, OrderUpdate

TERMINAL = (BrokerOrderStatus.CANCELLED, BrokerOrderStatus.REJECTED, BrokerOrderStatus.EXPIRED)


def total_fill(order: BrokerOrder, now: datetime) -> BrokerFill | None:
    """An order's running total as a cumulative fill, dated by its latest fill where the broker says."""
    if order.filled_quantity <= 0 or order.filled_amount is None:
        return None
    return BrokerFill(
        f"{order.broker_order_no}:{order.filled_quantity}",
        order.broker_order_no,
        order.code,
        order.side,
        order.filled_quantity,
        max(order.filled_amount // order.filled_quantity, 1),
        order.last_fill_at or now,
        cumulative_quantity=order.filled_quantity,
        cumulative_amount=order.filled_amount,
    )


class QueriedOrders:
    """What each order number last reported, and which numbers still work (to know when to re-read)."""

    def __init__(self, broker: str) -> None:
        self.broker = broker
        self.reported: dict[str, tuple[int, BrokerOrderStatus]] = {}
        self.working: set[str] = set()

    def changes(self, order: BrokerOrder, now: datetime) -> list[BrokerEvent]:
        """The events a freshly read order adds to what was reported of it before."""
        number = order.broker_order_no
        reported_fill, reported_status = self.reported.get(number, (0, BrokerOrderStatus.WORKING))
        events: list[BrokerEvent] = []
        if order.filled_quantity > reported_fill:
            fill = total_fill(order, now)
            if fill is not None:
                events.append(fill)
        if order.status in TERMINAL and reported_status is not order.status:
            reason = f"{self.broker} order query"
            events.append(
                OrderUpdate(number, order.status, now, cancelled_quantity=order.remaining, reason=reason)
            )
        self.note(number, max(order.filled_quantity, reported_fill), order.status)
        return events

    def watch(self, orders: list[BrokerOrder]) -> None:
        """Orders learnt of by a query (a lost reply settled, a restart) are watched like those sent now."""
        self.working.update(o.broker_order_no for o in orders if o.status is BrokerOrderStatus.WORKING)

    def note(self, number: str, filled: int, status: BrokerOrderStatus) -> None:
        """Record what was reported of ``number`` (by a query or a pushed event)."""
        self.reported[number] = (filled, status)
        if status is BrokerOrderStatus.WORKING:
            self.working.add(number)
        else:
            self.working.discard(number)

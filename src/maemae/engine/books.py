"""The end-of-day book check: maemae's orders, positions and cash against the broker's own records.

Reconciliation (``execution.reconciliation``) settles differences by rule during the day; this check only
reports, so a paper run (and an operator after a live day) can see in one line whether maemae's books are
the broker's. It compares every order's filled shares per broker number, the account quantity per stock,
and the settled cash.
"""

from __future__ import annotations

from maemae.execution.order_manager import OrderManager
from maemae.execution.portfolio import Portfolio
from maemae.ports.broker import Broker, BrokerOrder


def book_differences(
    orders: OrderManager, portfolio: Portfolio, broker: Broker, broker_orders: list[BrokerOrder]
) -> list[str]:
    """Every way maemae's book differs from the broker's, one line each; empty when they are equal."""
    lines: list[str] = []
    at_broker = {o.broker_order_no: o for o in broker_orders}
    for order in orders.orders.values():
        for number, (shares, _won) in sorted(order.filled_by_number.items()):
            theirs = at_broker.get(number)
            filled = theirs.filled_quantity if theirs else 0
            if filled != shares:
                lines.append(f"order {order.order_id} ({number}): maemae filled {shares}, broker {filled}")
    held = {h.code: h.quantity for h in broker.holdings()}
    ours = {code: p.account_quantity for code, p in portfolio.positions.items() if p.account_quantity}
    for code in sorted(set(held) | set(ours)):
        if held.get(code, 0) != ours.get(code, 0):
            lines.append(f"{code}: maemae holds {ours.get(code, 0)}, broker {held.get(code, 0)}")
    deposit = broker.cash().deposit
    if portfolio.account.settled_cash != deposit:
        lines.append(f"cash: maemae {portfolio.account.settled_cash:,} won, broker {deposit:,} won")
    return lines

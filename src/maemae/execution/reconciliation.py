"""Reconciliation: maemae's positions and cash against what the broker reports, by one documented rule.

The rule (docs/state.md):

* It runs over the **union** of the codes maemae has a position in and the codes the account holds, so a
  stock that appeared (bought outside maemae) or disappeared (sold outside) is seen.
* The broker is the truth for what the account holds: each position's ``account_quantity`` becomes the
  broker's figure. Shares beyond what maemae owns are external and left alone (maemae never sells them).
* When the account holds *fewer* shares than maemae owns, they were sold outside maemae (or a fill is
  missing, which the fill query before reconciliation rules out): maemae's owned quantity is cut to what
  exists, its cost basis in proportion.
* The broker's fills are booked before its holdings are read, and asked for again after: a stock that filled
  in between is left for the next reconciliation, because the holdings read may be from before or after
  that fill (a sell booked after holdings from before it would look like shares bought outside maemae; a
  buy, like shares sold outside it).
* The settled cash becomes the broker's deposit figure.
* Every difference is returned, to be written to the audit log and alerted. A broker query that fails raises:
  an unknown account is never taken for an empty one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from maemae.domain.codes import StockCode
from maemae.domain.position import Position
from maemae.execution.portfolio import Portfolio
from maemae.ports.broker import Broker


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing maemae and the broker disagreed on, and what was done about it."""

    subject: str  # a stock code, or "cash"
    field: str
    maemae: int
    broker: int
    action: str


def reconcile(
    portfolio: Portfolio, broker: Broker, book_fills: Callable[[], Collection[StockCode]] = tuple
) -> tuple[list[Difference], list[StockCode]]:
    """Apply the rule above; returns the differences and the codes whose position no longer exists.

    ``book_fills`` books the broker's fills maemae has not seen yet and returns their codes (the default
    books none: the caller has just done so and nothing trades meanwhile).
    """
    book_fills()
    holdings = {holding.code: holding for holding in broker.holdings()}
    cash = broker.cash()
    moved = set(book_fills())
    differences: list[Difference] = []
    removed: list[StockCode] = []
    for code in sorted((set(portfolio.positions) | set(holdings)) - moved):
        held = holdings[code].quantity if code in holdings else 0
        position = portfolio.positions.setdefault(code, Position(code))
        if position.account_quantity != held:
            differences.append(
                Difference(
                    str(code), "account_quantity", position.account_quantity, held, "took the broker's"
                )
            )
            position.set_account_quantity(held)
        if position.owned_quantity > held:
            owned = position.owned_quantity
            position.cap_owned(held)
            differences.append(
                Difference(str(code), "owned_quantity", owned, held, "sold outside maemae: owned cut to held")
            )
        if position.owned_quantity == 0 and position.account_quantity == 0:
            del portfolio.positions[code]
            removed.append(code)
    account = portfolio.account
    if account.settled_cash != cash.deposit:
        differences.append(
            Difference("cash", "settled_cash", account.settled_cash, cash.deposit, "took the broker's")
        )
        account.set_settled_cash(cash.deposit)
    return differences, removed

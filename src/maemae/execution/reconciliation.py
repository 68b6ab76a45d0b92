"""Reconciliation: maemae's positions and cash against what the broker reports, by one documented rule.

The rule (docs/state.md):

* It runs over the **union** of the codes maemae has a position in and the codes the account holds, so a
  stock that appeared (bought outside maemae) or disappeared (sold outside) is seen.
* The broker is the truth for what the account holds: each position's ``account_quantity`` becomes the
  broker's figure. Shares beyond what maemae owns are external and left alone (maemae never sells them).
* When the account holds *fewer* shares than maemae owns, they were sold outside maemae (or a fill is
  missing, which the fill query before reconciliation rules out): maemae's owned quantity is cut to what
  exists, its cost basis in proportion. During the day (a ``ShortfallWatch``) the cut waits until the
  next reconciliation reports the stock short as well: a broker's balance can lag its fills for a moment,
  and a cut is not undone (the shares would stay external, out of every stop, for good).
* The fills pushed so far are booked before the broker's holdings are read, and the broker's own fill query
  after: a stock with a fill found then (made in between, or a push that was lost or is late) is left for
  the next reconciliation, because the holdings read may be from before or after that fill (a sell booked
  after holdings from before it would look like shares bought outside maemae; a buy, like shares sold
  outside it).
* The settled cash becomes the broker's deposit figure.
* Every difference is returned, to be written to the audit log and alerted. A broker query that fails raises:
  an unknown account is never taken for an empty one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from maemae.domain.codes import StockCode
from maemae.domain.position import Position
from maemae.execution.portfolio import Portfolio
from maemae.ports.broker import Broker

SOLD_OUTSIDE = "sold outside maemae: owned cut to held"  # the action of a shortfall's cut
CASH = "cash"  # the subject of the settled cash's difference


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing maemae and the broker disagreed on, and what was done about it."""

    subject: str  # a stock code, or "cash"
    field: str
    maemae: int
    broker: int
    action: str

    def line(self) -> str:
        """The difference in one line: the run prints and alerts it, the report and the dashboard show it."""
        return f"{self.subject} {self.field}: maemae {self.maemae}, broker {self.broker} ({self.action})"

    def facts(self) -> dict[str, Any]:
        """Its audit record's data (the subject is the record's own)."""
        return {"field": self.field, "maemae": self.maemae, "broker": self.broker, "action": self.action}

    @classmethod
    def from_record(cls, subject: str, facts: dict[str, Any]) -> Difference:
        """The difference an audit record holds."""
        return cls(subject, facts["field"], facts["maemae"], facts["broker"], facts["action"])


class ShortfallWatch:
    """The stocks the last reconciliation found the account holding fewer shares of than maemae owns; kept
    by a run for the day, so a shortfall is acted on only when two reconciliations in a row report it."""

    def __init__(self) -> None:
        self._short: set[StockCode] = set()
        self._this_round: set[StockCode] = set()

    def confirms(self, code: StockCode) -> bool:
        """Note a shortfall of ``code`` in this round; True when the previous round reported one too."""
        self._this_round.add(code)
        return code in self._short

    def end_round(self) -> None:
        self._short, self._this_round = self._this_round, set()


def reconcile(
    portfolio: Portfolio,
    broker: Broker,
    book_fills: Callable[[], Collection[StockCode]] = tuple,
    shortfalls: ShortfallWatch | None = None,
) -> tuple[list[Difference], list[StockCode]]:
    """Apply the rule above; returns the differences and the codes whose position no longer exists.

    The caller books the fills pushed so far first; ``book_fills``, called once the holdings are read,
    books those only the broker's fill query has and returns their codes (the default books none: a start's
    recovery has just done so, and nothing trades meanwhile). Without ``shortfalls`` (a start's
    recovery) a shortfall is cut at once.
    """
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
            differences.append(_shortfall(position, held, shortfalls))
        if position.owned_quantity == 0 and position.account_quantity == 0:
            del portfolio.positions[code]
            removed.append(code)
    if shortfalls is not None:
        shortfalls.end_round()
    account = portfolio.account
    if account.settled_cash != cash.deposit:
        differences.append(
            Difference(CASH, "settled_cash", account.settled_cash, cash.deposit, "took the broker's")
        )
        account.set_settled_cash(cash.deposit)
    return differences, removed


def _shortfall(position: Position, held: int, shortfalls: ShortfallWatch | None) -> Difference:
    """The account holds fewer shares than maemae owns: cut what maemae owns to what exists, unless this is
    the first round to see it during the day."""
    owned = position.owned_quantity
    if shortfalls is not None and not shortfalls.confirms(position.code):
        action = "held fewer than maemae owns: cut at the next reconciliation if it still is"
        return Difference(str(position.code), "owned_quantity", owned, held, action)
    position.cap_owned(held)
    return Difference(str(position.code), "owned_quantity", owned, held, SOLD_OUTSIDE)


def moved_outside(differences: list[Difference], price_of: Callable[[StockCode], int | None]) -> int:
    """What the reconciliation moved into (+) or out of (-) maemae's equity without a trade of maemae's:
    each cut of shares sold outside maemae at ``price_of`` (the price maemae valued them at; a stock without
    one counts 0), and the settled cash taken from the broker's figure."""
    moved = 0
    for difference in differences:
        if difference.action == SOLD_OUTSIDE:
            price = price_of(StockCode(difference.subject))
            moved -= (difference.maemae - difference.broker) * (price or 0)
        elif difference.subject == CASH:
            moved += difference.broker - difference.maemae
    return moved

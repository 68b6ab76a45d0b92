"""The portfolio: maemae's own view of its cash and positions, moved only by confirmed fills.

No instant-fill assumption anywhere (SPEC 4): a position changes when a fill arrives, by the filled quantity,
and cash follows with T+2 settlement. Reconciliation compares this view with the broker's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

from maemae.domain.account import Account
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.fill import Fill
from maemae.domain.position import Position
from maemae.krx.calendar import TradingCalendar
from maemae.krx.settlement import settlement_date


class Portfolio:
    def __init__(self, initial_cash: int, calendar: TradingCalendar) -> None:
        self.account = Account(settled_cash=initial_cash)
        self.positions: dict[StockCode, Position] = {}
        self._calendar = calendar
        self.realised_pnl = 0
        self.commission = 0
        self.tax = 0
        self.realised_by_order: dict[str, int] = {}  # sell orders: the P&L their fills realised
        # the last fill's trade day and its settlement date: each fill's day is a new ``date`` object, which
        # the calendar's cache would hash again (SipHash over its bytes) in a new key tuple
        self._last_settlement: tuple[date, date] | None = None

    def restore(
        self,
        account: Account,
        positions: Iterable[Position],
        totals: tuple[int, int, int],
        realised_by_order: Mapping[str, int],
    ) -> None:
        """Take back the saved account, positions and running totals (realised P&L, commission, tax)."""
        self.account = account
        self.positions = {position.code: position for position in positions}
        self.realised_pnl, self.commission, self.tax = totals
        self.realised_by_order = dict(realised_by_order)

    def start_day(self, day: date) -> None:
        """Settle every trade due by ``day``."""
        self.account.settle(day)

    def apply_fill(self, fill: Fill, strategy: str) -> int:
        """Book one of maemae's fills; returns the P&L it realised."""
        position = self.positions.get(fill.code)
        if position is None:
            position = self.positions[fill.code] = Position(fill.code)
        realised = position.apply_fill(fill, strategy)
        self.account.apply_fill(fill, self._settles_on(fill.ts.date()))
        self.realised_pnl += realised
        self.commission += fill.commission
        self.tax += fill.tax
        if fill.side is Side.SELL:
            self.realised_by_order[fill.order_id] = self.realised_by_order.get(fill.order_id, 0) + realised
        if position.owned_quantity == 0 and position.account_quantity == 0:
            del self.positions[fill.code]
        return realised

    def _settles_on(self, day: date) -> date:
        """When a trade of ``day`` settles: the fills of a day ask one after another."""
        last = self._last_settlement
        if last is None or last[0] != day:
            last = self._last_settlement = (day, settlement_date(day, self._calendar))
        return last[1]

    def owned(self, code: StockCode) -> int:
        position = self.positions.get(code)
        return position.owned_quantity if position else 0

    def held(self) -> list[Position]:
        """Positions maemae owns shares of."""
        return [position for position in self.positions.values() if position.owned_quantity > 0]

    def held_codes(self) -> set[StockCode]:
        """The codes of :meth:`held`, as a new set."""
        return {code for code, position in self.positions.items() if position.owned_quantity > 0}

    def market_value(self, price_of: Callable[[StockCode], int]) -> int:
        return sum([position.owned_quantity * price_of(position.code) for position in self.held()])

    def equity(self, price_of: Callable[[StockCode], int]) -> int:
        """Cash (settled or not) plus owned shares at ``price_of(code)`` (a dict's ``__getitem__`` does)."""
        return self.account.cash + self.market_value(price_of)

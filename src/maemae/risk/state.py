"""The persisted part of the risk gate: every lock, counter and halt a restart must not forget.

SPEC 1 asks that a restart keeps cooldowns and daily caps, so everything a rule remembers lives here and
nowhere else; the rules themselves are stateless. The state store saves ``to_dict()`` (plain JSON: ints,
strings, ISO timestamps) before the next action depends on it and hands ``from_dict()`` back on start.

Counting conventions (docs/risk.md):

* A *trade* is an executed order. It is counted once, on the first fill of the order, so a buy and the sell
  that closes it are two trades and a partial fill counts the same as a full one.
* An *entry* is a buy order that executed (again counted on its first fill); the stricter re-entry rule looks
  at the second and later entries of a stock on one day.
* The order-rate window counts orders *sent*, whatever later happens to them: a loop that sends and cancels
  is stopped by how fast it sends.
* The day's amount counts what maemae *committed*: an order's amount (its price as the gate counted it, times
  its shares) from the moment it is sent, less the unfilled shares of an order that ends without filling
  them (cancelled, expired, rejected; a re-priced order is still the same order, counted once). So it is
  what was filled plus what is still working; an ordinary day of cancelled and re-priced orders does not
  reach the cap, and a runaway loop still does, as its orders fill or stay working.
* Daily counters belong to one KRX trading day (Asia/Seoul) and reset in ``start_day`` when a new one starts;
  the last sell time and price per stock outlive the day, so a cooldown can run across the close.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from maemae.compiled import pickle_by_fields
from maemae.domain.clock_time import require_kst
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.errors import DataError

RATE_WINDOW: Final = timedelta(minutes=1)
STATE_VERSION: Final = 1


class TradingState(StrEnum):
    """What the gate lets through: everything, only orders that reduce positions, or nothing new at all."""

    ACTIVE = "active"
    REDUCING = "reducing"  # sells only: the portfolio stop's halt of new entries, or the operator's choice
    HALTED = "halted"  # no new orders whatever their side: the kill switch


@dataclass(frozen=True, slots=True)
class TakeProfitMark:
    """A partial take-profit already taken on a position: the price it was sent at and when."""

    price: int
    at: datetime


@dataclass(frozen=True, slots=True)
class CountedOrder:
    """A working order's part in the day's amount: the price per share it was counted at and its shares, so
    that the shares it ends without filling are taken back at the same price."""

    price: int
    quantity: int

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md),
    # about 3,500 instructions on every order sent
    def __init__(self, price: int, quantity: int) -> None:
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "quantity", quantity)


@dataclass(slots=True)
class RiskState:
    """Locks, counters and halts of the risk gate. Mutated only through its methods by the ``RiskGate``."""

    day: date | None = None
    day_start_equity: int = 0
    halted_day: date | None = None
    operator_state: TradingState = TradingState.ACTIVE
    last_sell_at: dict[StockCode, datetime] = field(default_factory=dict)
    last_exit_price: dict[StockCode, int] = field(default_factory=dict)
    take_profit: dict[StockCode, TakeProfitMark] = field(default_factory=dict)
    trades_by_code: dict[StockCode, int] = field(default_factory=dict)
    trades_total: int = 0
    entries_by_code: dict[StockCode, int] = field(default_factory=dict)
    counted_orders: set[str] = field(default_factory=set)
    amount_today: int = 0
    working_orders: dict[str, CountedOrder] = field(default_factory=dict)
    order_times: deque[datetime] = field(default_factory=deque)

    # -- the trading day -------------------------------------------------------------------------------------

    def start_day(self, day: date, equity: int) -> None:
        """Begin trading day ``day`` with ``equity`` as the portfolio stop's reference.

        Calling it again for the day already started (a restart in the middle of the session) changes nothing:
        the counters and the start equity saved before the restart stay, so a restart cannot reset a cap.
        """
        if self.day == day:
            return
        self.day = day
        self.day_start_equity = equity
        self.trades_by_code.clear()
        self.trades_total = 0
        self.entries_by_code.clear()
        self.counted_orders.clear()
        self.amount_today = 0
        self.working_orders.clear()
        self.order_times.clear()

    def move_day_start(self, amount: int) -> None:
        """Money moved into (+) or out of (-) maemae's book by no trade of its own: shares sold outside maemae
        that reconciliation cut, cash it took from the broker's figure. The portfolio stop's reference (and
        the day's change in the report) moves with it, so that only trading moves equity against it: an
        operator's own sale of maemae's shares halted new entries for the rest of the day."""
        self.day_start_equity += amount

    def halt_for_day(self, day: date) -> None:
        """Stop new entries until ``day`` ends (the portfolio stop)."""
        self.halted_day = day

    def is_halted(self, day: date) -> bool:
        return self.halted_day == day

    # -- what happened ---------------------------------------------------------------------------------------

    def note_order_sent(self, at: datetime, amount: int) -> None:
        """Add a sent order to the day's amount and to the one-minute rate window."""
        at = require_kst(at, "order sent time")
        self.amount_today += amount
        self.order_times.append(at)
        self._prune_rate_window(at)

    def note_order_working(self, order_id: str, price: int, quantity: int) -> None:
        """Remember what the order just sent was counted at (``price`` a share, ``quantity`` shares), so that
        :meth:`note_order_ended` can take back the shares it does not fill. Saved with the order."""
        self.working_orders[order_id] = CountedOrder(price, quantity)

    def note_order_ended(self, order_id: str, filled: int) -> None:
        """An order ended (filled, cancelled, expired, rejected) with ``filled`` shares executed: its unfilled
        shares leave the day's amount, at the price they were counted at. Taken back once: the order leaves
        ``working_orders``, and the two are saved together, so an order that ends again after a restart (a
        query settling it) finds nothing to take back. An order of an earlier day, or one sent before a
        restart from a state saved without ``working_orders``, is not there either and changes nothing."""
        counted = self.working_orders.pop(order_id, None)
        if counted is not None:
            self.amount_today -= counted.price * max(counted.quantity - filled, 0)

    def note_fill(self, order_id: str, code: StockCode, side: Side, price: int, at: datetime) -> bool:
        """Record one fill; returns True when it is the order's first fill, i.e. when a trade was counted."""
        at = require_kst(at, "fill time")
        if side is Side.SELL:
            self.last_sell_at[code] = at
            self.last_exit_price[code] = price
        if order_id in self.counted_orders:
            return False
        self.counted_orders.add(order_id)
        self.trades_by_code[code] = self.trades_by_code.get(code, 0) + 1
        self.trades_total += 1
        if side is Side.BUY:
            self.entries_by_code[code] = self.entries_by_code.get(code, 0) + 1
        return True

    def mark_take_profit(self, code: StockCode, price: int, at: datetime) -> None:
        self.take_profit[code] = TakeProfitMark(price=price, at=require_kst(at, "take-profit time"))

    def clear_take_profit(self, code: StockCode) -> None:
        self.take_profit.pop(code, None)

    # -- questions the rules ask -----------------------------------------------------------------------------

    def trades_today(self, code: StockCode) -> int:
        return self.trades_by_code.get(code, 0)

    def entries_today(self, code: StockCode) -> int:
        return self.entries_by_code.get(code, 0)

    def orders_in_window(self, now: datetime) -> int:
        """Orders sent in the minute that ends at ``now`` (exclusive of anything exactly one minute old)."""
        now = require_kst(now, "now")
        since = now - RATE_WINDOW  # made once, not for each order in the window (an aware datetime each)
        return sum(1 for at in self.order_times if since < at <= now)

    def _prune_rate_window(self, now: datetime) -> None:
        since, times = now - RATE_WINDOW, self.order_times  # the bound made once, not for each comparison
        while times and times[0] <= since:
            times.popleft()

    # -- persistence -----------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy: ints stay ints, times are ISO 8601 with their +09:00 offset."""
        return {
            "version": STATE_VERSION,
            "day": self.day.isoformat() if self.day else None,
            "day_start_equity": self.day_start_equity,
            "halted_day": self.halted_day.isoformat() if self.halted_day else None,
            "operator_state": self.operator_state.value,
            "last_sell_at": {str(c): t.isoformat() for c, t in sorted(self.last_sell_at.items())},
            "last_exit_price": {str(c): p for c, p in sorted(self.last_exit_price.items())},
            "take_profit": {
                str(c): {"price": m.price, "at": m.at.isoformat()}
                for c, m in sorted(self.take_profit.items())
            },
            "trades_by_code": {str(c): n for c, n in sorted(self.trades_by_code.items())},
            "trades_total": self.trades_total,
            "entries_by_code": {str(c): n for c, n in sorted(self.entries_by_code.items())},
            "counted_orders": sorted(self.counted_orders),
            "amount_today": self.amount_today,
            "working_orders": {
                order_id: {"price": c.price, "quantity": c.quantity}
                for order_id, c in sorted(self.working_orders.items())
            },
            "order_times": [t.isoformat() for t in self.order_times],
        }

    @classmethod
    def from_dict(cls, data: object) -> RiskState:
        """Rebuild the state saved by ``to_dict``; a damaged record raises ``DataError`` naming the field."""
        reader = _Reader(data)
        version = reader.integer("version")
        if version != STATE_VERSION:
            raise DataError(f"risk state field 'version': got {version}, expected {STATE_VERSION}")
        return cls(
            day=reader.optional_date("day"),
            day_start_equity=reader.integer("day_start_equity"),
            halted_day=reader.optional_date("halted_day"),
            operator_state=reader.trading_state("operator_state"),
            last_sell_at={
                c: reader.timestamp(f"last_sell_at.{c}", v) for c, v in reader.by_code("last_sell_at")
            },
            last_exit_price={
                c: reader.integer(f"last_exit_price.{c}", v) for c, v in reader.by_code("last_exit_price")
            },
            take_profit={c: reader.take_profit_mark(c, v) for c, v in reader.by_code("take_profit")},
            trades_by_code={
                c: reader.integer(f"trades_by_code.{c}", v) for c, v in reader.by_code("trades_by_code")
            },
            trades_total=reader.integer("trades_total"),
            entries_by_code={
                c: reader.integer(f"entries_by_code.{c}", v) for c, v in reader.by_code("entries_by_code")
            },
            counted_orders={str(o) for o in reader.sequence("counted_orders")},
            amount_today=reader.integer("amount_today"),
            working_orders=reader.working_orders("working_orders"),
            order_times=deque(
                [
                    reader.timestamp(f"order_times[{i}]", value)
                    for i, value in enumerate(reader.sequence("order_times"))
                ]
            ),
        )


class _Reader:
    """Checked access to a saved state record, so every failure names the field and the bad value."""

    def __init__(self, data: object) -> None:  # object: a damaged record gets DataError, compiled or not
        if not isinstance(data, dict):
            raise DataError(f"risk state: expected a mapping, got {type(data).__name__}")
        self._data = data

    def _get(self, key: str) -> Any:
        if key not in self._data:
            raise DataError(f"risk state field '{key}': missing")
        return self._data[key]

    def integer(self, key: str, value: Any = None) -> int:
        value = self._get(key) if value is None else value
        if not isinstance(value, int) or isinstance(value, bool):
            raise DataError(f"risk state field '{key}': got {value!r}, expected an integer")
        return value

    def optional_date(self, key: str) -> date | None:
        value = self._get(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise DataError(
                f"risk state field '{key}': got {value!r}, expected a date like 2025-03-04"
            ) from None

    def timestamp(self, key: str, value: Any) -> datetime:
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise DataError(
                f"risk state field '{key}': got {value!r}, expected an ISO time like "
                "2025-03-04T10:12:00+09:00"
            ) from None
        if parsed.tzinfo is None:
            raise DataError(
                f"risk state field '{key}': got {value!r}, expected a time with its +09:00 offset"
            )
        return require_kst(parsed, key)

    def trading_state(self, key: str) -> TradingState:
        value = self._get(key)
        try:
            return TradingState(value)
        except ValueError:
            allowed = ", ".join(s.value for s in TradingState)
            raise DataError(f"risk state field '{key}': got {value!r}, expected one of {allowed}") from None

    def sequence(self, key: str) -> list[Any]:
        value = self._get(key)
        if not isinstance(value, list):
            raise DataError(f"risk state field '{key}': got {value!r}, expected a list")
        return value

    def by_code(self, key: str) -> list[tuple[StockCode, Any]]:
        value = self._get(key)
        if not isinstance(value, dict):
            raise DataError(f"risk state field '{key}': got {value!r}, expected a mapping by stock code")
        try:
            return [(StockCode(code), item) for code, item in value.items()]
        except ValueError as exc:
            raise DataError(f"risk state field '{key}': {exc}") from None

    def take_profit_mark(self, code: StockCode, value: Any) -> TakeProfitMark:
        key = f"take_profit.{code}"
        if not isinstance(value, dict):
            raise DataError(f"risk state field '{key}': got {value!r}, expected {{'price': ..., 'at': ...}}")
        return TakeProfitMark(
            price=self.integer(f"{key}.price", value.get("price")),
            at=self.timestamp(f"{key}.at", value.get("at")),
        )

    def working_orders(self, key: str) -> dict[str, CountedOrder]:
        """The working orders' counted amounts; none in a state saved before they were kept (its open orders
        then count in full until the day ends, as every order did)."""
        value = self._data.get(key, {})
        if not isinstance(value, dict):
            raise DataError(f"risk state field '{key}': got {value!r}, expected a mapping by order id")
        return {
            str(order_id): self.counted_order(f"{key}.{order_id}", item) for order_id, item in value.items()
        }

    def counted_order(self, key: str, value: Any) -> CountedOrder:
        if not isinstance(value, dict):
            raise DataError(
                f"risk state field '{key}': got {value!r}, expected {{'price': ..., 'quantity': ...}}"
            )
        return CountedOrder(
            price=self.integer(f"{key}.price", value.get("price")),
            quantity=self.integer(f"{key}.quantity", value.get("quantity")),
        )


pickle_by_fields(TakeProfitMark)  # see maemae.compiled
pickle_by_fields(CountedOrder)

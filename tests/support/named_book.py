"""A saved day whose stocks have names in the instrument list, for everything that shows a stock by code and
name (the CLI's tables, the dashboard, the end-of-day report): two positions, three orders of 2025-12-03 (two
filled, one still open) and the day closed.

One name is ordinary Korean (two cells a character on a terminal), one is hostile (HTML, rich markup), and
one code is missing from the list, so its name is blank.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from maemae.data.instruments import Instrument
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Market, OrderType, Side
from maemae.domain.fill import Fill
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent
from maemae.domain.position import Position
from maemae.ports.state import DailyResult, StateChange, StateStore

DAY = "2025-12-03"
SAMSUNG, HOSTILE, UNNAMED = StockCode("005930"), StockCode("000660"), StockCode("0088M0")
NAMES = {SAMSUNG: "삼성전자", HOSTILE: "<b>하이닉스</b> & [/b]"}


def write_names(root: Path, names: dict[StockCode, str] = NAMES) -> None:
    """The instrument list of ``names`` under the data root ``root`` (no bars: the tables need none)."""
    BarStore(root).write_instruments([Instrument(code, name, Market.KOSPI) for code, name in names.items()])


def _order(number: int, code: StockCode, side: Side, filled: bool) -> tuple[Order, list[Fill]]:
    """An order of 10 at 70,000 placed at 09:0``number``, filled whole a minute later when ``filled``."""
    at = datetime(2025, 12, 3, 9, number, tzinfo=KST)
    order = Order(f"20251203-{number:06d}", code, side, 10, OrderType.LIMIT, 70_000, at)
    order.apply(OrderEvent.SUBMIT, at, "breakout")
    if not filled:
        return order, []
    order.apply(OrderEvent.ACCEPT, at, f"broker order {number:04d}")
    fill = Fill(
        f"F{number}", order.order_id, f"{number:04d}", code, side, 10, 70_000, at.replace(second=30), 105
    )
    order.record_fill(fill)
    return order, [fill]


def save_book(store: StateStore) -> None:
    """The two positions, the three orders with their fills, the closed day, and the instance's day."""
    made = [
        _order(1, SAMSUNG, Side.BUY, filled=True),
        _order(2, HOSTILE, Side.BUY, filled=False),
        _order(3, UNNAMED, Side.SELL, filled=True),
    ]
    store.commit(
        StateChange(
            orders=[order for order, _ in made],
            fills=[fill for _, fills in made for fill in fills],
            positions=[
                Position(SAMSUNG, owned_quantity=10, account_quantity=10, cost_basis=700_000),
                Position(HOSTILE, account_quantity=5),  # bought in the broker's app: external
            ],
            runtime={"cursor": {"day": DAY}},
            daily=[DailyResult(date.fromisoformat(DAY), 100_000_000, 99_300_000, 0, 0, 210, 0, 2, 2, 0)],
        )
    )

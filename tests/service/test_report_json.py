"""The end-of-day report as data: ``maemae report --json`` gives each trade's full time, date and offset."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.fill import Fill
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent
from maemae.ports.state import DailyResult, StateChange
from maemae.service.report import DayReport, day_report, render_html
from maemae.store.repository import SqlStateStore

DAY = date(2025, 12, 3)
AT = datetime(2025, 12, 3, 9, 1, tzinfo=KST)
CODE = StockCode("287180")


def _report(tmp_path: Path) -> DayReport:
    order = Order("20251203-000001", CODE, Side.BUY, 10, OrderType.LIMIT, 140_500, AT, reason="test")
    order.apply(OrderEvent.SUBMIT, AT, "sent")
    fill = Fill("F1", order.order_id, "S0000001", CODE, Side.BUY, 10, 140_500, AT, 211, 0)
    result = DailyResult(DAY, 100_000_000, 98_594_789, 0, 0, 211, 0, 1, 1, 0)
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        store.commit(StateChange(orders=[order], fills=[fill], daily=[result]))
        return day_report(store, DAY, {})
    finally:
        store.close()


def test_day_report_json_when_a_trade_was_filled_gives_its_time_as_iso_8601_with_offset(
    tmp_path: Path,
) -> None:
    (trade,) = json.loads(json.dumps(_report(tmp_path).as_dict()))["trades"]
    assert trade["time"] == "2025-12-03T09:01:00+09:00"
    assert datetime.fromisoformat(trade["time"]) == AT


def test_day_report_html_when_a_trade_was_filled_shows_the_time_of_day(tmp_path: Path) -> None:
    assert "<td>09:01:00</td>" in render_html(_report(tmp_path), "en")  # a page of one day: no date repeated

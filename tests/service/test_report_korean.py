"""The Korean end-of-day report words the engine's data in Korean (sides, order sources, denial reasons,
exit-rule lines); the English report and ``--json`` keep the codes as stored."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.fill import Fill
from maemae.domain.intents import IntentSource
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent
from maemae.ports.state import DailyResult, StateChange
from maemae.service.report import DayReport, day_report, render_html, render_text
from maemae.store.repository import SqlStateStore

DAY = date(2025, 12, 3)
CODE = StockCode("287180")
OTHER = StockCode("005930")


def _at(hour: int, minute: int) -> datetime:
    return datetime(2025, 12, 3, hour, minute, tzinfo=KST)


def _day(tmp_path: Path) -> DayReport:
    """A buy filled, a stop-loss sell filled, a buy cancelled and a buy the gate denied (cooldown)."""
    buy = Order("20251203-000001", CODE, Side.BUY, 10, OrderType.LIMIT, 140_500, _at(9, 1), reason="breakout")
    buy.apply(OrderEvent.SUBMIT, _at(9, 1), "breakout")
    buy.apply(OrderEvent.ACCEPT, _at(9, 1), "broker order 0001")
    sell = Order(
        "20251203-000002",
        CODE,
        Side.SELL,
        10,
        OrderType.MARKET,
        None,
        _at(10, 5),
        source=IntentSource.STOP_LOSS,
        reason="price 136000 <= stop 136285",
    )
    sell.apply(OrderEvent.SUBMIT, _at(10, 5), sell.reason)
    sell.apply(OrderEvent.ACCEPT, _at(10, 5), "broker order 0002")
    cancelled = Order("20251203-000003", OTHER, Side.BUY, 5, OrderType.LIMIT, 70_000, _at(10, 30))
    cancelled.apply(OrderEvent.SUBMIT, _at(10, 30), "breakout")
    cancelled.apply(OrderEvent.ACCEPT, _at(10, 30), "broker order 0003")
    cancelled.apply(OrderEvent.REQUEST_CANCEL, _at(10, 40), "unfilled timeout")
    cancelled.apply(OrderEvent.CANCEL_CONFIRMED, _at(10, 40), "cancelled")
    denied = Order("20251203-000004", CODE, Side.BUY, 1, OrderType.LIMIT, 136_000, _at(10, 10))
    denied.apply(OrderEvent.DENY, _at(10, 10), "cooldown: 20 minutes left of 30")
    fills = [
        Fill("F1", buy.order_id, "S0000001", CODE, Side.BUY, 10, 140_500, _at(9, 2), 211, 0),
        Fill("F2", sell.order_id, "S0000002", CODE, Side.SELL, 10, 136_000, _at(10, 6), 204, 2_040),
    ]
    result = DailyResult(DAY, 100_000_000, 99_950_000, -45_000, 0, 415, 2_040, 4, 2, 1)
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        store.commit(StateChange(orders=[buy, sell, cancelled, denied], fills=fills, daily=[result]))
        return day_report(store, DAY, {})
    finally:
        store.close()


def test_report_in_korean_when_a_day_bought_sold_cancelled_and_was_denied_then_korean_words_not_codes(
    tmp_path: Path,
) -> None:
    page = render_html(_day(tmp_path), "ko")
    assert "<td>매수</td>" in page
    assert "<td>매도</td>" in page
    assert "<td>전략</td>" in page
    assert "<td>손절</td>" in page
    assert "<td>재매수 대기</td><td>1</td>" in page  # the denial's reason
    assert "<li>10:05 손절 매도 10 287180: 가격 136000 &lt;= 손절가 136285</li>" in page
    for code in ("buy", "sell", "strategy", "stop_loss", "cooldown", "cancelled", "denied", "filled"):
        assert f">{code}<" not in page, code
        assert f" {code} " not in page, code
    assert "<td>287180</td>" in page  # codes and numbers as they are


def test_report_in_english_when_the_same_day_then_the_codes_as_stored_and_json_unchanged(
    tmp_path: Path,
) -> None:
    report = _day(tmp_path)
    page = render_html(report, "en")
    assert "<td>buy</td>" in page
    assert "<td>sell</td>" in page
    assert "<td>stop_loss</td>" in page
    assert "<td>cooldown</td><td>1</td>" in page
    assert "<li>10:05 stop_loss sell 10 287180: price 136000 &lt;= stop 136285</li>" in page
    data = json.loads(json.dumps(report.as_dict()))
    assert [(t["side"], t["source"]) for t in data["trades"]] == [("buy", "strategy"), ("sell", "stop_loss")]
    assert data["denial_reasons"] == {"cooldown": 1}
    assert data["exits"] == ["10:05 stop_loss sell 10 287180: price 136000 <= stop 136285"]
    assert render_text(report, "en").startswith(f"End-of-day report {DAY}\n")

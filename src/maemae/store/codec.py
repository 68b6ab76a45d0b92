"""Rows ↔ domain objects for the state database: the one place that knows both shapes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from maemae.domain.account import Account, PendingSettlement
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.domain.fill import Fill
from maemae.domain.intents import IntentSource
from maemae.domain.order import Order, Transition
from maemae.domain.order_states import OrderEvent, OrderState
from maemae.domain.position import Position
from maemae.ports.state import AccountTotals

Row = Mapping[Any, Any]


def order_row(order: Order, now: datetime) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "trading_day": order.created_at.date(),
        "code": str(order.code),
        "side": order.side.value,
        "quantity": order.quantity,
        "asked_quantity": order.asked_quantity,
        "order_type": order.order_type.value,
        "limit_price": order.limit_price,
        "condition": order.condition.value,
        "strategy": order.strategy,
        "source": order.source.value,
        "reason": order.reason,
        "state": order.state.value,
        "broker_order_no": order.broker_order_no,
        "filled_quantity": order.filled_quantity,
        "filled_amount": order.filled_amount,
        "commission": order.commission,
        "tax": order.tax,
        "created_at": order.created_at,
        "updated_at": now,
    }


def event_rows(order: Order, first_seq: int) -> list[dict[str, Any]]:
    """History lines from ``first_seq`` (0-based) on: what is not stored yet."""
    return [
        {
            "order_id": order.order_id,
            "seq": seq,
            "at": line.at,
            "event": line.event.value,
            "state": line.state.value,
            "note": line.note,
        }
        for seq, line in enumerate(order.history[first_seq:], start=first_seq)
    ]


def order_from_rows(row: Row, events: Iterable[Row], fills: Iterable[Row]) -> Order:
    order = Order(
        order_id=row["order_id"],
        code=StockCode(row["code"]),
        side=Side(row["side"]),
        quantity=int(row["quantity"]),
        order_type=OrderType(row["order_type"]),
        limit_price=None if row["limit_price"] is None else int(row["limit_price"]),
        created_at=row["created_at"],
        condition=OrderCondition(row["condition"]),
        strategy=row["strategy"],
        source=IntentSource(row["source"]),
        reason=row["reason"],
        asked_quantity=None if row["asked_quantity"] is None else int(row["asked_quantity"]),
    )
    order.state = OrderState(row["state"])
    order.broker_order_no = row["broker_order_no"]
    order.filled_quantity = int(row["filled_quantity"])
    order.filled_amount = int(row["filled_amount"])
    order.commission = int(row["commission"])
    order.tax = int(row["tax"])
    for fill in fills:
        order.fill_ids.add(fill["fill_id"])
        number, shares, price = fill["broker_order_no"], int(fill["quantity"]), int(fill["price"])
        done, won = order.filled_by_number.get(number, (0, 0))
        order.filled_by_number[number] = (done + shares, won + shares * price)
    order.history = [
        Transition(event["at"], OrderEvent(event["event"]), OrderState(event["state"]), event["note"])
        for event in sorted(events, key=lambda e: int(e["seq"]))
    ]
    return order


def fill_row(fill: Fill) -> dict[str, Any]:
    return {"trading_day": fill.ts.date(), "at": fill.ts, **fill.facts()}


def fill_from_row(row: Row) -> Fill:
    return Fill(
        row["fill_id"],
        row["order_id"],
        row["broker_order_no"],
        StockCode(row["code"]),
        Side(row["side"]),
        int(row["quantity"]),
        int(row["price"]),
        row["at"],
        int(row["commission"]),
        int(row["tax"]),
    )


def position_row(position: Position, now: datetime) -> dict[str, Any]:
    return {
        "code": str(position.code),
        "owned_quantity": position.owned_quantity,
        "account_quantity": position.account_quantity,
        "cost_basis": position.cost_basis,
        "realised_pnl": position.realised_pnl,
        "opened_at": position.opened_at,
        "strategy": position.strategy,
        "updated_at": now,
    }


def position_from_row(row: Row) -> Position:
    return Position(
        StockCode(row["code"]),
        int(row["owned_quantity"]),
        int(row["account_quantity"]),
        int(row["cost_basis"]),
        int(row["realised_pnl"]),
        row["opened_at"],
        row["strategy"],
    )


def account_row(totals: AccountTotals, now: datetime) -> dict[str, Any]:
    account = totals.account
    return {
        "id": 1,
        "settled_cash": account.settled_cash,
        "pending": [[item.settles_on.isoformat(), item.amount] for item in account.pending],
        "reserved": dict(sorted(account.reserved.items())),
        "realised_pnl": totals.realised_pnl,
        "commission": totals.commission,
        "tax": totals.tax,
        "realised_by_order": dict(sorted(totals.realised_by_order.items())),
        "updated_at": now,
    }


def account_from_row(row: Row) -> AccountTotals:
    account = Account(
        settled_cash=int(row["settled_cash"]),
        pending=[PendingSettlement(date.fromisoformat(day), int(amount)) for day, amount in row["pending"]],
        reserved={str(k): int(v) for k, v in row["reserved"].items()},
    )
    return AccountTotals(
        account,
        int(row["realised_pnl"]),
        int(row["commission"]),
        int(row["tax"]),
        {str(k): int(v) for k, v in row["realised_by_order"].items()},
    )

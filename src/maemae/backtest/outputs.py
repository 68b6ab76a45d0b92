"""Writing a backtest's results: summary.json, trades.csv, orders.csv and equity.csv (docs/backtest.md)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from maemae.backtest.metrics import Metrics
from maemae.backtest.runner import DayRecord
from maemae.domain.fill import Fill
from maemae.domain.order import Order


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as sink:
        sink.write(text)
    os.replace(temporary, path)


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_summary(path: Path, metrics: Metrics, extra: dict[str, object]) -> None:
    data = {**asdict(metrics), **extra}
    for key in ("total_return", "cagr", "max_drawdown", "sharpe", "win_rate", "turnover"):
        data[key] = round(float(data[key]), 6)
    _atomic_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def write_trades(path: Path, fills: Sequence[Fill]) -> None:
    rows = (
        (
            f.ts.isoformat(),
            f.code,
            f.side.value,
            f.quantity,
            f.price,
            f.commission,
            f.tax,
            f.order_id,
            f.fill_id,
        )
        for f in fills
    )
    header = ("time", "code", "side", "quantity", "price", "commission", "tax", "order_id", "fill_id")
    _atomic_text(path, _csv_text(header, rows))


def write_orders(path: Path, orders: Iterable[Order]) -> None:
    def reason(order: Order) -> str:
        return order.history[-1].note if order.history else ""

    rows = (
        (
            o.order_id,
            o.created_at.isoformat(),
            o.code,
            o.side.value,
            o.order_type.value,
            o.quantity,
            o.limit_price if o.limit_price is not None else "",
            o.state.value,
            o.filled_quantity,
            o.average_fill_price if o.average_fill_price is not None else "",
            o.source.value,
            o.strategy,
            o.reason,
            reason(o),
        )
        for o in orders
    )
    header = (
        "order_id",
        "created",
        "code",
        "side",
        "type",
        "quantity",
        "limit_price",
        "final_state",
        "filled_quantity",
        "average_fill_price",
        "source",
        "strategy",
        "reason",
        "last_note",
    )
    _atomic_text(path, _csv_text(header, rows))


def write_equity(path: Path, days: Sequence[DayRecord]) -> None:
    rows = ((d.day.isoformat(), d.equity, d.cash, d.positions) for d in days)
    _atomic_text(path, _csv_text(("date", "equity", "cash", "positions"), rows))

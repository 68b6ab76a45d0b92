"""Backtest metrics from the daily equity curve and the fills.

Returns are on daily equity (the close of each session). Sharpe is annualised with 252 sessions and no
risk-free rate. ``n_trades`` counts executed orders (an order with at least one fill), the unit the daily caps
count; the win rate is over sell orders, a win being a positive realised P&L after costs, and None (not
0.0) when nothing was sold: no sell is no evidence of losing. Turnover is the traded value per year over the
average equity. Money stays whole won; ratios are floats.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from maemae.domain.fill import Fill
from maemae.wording import counted

SESSIONS_PER_YEAR = 252
SHORT_RUN_SESSIONS = 60  # a run of fewer sessions is told its annualised figures say little
NOT_AVAILABLE = "n/a"  # how a figure that has no value (a win rate with no sell) is shown to a person


def percent(value: float | None, places: int = 2) -> str:
    """A ratio as a person reads it (``-0.3091`` as ``-30.91%``), or ``n/a`` when it has no value."""
    return NOT_AVAILABLE if value is None else f"{value:.{places}%}"


@dataclass(frozen=True, slots=True)
class Metrics:
    initial_cash: int
    sessions: int  # the sessions run: the number of points of the daily equity curve
    final_equity: int
    total_return: float
    cagr: float
    max_drawdown: float
    sharpe: float
    n_trades: int
    n_fills: int
    win_rate: float | None  # None: no sell order, nothing to judge
    turnover: float
    commission: int
    tax: int
    denied_orders: dict[str, int]


def drawdowns(equity: Sequence[int]) -> np.ndarray:
    """Drawdown at each point: the fall from the running peak, as a negative fraction."""
    values = np.asarray(equity, dtype=np.float64)
    if values.size == 0:
        return values
    peaks = np.maximum.accumulate(values)
    result: np.ndarray = values / peaks - 1.0
    return result


def compute_metrics(
    initial_cash: int,
    equity: Sequence[int],
    fills: Sequence[Fill],
    realised_by_sell: Sequence[int],
    denials: Counter[str],
) -> Metrics:
    curve = [initial_cash, *equity]
    final = curve[-1]
    total_return = final / initial_cash - 1
    years = max(len(equity), 1) / SESSIONS_PER_YEAR
    cagr = (final / initial_cash) ** (1 / years) - 1 if final > 0 else -1.0
    daily = np.diff(np.asarray(curve, dtype=np.float64)) / np.asarray(curve[:-1], dtype=np.float64)
    spread = float(daily.std()) if daily.size > 1 else 0.0
    sharpe = float(daily.mean()) / spread * math.sqrt(SESSIONS_PER_YEAR) if spread else 0.0
    traded = sum(fill.amount for fill in fills)
    average_equity = float(np.mean(curve)) if curve else float(initial_cash)
    sells = len(realised_by_sell)
    executed = len({fill.order_id for fill in fills})
    return Metrics(
        initial_cash=initial_cash,
        sessions=len(equity),
        final_equity=final,
        total_return=total_return,
        cagr=cagr,
        max_drawdown=float(drawdowns(curve).min()) if curve else 0.0,
        sharpe=sharpe,
        n_trades=executed,
        n_fills=len(fills),
        win_rate=sum(1 for pnl in realised_by_sell if pnl > 0) / sells if sells else None,
        turnover=traded / average_equity / max(years, 1 / SESSIONS_PER_YEAR),
        commission=sum(fill.commission for fill in fills),
        tax=sum(fill.tax for fill in fills),
        denied_orders=dict(sorted(denials.items())),
    )


def short_run_note(metrics: Metrics) -> str | None:
    """What to tell the user of a run of a few sessions: its CAGR, Sharpe and turnover per year are each
    scaled to 252 sessions from those few, and a 3-day run's Sharpe of 9 says nothing (it read as if it
    did). None for a run long enough."""
    if metrics.sessions >= SHORT_RUN_SESSIONS:
        return None
    return (
        f"the run has {counted(metrics.sessions, 'session')}: CAGR, Sharpe and turnover are annualised from "
        f"them and say little; {SHORT_RUN_SESSIONS} sessions or more give them meaning"
    )

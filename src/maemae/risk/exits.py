"""Exit rules that run whatever strategy holds a position: stop loss, trailing stop, partial take-profit,
time-cut and the portfolio stop (SPEC 3).

Price rules are judged on the last price (a bar's close in a backtest, the live price every few seconds live)
against an exact integer level, so the backtest's compiled scan (``first_exit_bar``) and the live check
(``check``) fire on the same price. The trailing stop follows the highest *last price* since entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from maemae.compiled import pickle_by_fields
from maemae.config.risk import RiskConfig
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import IntentSource, OrderIntent
from maemae.risk.exit_scan import NEVER_ABOVE, NEVER_BELOW, FirstExitIndex, first_exit_index_entry


def _factor(pct: Decimal, sign: int) -> tuple[int, int]:
    """1 + sign x pct % as an exact ratio of plain integers (a Fraction's parts are properties, slow to read
    on every visit of a held stock)."""
    value = 1 + sign * Fraction(pct) / 100
    return value.numerator, value.denominator


@dataclass(slots=True)
class Holding:
    """What the exit rules need to know about a position."""

    code: StockCode
    quantity: int
    cost_basis: int  # whole won, buy commission included: the average cost is cost_basis / quantity
    high_water: int
    take_profit_taken: bool

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self, code: StockCode, quantity: int, cost_basis: int, high_water: int, take_profit_taken: bool
    ) -> None:
        self.code, self.quantity, self.cost_basis = code, quantity, cost_basis
        self.high_water, self.take_profit_taken = high_water, take_profit_taken


@dataclass(slots=True)
class ExitLevels:
    """The prices at which the price rules fire, for one position at one moment."""

    stop: int | None  # fires at or below
    take_profit: int | None  # fires at or above
    trailing: int | None  # fires at or below (moves up with the high-water mark)

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, stop: int | None, take_profit: int | None, trailing: int | None) -> None:
        self.stop, self.take_profit, self.trailing = stop, take_profit, trailing


class ExitRules:
    def __init__(self, config: RiskConfig) -> None:
        self.config = config
        self._first_exit: FirstExitIndex | None = None  # the compiled scan, fetched on first use (exit_scan)

    @property
    def config(self) -> RiskConfig:
        return self._config

    @config.setter
    def config(self, config: RiskConfig) -> None:
        """Take new settings (``maemae params set`` swaps them while a live loop runs); the rules' factors are
        worked out again with them, as exact ratios, so levels are integer arithmetic only."""
        self._config = config
        self._stop = _factor(config.stop_loss.pct, -1)
        self._take = _factor(config.take_profit.trigger_pct, 1)
        self._keep = _factor(config.trailing_stop.pct, -1)
        self._day_keep = _factor(config.portfolio_stop.day_loss_pct, -1)
        # which rules are on, read at every exit check: a pydantic field read costs far more than a plain one
        self._stop_on, self._take_on = config.stop_loss.enabled, config.take_profit.enabled
        self._trailing_on, self._day_stop_on = config.trailing_stop.enabled, config.portfolio_stop.enabled

    def levels(self, holding: Holding) -> ExitLevels:
        """Exact integer levels: floor(cost × (1 − stop %)), ceil(cost × (1 + target %)), with the average
        cost taken exactly as cost_basis / quantity."""
        basis, quantity = holding.cost_basis, max(holding.quantity, 1)
        stop = None
        if self._stop_on:
            numerator, denominator = self._stop
            stop = basis * numerator // (quantity * denominator)
        take = None
        if self._take_on and not holding.take_profit_taken:
            numerator, denominator = self._take
            take = -(-basis * numerator // (quantity * denominator))
        trailing = self.trailing_level(holding.high_water) if self._trailing_on else None
        return ExitLevels(stop, take, trailing)

    def trailing_level(self, high_water: int) -> int:
        numerator, denominator = self._keep
        return high_water * numerator // denominator

    def check(self, holding: Holding, price: int) -> OrderIntent | None:
        """The live driver: an exit intent if ``price`` triggers a rule, else None."""
        levels = self.levels(holding)
        if levels.stop is not None and price <= levels.stop:
            return self._sell(
                holding, holding.quantity, IntentSource.STOP_LOSS, f"price {price:,} <= stop {levels.stop:,}"
            )
        if levels.trailing is not None and price <= levels.trailing:
            return self._sell(
                holding,
                holding.quantity,
                IntentSource.TRAILING_STOP,
                f"price {price:,} <= {levels.trailing:,} (high {holding.high_water:,})",
            )
        if levels.take_profit is not None and price >= levels.take_profit:
            part = max(1, holding.quantity * int(self.config.take_profit.sell_fraction_pct) // 100)
            return self._sell(
                holding, part, IntentSource.TAKE_PROFIT, f"price {price:,} >= target {levels.take_profit:,}"
            )
        return None

    def first_exit_bar(
        self, holding: Holding, closes: npt.NDArray[np.int64], row: int, start: int, end: int
    ) -> int | None:
        """The backtest driver: the first bar in [``start``, ``end``) where ``check`` would fire on row
        ``row`` of ``closes`` (codes x bars; the whole matrix, where a slice of the row per call was a NumPy
        view that cost about what the scan does)."""
        levels = self.levels(holding)
        numerator, denominator = self._keep
        scan = self._first_exit
        if scan is None:
            scan = self._first_exit = first_exit_index_entry()
        found = scan(
            closes,
            row,
            start,
            end,
            NEVER_BELOW if levels.stop is None else levels.stop,
            NEVER_ABOVE if levels.take_profit is None else levels.take_profit,
            self._trailing_on,
            holding.high_water,
            numerator,
            denominator,
        )
        return None if found < 0 else int(found)

    def time_cut_reason(self, day: date, previous_session: date, sessions_held: int) -> str | None:
        """Why a position must be sold at this day's open, or None. On the date: at its session, or at the
        first session after it when KRX is closed that day, and on no later day (a position bought after
        the date is the new strategy's to keep); after N sessions held: on every day past them."""
        rule = self.config.time_cut
        if not rule.enabled:
            return None
        if rule.on_date is not None and previous_session < rule.on_date <= day:
            return f"time-cut on {rule.on_date}"
        if rule.max_days_held is not None and sessions_held >= rule.max_days_held:
            return f"time-cut after {sessions_held} sessions"
        return None

    def time_cut(self, holding: Holding, reason: str) -> OrderIntent:
        return self._sell(holding, holding.quantity, IntentSource.TIME_CUT, reason, OrderType.MARKET)

    def portfolio_stop_level(self, day_start_equity: int) -> int | None:
        """Equity at or below which the portfolio stop trips today."""
        if not self._day_stop_on:
            return None
        numerator, denominator = self._day_keep
        return day_start_equity * numerator // denominator

    def liquidation(self, holding: Holding) -> OrderIntent:
        return self._sell(
            holding, holding.quantity, IntentSource.PORTFOLIO_STOP, "portfolio stop", OrderType.MARKET
        )

    def remainder(self, holding: Holding, source: IntentSource) -> OrderIntent:
        """What is left of a whole-position exit (``source``) after its order ended unfilled in part, or
        shares bought after a liquidating portfolio stop: a market sell of every share maemae owns."""
        reason = f"{source.value}: sell the rest"
        return self._sell(holding, holding.quantity, source, reason, OrderType.MARKET)

    @staticmethod
    def _sell(
        holding: Holding,
        quantity: int,
        source: IntentSource,
        reason: str,
        order_type: OrderType = OrderType.MARKET,
    ) -> OrderIntent:
        return OrderIntent(holding.code, Side.SELL, quantity, order_type, None, source=source, reason=reason)


pickle_by_fields(Holding, ExitLevels)  # see maemae.compiled

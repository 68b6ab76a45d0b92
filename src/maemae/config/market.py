"""Config of where market data lives and which stocks the day trades: data, universe, calendar, costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from maemae.config.base import Code, FolderPath, Section
from maemae.domain.codes import StockCode


class DataConfig(Section):
    root: FolderPath = Field(Path("var/demo/market"), description="directory of the market-data store")
    adjusted_history: bool = Field(
        False,
        description="daily history the strategies and the universe see is adjusted for splits and bonus "
        "issues to each day's basis (stored factors, docs/data.md); fills, ticks and limits stay raw",
    )
    update_before_open: Literal["pykrx", "fdr"] | None = Field(
        None,
        description="`maemae run` first fetches the daily bars missing since each stored code's last day "
        "from this source (`maemae data update`), so the day's universe and history are current",
    )


class UniverseConfig(Section):
    selector: Literal["top_traded_value", "fixed"] = Field(
        "top_traded_value", description="how the day's stocks are chosen before the open"
    )
    max_stocks: int = Field(
        100, ge=1, le=100, description="cap on selected stocks (KRX API budgets allow 100)"
    )
    lookback_days: int = Field(
        5, ge=1, le=250, description="sessions of traded value the top-N selector sums"
    )
    include_funds: bool = Field(False, description="let ETFs and ETNs into the top-N selection")
    codes: tuple[Code, ...] = Field((), description="the list for selector = 'fixed'")
    safe_asset_code: Code | None = Field(
        None, description="ETF idle cash is parked in; always in the universe"
    )

    @model_validator(mode="after")
    def _fixed_needs_codes(self) -> UniverseConfig:
        if self.selector == "fixed" and not self.codes:
            raise ValueError("selector 'fixed' needs a non-empty codes list")
        return self

    @field_validator("codes")
    @classmethod
    def _each_once(cls, codes: tuple[StockCode, ...]) -> tuple[StockCode, ...]:
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:  # a slip: a code meant was probably left out
            raise ValueError(f"{', '.join(twice)} listed more than once: expected each code once")
        return codes


class CalendarConfig(Section):
    extra_closures: tuple[date, ...] = Field(
        (), description="days KRX is closed that the built-in calendar lacks"
    )
    extra_sessions: tuple[date, ...] = Field((), description="days KRX trades that the calendar marks closed")
    csat_days: tuple[date, ...] = Field(
        (), description="exam days (sessions one hour later) not yet built in"
    )

    @model_validator(mode="after")
    def _closed_or_open(self) -> CalendarConfig:
        both = sorted(set(self.extra_closures) & set(self.extra_sessions))
        if both:  # which one wins would be an accident of the order the calendar applies them in
            days = ", ".join(str(day) for day in both)
            raise ValueError(f"{days} in both extra_closures and extra_sessions: expected one or the other")
        return self


class CostsConfig(Section):
    commission_rate: Decimal = Field(
        Decimal("0.00015"), ge=0, le=Decimal("0.01"), description="broker commission per side, as a fraction"
    )

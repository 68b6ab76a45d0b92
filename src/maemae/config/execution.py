"""Config of how orders are worked and how the day is paced, and of backtest runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from maemae.config.base import DAY_SECONDS, FilePath, FolderPath, Seconds, Section
from maemae.krx.exceptions import CALENDAR_END, CALENDAR_START


class ResilienceConfig(Section):
    """How broker faults are absorbed (docs/paper.md, "Broker faults"); the request rate limits belong to
    each broker's own section (e.g. ``broker.kis.requests_per_second``)."""

    read_attempts: int = Field(
        4, ge=1, le=10, description="tries of a query that fails with a retryable error"
    )
    retry_backoff_s: float = Field(0.5, gt=0, le=30, description="first wait before a query is tried again")
    retry_backoff_max_s: float = Field(8, gt=0, le=120, description="longest wait between query tries")
    reject_breaker_threshold: int = Field(
        5, ge=1, le=100, description="rejected orders in a row that pause new orders"
    )
    reject_breaker_cooldown_s: float = Field(
        300, gt=0, le=DAY_SECONDS, description="how long new orders stay paused"
    )


class ExecutionConfig(Section):
    unfilled_timeout_s: Seconds = Field(
        60, description="an order unfilled this long is cancelled or re-priced"
    )
    on_timeout: Literal["cancel", "replace"] = "cancel"
    replace_ticks: int = Field(1, ge=1, le=10, description="ticks a re-priced order moves toward the market")
    max_replaces: int = Field(2, ge=0, le=10, description="re-prices before the order is cancelled")
    price_refresh_s: Seconds = Field(10, description="how often live prices for the universe are refreshed")
    daily_eval_s: Seconds = Field(60, description="how often the daily strategy re-runs on the live price")
    minute_eval_s: Seconds = Field(10, description="how often the minute strategy runs")
    reconcile_s: Seconds = Field(60, description="how often cash, holdings and open orders are reconciled")
    allow_external_trading: bool = Field(
        True, description="the account may hold or trade stocks outside maemae; maemae never sells them"
    )
    resilience: ResilienceConfig = ResilienceConfig()
    halt_file: FilePath = Field(
        Path("var/HALT"),
        description="kill switch: while this file exists no new order is sent and open orders are cancelled",
    )


class BacktestConfig(Section):
    # within the trading calendar, which a run cannot go outside (it was refused later, naming neither)
    start: date | None = Field(
        None,
        ge=CALENDAR_START,
        le=CALENDAR_END,
        description="first trading day; None: the first stored day with history",
    )
    end: date | None = Field(
        None, ge=CALENDAR_START, le=CALENDAR_END, description="last trading day; None: the last stored day"
    )
    # a quadrillion won at most: far beyond any account, and every sum of it stays within 64-bit integers
    initial_cash: int = Field(100_000_000, gt=0, le=10**15, description="won")
    out_dir: FolderPath = Field(
        Path("var/backtest"), description="where summary, trades, orders and report go"
    )
    every_bar: bool = Field(
        False, description="visit every bar instead of only wake-up bars (slower, same result)"
    )
    bars: Literal["minute", "day"] = Field(
        "minute",
        description=(
            "day: run on daily bars alone, for data without minute bars (pykrx, FinanceDataReader): each "
            "session is an opening print and a closing print, decisions are made at the open and orders "
            "fill in the closing auction (docs/backtest.md)"
        ),
    )
    minute_memory_mib: int = Field(
        1024,
        ge=0,
        description=(
            "minute bars of a run that fit in this many MiB are loaded at once; a bigger run (the whole "
            "market, many years) streams them a window of sessions at a time (0: always stream)"
        ),
    )
    stream_sessions: int = Field(
        20, ge=1, le=250, description="sessions per window when the minute bars are streamed"
    )
    mapped_cache_mib: int = Field(
        4096,
        ge=0,
        description=(
            "a backtest reads bars from uncompressed, memory-mapped copies of their files, made on first "
            "read (about 6.6 times the Parquet size): the daily files always, the minute files when every "
            "stored stock's files of the run's years fit in this many MiB; the copies used longest ago are "
            "removed past it (0: off)"
        ),
    )
    mapped_cache_dir: FolderPath | None = Field(
        None,
        description=(
            "where the mapped copies go (None: <data.root>/cache); keep it on a local disk when data.root "
            "is shared over the network"
        ),
    )

    @model_validator(mode="after")
    def _ordered(self) -> BacktestConfig:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}; expected start on or before end")
        return self

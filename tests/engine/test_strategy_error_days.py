"""The day ``strategy_errors_repeated`` names is the day whose work the errors came from: a driver that asks
the strategy before the day's ``start_day`` (the backtest evaluates the daily signals while it prepares the
day) says so with ``begin_day``, and a driver that asks after it and did not close the kernel's day still
gets the day before's errors under the day before."""

from collections.abc import MutableMapping
from datetime import date, datetime, time
from typing import Any

from structlog.testing import capture_logs

from maemae.config import parse_config
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.engine.composition import build_backtest_engine, make_calendar
from maemae.engine.kernel import TradingKernel

MONDAY, TUESDAY = date(2025, 12, 1), date(2025, 12, 2)
A = StockCode("005930")


def _kernel() -> TradingKernel:
    config = parse_config({"data": {"root": "unused"}})
    return build_backtest_engine(config, make_calendar(config), {}, MONDAY).kernel


def _start(kernel: TradingKernel, day: date) -> None:
    kernel.start_day(day, datetime.combine(day, time(8, 50), tzinfo=KST), {}, lambda code: 0)


def _fail(kernel: TradingKernel, times: int) -> None:
    for _ in range(times):
        kernel.strategy_failed("daily", "evaluate", A, RuntimeError("bad day"))


def _repeated(logs: list[MutableMapping[str, Any]]) -> list[tuple[str, int]]:
    return [(e["day"], e["count"]) for e in logs if e["event"] == "strategy_errors_repeated" and "day" in e]


def test_begin_day_when_the_hooks_fail_before_start_day_counts_them_under_that_day() -> None:
    kernel = _kernel()
    with capture_logs() as logs:
        _start(kernel, MONDAY)
        kernel.close_day()
        kernel.begin_day(TUESDAY)  # the backtest prepares Tuesday: its daily signals fail
        _fail(kernel, 4)
        _start(kernel, TUESDAY)
        kernel.close_day()
    assert _repeated(logs) == [(TUESDAY.isoformat(), 3)]


def test_start_day_when_the_live_loop_never_closed_the_day_logs_its_errors_under_it() -> None:
    kernel = _kernel()
    with capture_logs() as logs:
        _start(kernel, MONDAY)
        _fail(kernel, 3)  # evaluated after start_day, and the kernel's day not closed
        _start(kernel, TUESDAY)
        _fail(kernel, 2)
        kernel.close_day()
    assert _repeated(logs) == [(MONDAY.isoformat(), 2), (TUESDAY.isoformat(), 2)]

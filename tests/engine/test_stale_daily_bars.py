"""A day on the clock whose stored daily bars end sessions before it says so as it starts: the daily strategy
(and the day's universe) would otherwise decide on prices months old with nothing in the run showing it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.engine.runtime import stale_daily_bars
from maemae.krx.calendar import default_calendar
from tests.backtest.conftest import make_config

CODES = ["357870", "005930"]


def test_stale_daily_bars_when_they_end_before_the_previous_session_then_one_warning_line_names_the_gap(
    market_root: Path,
) -> None:
    calendar = default_calendar()
    last = max(BarStore(market_root).last_day(StockCode(code), Timeframe.DAY) or date.min for code in CODES)
    day = calendar.add_sessions(last, 3)  # two sessions after the last stored one are missing
    line = stale_daily_bars(make_config(market_root), calendar, day, CODES)
    assert line == (
        f"warning: the stored daily bars end on {last}, 2 sessions before {calendar.previous_session(day)}: "
        f"the daily strategy decides {day} on them as stored (`maemae data update`, or "
        "data.update_before_open, brings them up to date)"
    )


def test_stale_daily_bars_when_they_reach_the_previous_session_or_nothing_is_stored_then_as_fits(
    market_root: Path,
) -> None:
    calendar = default_calendar()
    config = make_config(market_root)
    last = BarStore(market_root).last_day(StockCode("357870"), Timeframe.DAY)
    assert last is not None
    assert stale_daily_bars(config, calendar, calendar.next_session(last), CODES) is None
    line = stale_daily_bars(config, calendar, calendar.next_session(last), ["000001"])
    assert line is not None
    assert line.startswith("warning: no stored daily bars for the day's 1 stock: ")

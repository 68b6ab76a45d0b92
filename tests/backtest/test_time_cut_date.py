"""``risk.time_cut.on_date``: everything held is sold at the open of that date, or of the first session after
it when KRX is closed that day, and on no later day: positions bought after it are kept. It used to fire on
every session from the date on, each time named "time-cut after 1 sessions"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from maemae.backtest.service import run_backtest
from maemae.domain.intents import IntentSource
from tests.backtest.conftest import make_config


def test_time_cut_on_a_saturday_when_backtested_then_once_at_the_next_sessions_open(
    market_root: Path,
) -> None:
    saturday = date(2025, 12, 6)
    config = make_config(market_root, risk={"time_cut": {"enabled": True, "on_date": saturday.isoformat()}})
    result = run_backtest(config, start=date(2025, 12, 1), end=date(2025, 12, 12))
    orders = result.engine.orders.orders.values()
    cuts = [o for o in orders if o.source is IntentSource.TIME_CUT]
    assert cuts  # something was held on the Friday
    assert {o.created_at.date() for o in cuts} == {date(2025, 12, 8)}  # Monday's open, once
    assert {o.reason for o in cuts} == {"time-cut on 2025-12-06"}
    held_after = [o for o in orders if o.created_at.date() > date(2025, 12, 8) and o.filled_quantity]
    assert held_after  # the strategy traded on, and kept what it bought

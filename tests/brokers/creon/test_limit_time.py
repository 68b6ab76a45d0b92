"""Creon's request limits in a replay: the budget spent after the close comes back while the adapter waits.

The reviewer's failure: ``maemae paper --replay 2025-12-03 --broker creon-fake --speed 0`` (the command of
docs/brokers/creon.md) reached the close, then the book check's account queries found the 20-per-15-s bucket
spent, and since the fake counted the window on the market clock, frozen after the last bar, no wait freed
it: exit 3 after five waits, and a state store that refused a rerun.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from maemae.brokers.creon import protocol
from maemae.brokers.creon.fake.world import LimitTime
from maemae.cli import main
from maemae.domain.clock_time import KST
from tests.brokers.conftest import DAY, Feed
from tests.brokers.creon.test_adapter import Connect
from tests.engine.test_run import _config as run_config


def test_account_queries_when_budget_spent_after_the_close_then_waiting_frees_it(
    connect: Connect, feed: Feed
) -> None:
    venue = connect()  # no test clock: the fake's own limit time, as in `maemae paper --broker creon-fake`
    feed.open(venue)
    feed.until(venue, time(15, 31))  # the whole day: the market clock stands still from here on
    asked = 3 * protocol.TRADE_LIMIT
    before = venue.world.requests[protocol.ORDERABLE]
    cash = [venue.cash() for _ in range(asked)]  # was: "still over the request limit after 5 waits"
    assert len({c.deposit for c in cash}) == 1
    assert venue.gate.waits >= 2  # the budget ran out twice and came back each time
    assert venue.world.requests[protocol.ORDERABLE] - before == asked  # each sent once: none refused with 4
    assert venue.world.limit_time() >= 2 * protocol.LIMIT_WINDOW_S - 1  # the waits are the time that passed


def test_limit_time_when_market_moves_or_adapter_waits_then_moves_and_never_goes_back() -> None:
    """The window counts on seconds that follow the market forward, add every wait, and stay put when the
    clock jumps back (today's date, then the replayed day's): a backward jump would strand the requests
    already counted in the future and shrink the budget for the rest of the run."""
    start = datetime.combine(DAY, time(9), tzinfo=KST)
    now = [start + timedelta(days=30)]
    limit = LimitTime(lambda: now[0])
    assert limit() == 0.0
    now[0] = start  # set back to the replayed day
    assert limit() == 0.0
    now[0] = start + timedelta(minutes=1)
    assert limit() == 60.0
    limit.wait(2.5)  # the market clock stands still, the wait still passes
    limit.wait(-1.0)
    assert limit() == 62.5
    now[0] = start + timedelta(minutes=2)
    assert limit() == 122.5


def test_paper_when_replayed_through_creon_fake_at_speed_0_then_exit_0_with_book_equal(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The documented command, on the test market."""
    config_file = run_config(market_root, tmp_path)
    args = ["paper", "--config", str(config_file), "--replay", DAY.isoformat(), "--broker", "creon-fake"]
    assert main([*args, "--speed", "0"]) == 0
    captured = capsys.readouterr()
    assert "book: maemae's orders, holdings and cash equal the venue's" in captured.out
    assert "error" not in captured.err

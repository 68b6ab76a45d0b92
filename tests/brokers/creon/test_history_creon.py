"""Creon as a market-data source (``maemae data fetch --source creon``) over the fake COM layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from maemae.brokers.creon.fake.venue import FakeCreonVenue
from maemae.brokers.history import BrokerHistory
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.data.update import Fetcher
from maemae.krx.calendar import default_calendar
from tests.brokers.conftest import DAY, Feed, Market


def test_creon_history_when_fetched_then_minutes_and_days_equal_the_stored_market(
    connect: Callable[..., FakeCreonVenue], feed: Feed, market: Market, tmp_path: Path
) -> None:
    venue = connect()
    feed.open(venue)
    source = BrokerHistory("creon", venue)
    store = BarStore(tmp_path)
    code = market.codes[1]
    report = Fetcher(store, source, default_calendar(), timeframe=Timeframe.MINUTE).run({code: (DAY, DAY)})
    assert report.failed == []
    original = market.store.read_arrays(code, Timeframe.MINUTE, DAY, DAY)
    assert np.array_equal(store.read_arrays(code, Timeframe.MINUTE).close, original.close)
    start = DAY.replace(day=1)
    assert Fetcher(store, source, default_calendar()).run({code: (start, DAY)}).failed == []
    assert np.array_equal(
        store.read_arrays(code, Timeframe.DAY).close,
        market.store.read_arrays(code, Timeframe.DAY, start, DAY).close,
    )

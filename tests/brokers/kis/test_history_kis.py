"""KIS as a market-data source (``maemae data fetch --source kis``) against the local KIS server: minute and
daily history through the adapter, checked and stored like any source's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from maemae.brokers.history import BrokerHistory
from maemae.brokers.kis.mock.venue import KisMockVenue
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.data.update import Fetcher
from maemae.krx.calendar import default_calendar
from tests.brokers.conftest import DAY, Feed, Market


def test_kis_history_when_fetched_then_minutes_and_days_equal_the_market_it_serves(
    connect: Callable[..., KisMockVenue], feed: Feed, market: Market, tmp_path: Path
) -> None:
    venue = connect(websocket=False)
    feed.open(venue)
    source = BrokerHistory("kis", venue)
    store = BarStore(tmp_path)
    code = market.codes[0]
    minutes = Fetcher(store, source, default_calendar(), timeframe=Timeframe.MINUTE).run({code: (DAY, DAY)})
    assert minutes.failed == []
    stored = store.read_arrays(code, Timeframe.MINUTE, DAY, DAY)
    original = market.store.read_arrays(code, Timeframe.MINUTE, DAY, DAY)
    assert len(stored) == len(original) == 381
    assert np.array_equal(stored.close, original.close)
    start = DAY.replace(day=1)
    days = Fetcher(store, source, default_calendar()).run({code: (start, DAY)})
    assert days.failed == []
    assert np.array_equal(
        store.read_arrays(code, Timeframe.DAY).close,
        market.store.read_arrays(code, Timeframe.DAY, start, DAY).close,
    )

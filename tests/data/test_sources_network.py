"""The real pykrx and FinanceDataReader over the network: opt-in, never in CI.

    pip install -e ".[sources]"
    MAEMAE_NETWORK=1 .venv/bin/pytest -m network tests/data/test_sources_network.py

It fetches two weeks of Samsung Electronics into a temporary store and checks the shape of what came back
(the recorded replies in ``fixtures/`` are made in the same format; when this fails, the library changed).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from maemae.data.bars import Timeframe
from maemae.data.sources.fdr_source import FdrSource
from maemae.data.sources.pykrx_source import PykrxSource
from maemae.data.store import BarStore
from maemae.data.update import Fetcher
from maemae.domain.codes import StockCode
from maemae.krx.calendar import default_calendar

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(
        os.environ.get("MAEMAE_NETWORK") != "1", reason="set MAEMAE_NETWORK=1 to use the network"
    ),
]

SAMSUNG = StockCode("005930")


@pytest.mark.parametrize("make", [PykrxSource, FdrSource], ids=["pykrx", "fdr"])
def test_source_when_asked_for_two_weeks_then_stored_and_checked(make: type, tmp_path: Path) -> None:
    calendar = default_calendar()
    end = calendar.previous_session(date.today())
    start = end - timedelta(days=14)
    report = Fetcher(BarStore(tmp_path), make(), calendar).run({SAMSUNG: (start, end)})
    assert report.failed == []
    bars = BarStore(tmp_path).read_arrays(SAMSUNG, Timeframe.DAY)
    assert len(bars) >= 8
    assert report.results[0].quarantined == 0

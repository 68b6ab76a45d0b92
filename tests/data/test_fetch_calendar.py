"""``maemae data fetch`` / ``update`` refuse a day outside the trading calendar in one line, naming the first
day it covers, before any source is asked or anything is written (a fetch from 1990 used to exit 0 with
notes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.krx.exceptions import CALENDAR_END, CALENDAR_START
from tests.user_errors import refused

RANGE = f"expected a date from {CALENDAR_START} (the first day it covers) to {CALENDAR_END}"


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (
            ["--start", "1990-01-01", "--end", "2025-12-05"],
            f"--start 1990-01-01: outside the trading calendar: {RANGE}",
        ),
        (
            ["--start", "2025-12-01", "--end", "2031-01-02"],
            f"--end 2031-01-02: outside the trading calendar: {RANGE}",
        ),
    ],
)
def test_fetch_when_a_day_is_outside_the_calendar_then_one_line_and_nothing_fetched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dates: list[str], expected: str
) -> None:
    store = tmp_path / "market"
    args = ["data", "fetch", "--source", "fdr", "--codes", "005930", "--dir", str(store), *dates]
    assert refused(main(args), capsys) == f"error: {expected}"
    assert not store.exists()


def test_update_when_start_is_before_the_calendar_then_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["data", "update", "--source", "fdr", "--codes", "005930", "--dir", str(tmp_path / "m")]
    line = refused(main([*args, "--start", "2005-12-30", "--end", "2025-12-05"]), capsys)
    assert line == f"error: --start 2005-12-30: outside the trading calendar: {RANGE}"

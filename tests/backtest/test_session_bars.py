"""A day's bars as codes x bars matrices: each stock's two-session array is its own bars, yesterday's first,
whatever yesterday's universe and session length were."""

import numpy as np

from maemae.backtest.market import SessionBars, with_yesterday
from maemae.data.bars import BAR_COLUMNS, BarArrays
from maemae.domain.codes import StockCode

A, B, C = StockCode("000010"), StockCode("000020"), StockCode("000030")


def _bars(first_ts: int, closes: list[int]) -> BarArrays:
    n = len(closes)
    close = np.array(closes, dtype=np.int64)
    return BarArrays(
        np.arange(first_ts, first_ts + n, dtype=np.int64),
        close - 1,
        close + 2,
        close - 3,
        close,
        np.arange(n, dtype=np.int64) * 10,
        close * 7,
    )


def _joined(*parts: BarArrays) -> dict[str, list[int]]:
    return {name: [int(v) for part in parts for v in getattr(part, name)] for name in BAR_COLUMNS}


def test_with_yesterday_when_universe_and_session_length_change_joins_each_code_its_own_bars() -> None:
    # yesterday: a full session of 3 bars for A and B; today: a shorter one of 2 bars for B and C
    yesterday_bars = {A: _bars(100, [10, 11, 12]), B: _bars(100, [20, 21, 22])}
    today_bars = {B: _bars(200, [23, 24]), C: _bars(200, [30, 31])}
    yesterday = SessionBars.stack(yesterday_bars, 3)
    today = SessionBars.stack(today_bars, 2)

    joined = with_yesterday(yesterday, today)

    assert list(joined) == [B, C]
    b_bars, b_start = joined[B]
    assert b_start == 3
    assert _joined(b_bars) == _joined(yesterday_bars[B], today_bars[B])
    c_bars, c_start = joined[C]  # C did not trade yesterday: today's bars alone
    assert c_start == 0
    assert _joined(c_bars) == _joined(today_bars[C])
    assert _joined(today.bars(B)) == _joined(today_bars[B])
    assert today.column("close").tolist() == [[23, 24], [30, 31]]


def test_with_yesterday_when_first_day_gives_today_alone() -> None:
    today = SessionBars.stack({A: _bars(0, [5, 6, 7])}, 3)
    bars, start = with_yesterday(None, today)[A]
    assert start == 0
    assert bars.close.tolist() == [5, 6, 7]


def test_session_bars_when_no_codes_has_empty_matrices_of_the_session_width() -> None:
    empty = SessionBars.stack({}, 381)
    assert empty.column("close").shape == (0, 381)
    assert with_yesterday(empty, SessionBars.stack({}, 381)) == {}

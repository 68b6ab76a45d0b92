"""A day's bars as codes x bars matrices: each stock's two-session array is its own bars, yesterday's first,
whatever yesterday's universe and session length were."""

import numpy as np

from maemae.backtest.market import two_sessions
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


def test_two_sessions_when_universe_and_session_length_change_joins_each_code_its_own_bars() -> None:
    # yesterday: a full session of 3 bars for A and B; today: a shorter one of 2 bars for B and C
    yesterday_bars = {A: _bars(100, [10, 11, 12]), B: _bars(100, [20, 21, 22])}
    today_bars = {B: _bars(200, [23, 24]), C: _bars(200, [30, 31])}
    yesterday, _ = two_sessions(None, yesterday_bars, 3)

    today, joined = two_sessions(yesterday, today_bars, 2)

    assert list(joined) == [B, C]
    b_bars, b_start = joined[B]
    assert b_start == 3
    assert _joined(b_bars) == _joined(yesterday_bars[B], today_bars[B])
    c_bars, c_start = joined[C]  # C did not trade yesterday: today's bars alone
    assert c_start == 0
    assert _joined(c_bars) == _joined(today_bars[C])
    row = today.row_of[B]
    assert {name: today.column(name)[row].tolist() for name in BAR_COLUMNS} == _joined(today_bars[B])
    assert today.column("close").tolist() == [[23, 24], [30, 31]]


def test_two_sessions_when_same_codes_as_yesterday_joins_them_in_order() -> None:
    yesterday, _ = two_sessions(None, {A: _bars(100, [10, 11]), B: _bars(100, [20, 21])}, 2)
    _, joined = two_sessions(yesterday, {A: _bars(200, [12, 13]), B: _bars(200, [22, 23])}, 2)
    assert joined[A][0].close.tolist() == [10, 11, 12, 13]
    assert joined[B][0].close.tolist() == [20, 21, 22, 23]
    assert joined[B][0].ts.tolist() == [100, 101, 200, 201]
    assert joined[A][1] == joined[B][1] == 2


def test_two_sessions_when_first_day_gives_today_alone() -> None:
    _, joined = two_sessions(None, {A: _bars(0, [5, 6, 7])}, 3)
    bars, start = joined[A]
    assert start == 0
    assert bars.close.tolist() == [5, 6, 7]


def test_two_sessions_when_no_codes_has_empty_matrices_of_the_session_width() -> None:
    empty, joined = two_sessions(None, {}, 381)
    assert empty.column("close").shape == (0, 381)
    assert joined == {}
    assert two_sessions(empty, {}, 381)[1] == {}

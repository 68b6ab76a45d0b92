"""``FormingMinutes.fill_in``: the broker's chart put into today's bars a run built from its snapshots, at a
first start during the day, after a pause, and when the chart comes in only after the run took snapshots of
its own (a large universe's chart is asked over several refreshes). The chart's bars take the place of those
built for the same minutes, the others stay, the day's volume is counted once, and bars already saved that
change are saved anew.

``FormingMinutes.arrays``: yesterday's bars and today's as the strategies read them at every cycle, kept as
columns between cycles and extended by the bars completed since; always equal to building them anew from the
bars, read-only, and unchanged once handed out while the day goes on. ``FormingMinutes.volume_today``, a
running total kept between calls, is always the plain sum of today's bars' volume."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.data.bars import BAR_COLUMNS, BarArrays
from maemae.domain.clock_time import KST
from maemae.domain.minute_bar import MinuteBar
from maemae.engine.forming import FormingMinutes

OPEN = datetime(2025, 12, 3, 9, 0, tzinfo=KST)


def _minute(minute: int, second: int = 0) -> datetime:
    return OPEN + timedelta(minutes=minute, seconds=second)


def _bar(minute: int, close: int, volume: int) -> MinuteBar:
    return MinuteBar(_minute(minute), close, close + 10, close - 10, close, volume, close * volume)


# the market's bars of 09:00 to 09:04; its cumulative volume at the end of each minute is the running sum
CHART = [
    _bar(0, 1_000, 100),
    _bar(1, 1_010, 200),
    _bar(2, 1_020, 300),
    _bar(3, 1_030, 400),
    _bar(4, 1_040, 500),
]


def _forming(minutes: FormingMinutes) -> MinuteBar:
    assert minutes.forming is not None
    return minutes.forming


def _volumes(bars: list[MinuteBar]) -> list[tuple[datetime, int]]:
    return [(b.start, b.volume) for b in bars]


def test_fill_in_at_a_first_start_before_any_snapshot_then_the_chart_is_the_day_so_far() -> None:
    minutes = FormingMinutes()
    minutes.fill_in(CHART[:3])
    assert minutes.completed == CHART[:3]
    assert minutes.forming is None
    assert minutes.volume_seen == 600
    minutes.update(1_030, 750, _minute(3, 5))  # the next snapshot: 09:03's bar has the growth since 09:02
    assert _forming(minutes).volume == 150
    assert minutes.take_unsaved() == (False, CHART[:3])


def test_fill_in_after_snapshots_then_the_chart_replaces_their_minutes_and_the_volume_counts_once() -> None:
    """Started at 09:02:30 (bars from the open still to come), snapshots at 09:02:30 (the cumulative volume
    450: the whole day's until then lands in the first bar), 09:03:10 (700) and 09:04:50 (1,450 at the end of
    09:04: 1,500 minus 09:04's last 50 not yet seen); the 09:02 and 09:03 bars were saved by then. The chart,
    asked at 09:05:10, has 09:00 to 09:04; the snapshot at 09:05:10 (1,600) is forming."""
    minutes = FormingMinutes()
    minutes.update(1_020, 450, _minute(2, 30))
    minutes.update(1_030, 700, _minute(3, 10))
    minutes.update(1_040, 1_450, _minute(4, 50))
    assert _volumes(minutes.completed) == [(_minute(2), 450), (_minute(3), 250)]
    assert minutes.take_unsaved() == (False, minutes.completed)
    minutes.update(1_050, 1_600, _minute(5, 10))
    assert _forming(minutes).volume == 150  # 1,600 - 1,450

    minutes.fill_in(CHART)

    assert minutes.completed == CHART  # the built 09:02 to 09:04 (the 09:04 one complete now) replaced
    forming = _forming(minutes)
    assert forming.start == _minute(5)
    assert forming.volume == 100  # 1,600 seen - 1,500 in the chart's bars: counted once
    assert forming.value == 1_050 * 100
    assert minutes.volume_seen == 1_600
    assert minutes.volume_today == 1_600
    assert minutes.take_unsaved() == (True, CHART)  # saved 09:02 and 09:03 changed: the day's bars anew
    assert minutes.take_unsaved() == (False, [])


def test_fill_in_after_a_pause_then_the_minute_forming_at_the_stop_is_the_charts_whole_bar() -> None:
    """The stopped run saved 09:00 and 09:01 and saw 09:02 until 09:02:20 (cumulative 350); the restart
    at 09:05:05 asks for the bars after 09:01: the chart's 09:02 replaces the part seen, then 09:03, 09:04."""
    minutes = FormingMinutes()
    minutes.restore(CHART[:2], _bar(2, 1_020, 50), 350)
    minutes.fill_in(CHART[2:])
    assert minutes.completed == CHART
    assert minutes.forming is None
    assert minutes.volume_seen == 1_500
    assert minutes.take_unsaved() == (False, CHART[2:])  # the saved 09:00 and 09:01 are as they were


def test_fill_in_when_the_chart_has_no_bar_for_the_minute_forming_at_the_stop_then_the_built_one_stays() -> (
    None
):
    minutes = FormingMinutes()
    minutes.restore(CHART[:2], _bar(2, 1_020, 300), 600)
    minutes.fill_in(CHART[3:])  # no trade in 09:02 as the broker counts it
    assert _volumes(minutes.completed) == [*_volumes(CHART[:3]), *_volumes(CHART[3:])]
    assert minutes.forming is None
    assert minutes.volume_seen == 1_500


def test_fill_in_with_no_bars_then_nothing_changes() -> None:
    minutes = FormingMinutes()
    minutes.update(1_000, 100, _minute(0, 10))
    minutes.fill_in([])
    assert _forming(minutes).volume == 100
    assert minutes.take_unsaved() == (False, [])


def test_fill_in_when_the_chart_lacks_a_saved_minute_but_has_earlier_ones_then_all_are_saved_anew() -> None:
    """Started at 09:03:30 in a stock with no trade at 09:03 as the broker counts it: the run built and saved
    09:03 from its snapshots; the chart, asked at 09:05:10, has 09:00 to 09:02 and 09:04. The chart's bars
    come before the saved one, so slicing after the saved count lost 09:00 to 09:02 from the store."""
    minutes = FormingMinutes()
    minutes.update(1_030, 600, _minute(3, 30))
    minutes.update(1_040, 1_200, _minute(4, 10))
    assert minutes.take_unsaved() == (False, [minutes.completed[0]])  # 09:03, saved
    minutes.update(1_050, 1_600, _minute(5, 10))
    minutes.fill_in([*CHART[:3], CHART[4]])
    rewrite, bars = minutes.take_unsaved()
    assert rewrite
    assert [b.start for b in bars] == [_minute(m) for m in range(5)]


def _rebuilt(minutes: FormingMinutes, before: BarArrays) -> dict[str, list[int]]:
    """``before`` then today's bars, the forming one last, read anew from the bar objects."""
    today = [*minutes.completed, *([minutes.forming] if minutes.forming else [])]
    rows = [
        (int(b.start.timestamp() * 1_000_000) * 1_000, b.open, b.high, b.low, b.close, b.volume, b.value)
        for b in today
    ]
    return {
        name: [*getattr(before, name).tolist(), *(row[i] for row in rows)]
        for i, name in enumerate(BAR_COLUMNS)
    }


def _columns(bars: BarArrays) -> dict[str, list[int]]:
    return {name: getattr(bars, name).tolist() for name in BAR_COLUMNS}


def _yesterday(rows: int, close: int) -> BarArrays:
    """``rows`` bars of the session before, read-only as the market gives them."""
    ts = np.array([int((OPEN - timedelta(days=1, minutes=-m)).timestamp()) * 10**9 for m in range(rows)])
    prices = np.full(rows, close, dtype=np.int64)
    volume = np.arange(rows, dtype=np.int64)
    bars = BarArrays(ts.astype(np.int64), prices, prices + 5, prices - 5, prices, volume, volume * close)
    for name in BAR_COLUMNS:
        getattr(bars, name).flags.writeable = False
    return bars


YESTERDAYS = [_yesterday(5, 900), _yesterday(3, 950), BarArrays.empty()]

# one step of a day: a snapshot (seconds later, price, volume added), the session's end, a chart of whole
# minutes up to now (a minute's offset from the open each, the chart's close), the unsaved bars taken (so a
# chart may rewrite saved ones), a restart going on from the bars so far, or another ``before``
STEPS = st.one_of(
    st.tuples(st.just("snapshot"), st.integers(0, 150), st.integers(900, 1_100), st.integers(0, 500)),
    st.tuples(st.just("finish")),
    st.tuples(st.just("chart"), st.lists(st.integers(0, 40), max_size=4), st.integers(900, 1_100)),
    st.tuples(st.just("save")),
    st.tuples(st.just("restart")),
    st.tuples(st.just("before"), st.integers(0, len(YESTERDAYS) - 1)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(STEPS, max_size=60))
def test_arrays_and_volume_after_any_day_then_they_equal_a_rebuild_and_those_handed_out_do_not_change(
    steps: list[tuple[object, ...]],
) -> None:
    minutes, before, at, volume = FormingMinutes(), YESTERDAYS[0], OPEN, 0
    handed: list[tuple[BarArrays, dict[str, list[int]]]] = []
    for step in steps:
        match step:
            case ("snapshot", int(seconds), int(price), int(added)):
                at, volume = at + timedelta(seconds=seconds), volume + added
                minutes.update(price, volume, at)
            case ("finish",):
                minutes.finish()
            case ("chart", list(offsets), int(close)):
                now = (at - OPEN) // timedelta(minutes=1)
                minutes.fill_in([_bar(m, close + m, 10) for m in sorted({m for m in offsets if m <= now})])
            case ("save",):
                minutes.take_unsaved()
            case ("restart",):
                minutes.restore(minutes.completed, minutes.forming, minutes.volume_seen)
            case ("before", int(index)):
                before = YESTERDAYS[index]
        bars = minutes.arrays(before)
        assert _columns(bars) == _rebuilt(minutes, before)
        forming = minutes.forming.volume if minutes.forming else 0
        assert minutes.volume_today == sum(b.volume for b in minutes.completed) + forming
        handed.append((bars, _columns(bars)))
    for bars, values in handed:
        assert _columns(bars) == values


def test_arrays_handed_out_are_read_only_and_keep_the_forming_bar_as_it_was() -> None:
    minutes = FormingMinutes()
    minutes.update(1_000, 100, _minute(0, 10))
    first = minutes.arrays(YESTERDAYS[0])
    minutes.update(1_020, 300, _minute(0, 40))  # the forming bar goes on
    minutes.update(1_030, 400, _minute(1, 0))  # and is completed
    later = minutes.arrays(YESTERDAYS[0])
    assert first.close.tolist() == [900] * 5 + [1_000]
    assert later.close.tolist() == [900] * 5 + [1_020, 1_030]
    for bars in (first, later):
        for name in BAR_COLUMNS:
            column = getattr(bars, name)
            with pytest.raises(ValueError, match="read-only"):
                column[-1] = 0
            with pytest.raises(ValueError, match="WRITEABLE"):
                column.flags.writeable = True


def test_arrays_with_no_bar_today_then_yesterdays_as_they_are() -> None:
    assert FormingMinutes().arrays(YESTERDAYS[1]) is YESTERDAYS[1]

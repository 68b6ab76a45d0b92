"""``kst_after``: the backtest's step times, made by adding to the day's midnight, are the moments the epoch
nanoseconds name, in KST; ``moment_ns`` is its inverse for any moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from maemae.data.bars import day_ns
from maemae.domain.clock_time import KST, kst_after, moment_ns

DAYS = st.dates(min_value=date(2006, 1, 2), max_value=date(2035, 12, 31))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _reference(ns: int) -> datetime:
    """The moment ``ns`` names, worked out through UTC with integers only."""
    return (_EPOCH + timedelta(microseconds=ns // 1_000)).astimezone(KST)


@given(day=DAYS, minute=st.integers(0, 24 * 60))
def test_kst_after_when_a_whole_minute_is_the_moment_of_its_epoch_nanoseconds(day: date, minute: int) -> None:
    midnight = datetime.combine(day, time(0), tzinfo=KST)
    since = minute * 60_000_000_000
    moment = kst_after(midnight, since)
    assert moment == _reference(day_ns(day) + since)
    assert moment.tzinfo is KST
    assert moment.utcoffset() == timedelta(hours=9)


@given(day=DAYS, microseconds=st.integers(-86_400_000_000, 2 * 86_400_000_000))
def test_kst_after_when_any_microsecond_even_outside_the_day_is_the_moment_of_its_epoch_nanoseconds(
    day: date, microseconds: int
) -> None:
    midnight = datetime.combine(day, time(0), tzinfo=KST)
    since = microseconds * 1_000
    assert kst_after(midnight, since) == _reference(day_ns(day) + since)
    assert kst_after(midnight, since).tzinfo is KST


def test_kst_after_when_the_closing_auction_of_a_session_reads_15_30_kst() -> None:
    midnight = datetime.combine(date(2026, 12, 4), time(0), tzinfo=KST)
    moment = kst_after(midnight, (15 * 60 + 30) * 60_000_000_000)
    assert moment.isoformat() == "2026-12-04T15:30:00+09:00"


@given(day=DAYS, microseconds=st.integers(-86_400_000_000, 2 * 86_400_000_000))
def test_moment_ns_when_a_kst_moment_is_the_epoch_nanoseconds_that_name_it(
    day: date, microseconds: int
) -> None:
    ns = day_ns(day) + microseconds * 1_000
    assert moment_ns(_reference(ns)) == ns

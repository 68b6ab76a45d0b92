from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.clock_time import KST
from maemae.errors import DomainError
from maemae.krx.calendar import TradingCalendar, default_calendar
from maemae.krx.sessions import MarketPhase, is_market_open, market_phase, session_schedule

CAL = default_calendar()

CLOSED_2025 = [
    "01-01",
    "01-27",
    "01-28",
    "01-29",
    "01-30",
    "03-03",
    "05-01",
    "05-05",
    "05-06",
    "06-03",
    "06-06",
    "08-15",
    "10-03",
    "10-06",
    "10-07",
    "10-08",
    "10-09",
    "12-25",
    "12-31",
]
CLOSED_2026 = [
    "01-01",
    "02-16",
    "02-17",
    "02-18",
    "03-02",
    "05-01",
    "05-05",
    "05-25",
    "06-03",
    "08-17",
    "09-24",
    "09-25",
    "10-05",
    "10-09",
    "12-25",
    "12-31",
]


def test_sessions_when_counting_2025_and_2026_match_krx() -> None:
    assert len(CAL.sessions(date(2025, 1, 1), date(2025, 12, 31))) == 242
    assert len(CAL.sessions(date(2026, 1, 1), date(2026, 12, 31))) == 245


@pytest.mark.parametrize("day", [f"2025-{d}" for d in CLOSED_2025] + [f"2026-{d}" for d in CLOSED_2026])
def test_is_session_when_weekday_holiday_is_closed(day: str) -> None:
    assert not CAL.is_session(date.fromisoformat(day))


def test_is_session_when_weekend_is_closed_and_weekday_open() -> None:
    assert not CAL.is_session(date(2025, 3, 8))
    assert CAL.is_session(date(2025, 3, 7))


def test_next_and_previous_session_when_spanning_new_year() -> None:
    assert CAL.next_session(date(2025, 12, 30)) == date(2026, 1, 2)
    assert CAL.previous_session(date(2026, 1, 2)) == date(2025, 12, 30)
    assert CAL.add_sessions(date(2025, 12, 29), 2) == date(2026, 1, 2)
    assert CAL.add_sessions(date(2025, 12, 31), 0) == date(2026, 1, 2)


def test_calendar_when_user_adds_closure_and_session_they_win() -> None:
    calendar = TradingCalendar(extra_closures=[date(2025, 3, 7)], extra_sessions=[date(2025, 3, 8)])
    assert not calendar.is_session(date(2025, 3, 7))
    assert calendar.is_session(date(2025, 3, 8))
    assert calendar.sessions(date(2025, 3, 6), date(2025, 3, 10)) == [
        date(2025, 3, 6),
        date(2025, 3, 8),
        date(2025, 3, 10),
    ]
    # the calendars share XKRX's days: another one built before or after keeps them as they are
    assert CAL.is_session(date(2025, 3, 7))
    assert not TradingCalendar().is_session(date(2025, 3, 8))


def test_calendar_when_a_day_is_both_a_closure_and_a_session_it_is_a_session() -> None:
    calendar = TradingCalendar(extra_closures=[date(2025, 3, 7)], extra_sessions=[date(2025, 3, 7)])
    assert calendar.is_session(date(2025, 3, 7))


def test_calendar_when_date_outside_range_raises_one_line_error() -> None:
    with pytest.raises(DomainError, match="outside the trading calendar"):
        CAL.is_session(date(2030, 1, 2))


def test_session_schedule_when_normal_day_has_standard_times() -> None:
    schedule = session_schedule(date(2025, 3, 7), CAL)
    assert schedule is not None
    assert schedule.pre_open.time() == time(8, 30)
    assert schedule.open.time() == time(9, 0)
    assert schedule.closing_auction.time() == time(15, 20)
    assert schedule.close.time() == time(15, 30)
    bars = schedule.minute_bar_starts()
    assert len(bars) == 381
    assert [bars[0].time(), bars[-2].time(), bars[-1].time()] == [time(9, 0), time(15, 19), time(15, 30)]


def test_session_schedule_when_first_day_of_year_opens_at_ten() -> None:
    schedule = session_schedule(date(2026, 1, 2), CAL)
    assert schedule is not None
    assert schedule.open.time() == time(10, 0)
    assert schedule.close.time() == time(15, 30)
    assert len(schedule.minute_bar_starts()) == 321


@pytest.mark.parametrize("day", [date(2025, 3, 4), date(2026, 1, 2), date(2025, 11, 13)])
def test_minute_bar_starts_ns_when_any_timetable_equals_the_datetimes(day: date) -> None:
    schedule = session_schedule(day, CAL)  # a normal day, the year's first (10:00), a CSAT day (shifted)
    assert schedule is not None
    expected = [int(start.timestamp()) * 1_000_000_000 for start in schedule.minute_bar_starts()]
    assert schedule.minute_bar_starts_ns().tolist() == expected


def test_session_schedule_when_csat_day_shifts_one_hour() -> None:
    schedule = session_schedule(date(2025, 11, 13), CAL)
    assert schedule is not None
    assert (schedule.open.time(), schedule.close.time()) == (time(10, 0), time(16, 30))
    assert schedule.after_hours_end.time() == time(18, 0)


def test_session_schedule_when_holiday_is_none() -> None:
    assert session_schedule(date(2025, 12, 31), CAL) is None


@pytest.mark.parametrize(
    ("clock", "phase"),
    [
        (time(8, 29, 59), MarketPhase.CLOSED),
        (time(8, 30), MarketPhase.PRE_OPEN_AUCTION),
        (time(9, 0), MarketPhase.CONTINUOUS),
        (time(15, 19, 59), MarketPhase.CONTINUOUS),
        (time(15, 20), MarketPhase.CLOSING_AUCTION),
        (time(15, 30), MarketPhase.AFTER_HOURS),
        (time(18, 0), MarketPhase.CLOSED),
    ],
)
def test_market_phase_when_normal_day_follows_timetable(clock: time, phase: MarketPhase) -> None:
    ts = datetime.combine(date(2025, 3, 7), clock, tzinfo=KST)
    assert market_phase(ts, CAL) is phase
    assert is_market_open(ts, CAL) is (
        phase in {MarketPhase.PRE_OPEN_AUCTION, MarketPhase.CONTINUOUS, MarketPhase.CLOSING_AUCTION}
    )


def test_market_phase_when_naive_timestamp_raises() -> None:
    with pytest.raises(DomainError, match="timezone-aware"):
        market_phase(datetime(2025, 3, 7, 10, 0), CAL)


@given(
    start=st.dates(min_value=date(2006, 1, 2), max_value=date(2026, 12, 31)),
    length=st.integers(-10, 400),
)
def test_count_sessions_for_any_range_is_how_many_sessions_lists(start: date, length: int) -> None:
    end = min(max(start + timedelta(days=length), date(2006, 1, 2)), date(2026, 12, 31))  # a reversed one too
    assert CAL.count_sessions(start, end) == len(CAL.sessions(start, end))

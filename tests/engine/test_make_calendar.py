"""One calendar per set of corrections, shared by every run of a process."""

from __future__ import annotations

from datetime import date

from maemae.config import MaemaeConfig, parse_config
from maemae.engine.composition import make_calendar
from maemae.krx.sessions import session_schedule


def _config(**calendar: object) -> MaemaeConfig:
    return parse_config({"data": {"root": "unused"}, "calendar": calendar})


def test_make_calendar_when_the_corrections_are_equal_gives_the_same_calendar() -> None:
    first = make_calendar(_config(extra_closures=["2025-12-31"]))
    again = make_calendar(_config(extra_closures=["2025-12-31"]))
    assert again is first
    day = date(2025, 12, 30)
    assert session_schedule(day, again) is session_schedule(day, first)  # each day's timetable made once


def test_make_calendar_when_the_corrections_differ_gives_calendars_that_apply_each() -> None:
    plain = make_calendar(_config())
    closed = make_calendar(_config(extra_closures=["2025-12-30"]))
    opened = make_calendar(_config(extra_sessions=["2025-12-31"]))
    late = make_calendar(_config(csat_days=["2025-12-30"]))
    assert len({id(plain), id(closed), id(opened), id(late)}) == 4
    assert plain.is_session(date(2025, 12, 30))
    assert not closed.is_session(date(2025, 12, 30))
    assert not plain.is_session(date(2025, 12, 31))
    assert opened.is_session(date(2025, 12, 31))
    schedule = session_schedule(date(2025, 12, 30), late)
    assert schedule is not None
    assert schedule.open.hour == 10

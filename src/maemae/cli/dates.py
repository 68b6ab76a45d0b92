"""Dates given on the command line (``--start``, ``--end``, ``--replay``, ``--day``, a report's day): one form
and one error line for every option that takes one."""

from __future__ import annotations

import re
from datetime import date

from maemae.errors import ConfigError
from maemae.krx.calendar import check_in_calendar

_FORM = re.compile(r"\d{4}-\d{2}-\d{2}")


def option_date(text: str, option: str) -> date:
    """``text`` as a date, or ``ConfigError`` naming ``option`` and ``text``. Only the form YYYY-MM-DD:
    ``date.fromisoformat`` also takes ``20250306``, which a slip of the keyboard makes as easily. A day of
    that form the calendar does not have (``2025-06-31``) is said to be no such date, not a wrong form; one
    outside the trading calendar's years is refused here, naming the option, before anything is fetched or
    run (a fetch from 1990 stored what the source had from 2006 on and exited 0; a backtest named neither
    the option nor the date given)."""
    if _FORM.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"{option} {text!r}: no such date; expected a date as YYYY-MM-DD") from None
        check_in_calendar(day, option)
        return day
    raise ConfigError(f"{option} {text!r}: expected a date as YYYY-MM-DD")

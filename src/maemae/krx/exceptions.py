"""maemae's own table of KRX calendar facts that exchange-calendars (XKRX 4.13.2) gets wrong or lacks.

Keep this table in step with KRX's annual notice; users add dates the table does not know yet through the
config's ``calendar`` section (extra closures, extra sessions, CSAT days).
"""

from __future__ import annotations

from datetime import date

# the years maemae's calendar covers (XKRX's sessions and this table): a date outside is refused, in a config
# file too, which imports these from here, not the calendar and its NumPy
CALENDAR_START = date(2006, 1, 2)
CALENDAR_END = date(2027, 12, 31)

# Weekday closures that XKRX treats as sessions.
EXTRA_CLOSURES: frozenset[date] = frozenset(
    {
        date(2026, 6, 3),  # 9th nationwide local elections
    }
)

# College-entrance-exam (수능) days: every session time moves one hour later (the 18:00 end does not).
# XKRX encodes these only up to 2020.
CSAT_DAYS: frozenset[date] = frozenset(
    {
        date(2020, 12, 3),
        date(2021, 11, 18),
        date(2022, 11, 17),
        date(2023, 11, 16),
        date(2024, 11, 14),
        date(2025, 11, 13),
        date(2026, 11, 19),
    }
)

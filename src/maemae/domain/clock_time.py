"""Korean Standard Time. KRX has no daylight saving, so KST is UTC+9 all year."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from maemae.errors import DomainError

KST = ZoneInfo("Asia/Seoul")


def require_kst(ts: datetime, what: str = "timestamp") -> datetime:
    """Return ``ts`` converted to KST; a naive datetime is refused, because its zone would be a guess."""
    if ts.tzinfo is KST:  # already Korean time (the common case: every engine timestamp)
        return ts
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise DomainError(f"{what} {ts.isoformat()}: expected a timezone-aware datetime (Asia/Seoul)")
    return ts.astimezone(KST)


def compact_date(day: date) -> str:
    """``day`` as YYYYMMDD, the prefix of order and fill ids. Integer arithmetic, not format specs: those
    cost about ten times as much in the compiled engine, and ids are made on every order and fill."""
    return str(day.year * 10_000 + day.month * 100 + day.day).zfill(8)


def dated_id(day: date, number: int) -> str:
    """An order or fill id: ``YYYYMMDD-NNNNNN``, the day's ``number`` in at least six digits."""
    return compact_date(day) + "-" + str(number).zfill(6)

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
    """``day`` as YYYYMMDD, the prefix of order and fill ids (a tenth of the cost of ``strftime``, and ids
    are made on every order)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"

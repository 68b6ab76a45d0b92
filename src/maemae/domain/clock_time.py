"""Korean Standard Time. KRX has no daylight saving, so KST is UTC+9 all year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from maemae.errors import DomainError

# Final: the compiled engine reads it as a C global (the order path compares zones with it on every order,
# fill and history line), not through the module's dict
KST: Final = ZoneInfo("Asia/Seoul")
_NS_PER_MINUTE: Final = 60_000_000_000
_NS_PER_SECOND: Final = 1_000_000_000
_UNIX_ORDINAL: Final = date(1970, 1, 1).toordinal()
_UTC_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTES: Final = [timedelta(minutes=minutes) for minutes in range(24 * 60 + 1)]  # a day's whole minutes


def require_kst(ts: datetime, what: str = "timestamp") -> datetime:
    """Return ``ts`` converted to KST; a naive datetime is refused, because its zone would be a guess."""
    if ts.tzinfo is KST:  # already Korean time (the common case: every engine timestamp)
        return ts
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise DomainError(f"{what} {ts.isoformat()}: expected a timezone-aware datetime (Asia/Seoul)")
    return ts.astimezone(KST)


_COMPACT_DATES: Final[dict[int, str]] = {}  # by ordinal: a run makes ids on a few hundred days at most
_ID_PREFIXES: Final[dict[int, str]] = {}  # by ordinal: ``YYYYMMDD-``, the day's part of every id


class _IdDay:
    """The day of the last id made, as (ordinal, ``YYYYMMDD-``): compared as a native integer, where the
    dict of all days is looked up under a boxed ordinal (about 350 instructions on every order and fill)."""

    def __init__(self) -> None:
        self.day: tuple[int, str] = (-1, "")


_LAST_ID_DAY: Final = _IdDay()


def compact_date(day: date) -> str:
    """``day`` as YYYYMMDD, the prefix of order and fill ids: made once a day (ids are made on every order
    and fill), with integer arithmetic, not format specs (ten times the cost in the compiled engine)."""
    ordinal = day.toordinal()
    text = _COMPACT_DATES.get(ordinal)
    if text is None:
        text = _COMPACT_DATES[ordinal] = str(day.year * 10_000 + day.month * 100 + day.day).zfill(8)
    return text


def dated_id(day: date, number: int) -> str:
    """An order or fill id: ``YYYYMMDD-NNNNNN``, the day's ``number`` in at least six digits (padded by
    arithmetic where it can be: ``zfill`` is a generic method call in the compiled build). The day's part,
    dash included, is kept per day, so an id is one concatenation."""
    ordinal = day.toordinal()
    last = _LAST_ID_DAY.day
    if last[0] == ordinal:  # the usual case: a run makes hundreds of ids a day
        prefix = last[1]
    else:
        prefix = _ID_PREFIXES.get(ordinal) or _id_prefix(day, ordinal)
        _LAST_ID_DAY.day = (ordinal, prefix)  # one assignment: a thread reads an old pair or a new one
    digits = str(1_000_000 + number)[1:] if 0 <= number < 1_000_000 else str(number).zfill(6)
    return prefix + digits


def _id_prefix(day: date, ordinal: int) -> str:
    """``YYYYMMDD-`` for ``day``, made and kept the first time an id of that day is made."""
    prefix = _ID_PREFIXES[ordinal] = compact_date(day) + "-"
    return prefix


def kst_after(midnight: datetime, since_ns: int) -> datetime:
    """The moment ``since_ns`` nanoseconds (whole microseconds) after ``midnight`` (00:00 KST of a day), as
    ``datetime.fromtimestamp`` would give it in KST, made at a fifteenth of its cost: the backtest makes one
    for each step. Adding to a KST datetime moves its wall clock, and KST has had no daylight saving since
    1988 (the calendar starts in 2006), so the wall clock's time is the time elapsed."""
    minutes = since_ns // _NS_PER_MINUTE  # `//` and `%`: compiled, they are machine operations; divmod is not
    if since_ns % _NS_PER_MINUTE == 0 and 0 <= minutes <= 24 * 60:  # a bar's start or end: a whole minute
        return midnight + _MINUTES[minutes]
    return midnight + timedelta(microseconds=since_ns // 1_000)


def moment_ns(moment: datetime) -> int:
    """``moment`` (timezone-aware) in nanoseconds since the epoch, as bars' ``ts`` count time. A KST moment
    from its wall clock (no daylight saving since 1988), at a third of the cost of subtracting the epoch,
    which asks both zones for their offsets; a moment in another zone through that subtraction."""
    if moment.tzinfo is KST:
        seconds = (moment.toordinal() - _UNIX_ORDINAL) * 86_400 - 9 * 3_600
        seconds += moment.hour * 3_600 + moment.minute * 60 + moment.second
        return seconds * _NS_PER_SECOND + moment.microsecond * 1_000
    since = moment - _UTC_EPOCH
    return (since.days * 86_400 + since.seconds) * _NS_PER_SECOND + since.microseconds * 1_000

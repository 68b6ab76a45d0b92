"""``moment_ns``: epoch nanoseconds of a moment, which date the trailing stop's high-water mark (a fill's
time) against the bars' stamps. A KST moment is read from its wall clock; any other zone is subtracted."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.clock_time import KST, moment_ns

MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1))


@given(MOMENTS)
def test_moment_ns_when_any_kst_moment_counts_its_nanoseconds_since_1970(moment: datetime) -> None:
    aware = moment.replace(tzinfo=KST)
    expected = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1_000
    assert moment_ns(aware) == expected
    assert moment_ns(aware) == int(aware.timestamp()) * 10**9 + aware.microsecond * 1_000


@given(MOMENTS)
def test_moment_ns_when_the_same_moment_in_utc_or_kst_gives_the_same_nanoseconds(moment: datetime) -> None:
    in_utc = moment.replace(tzinfo=UTC)
    assert moment_ns(in_utc) == moment_ns(in_utc.astimezone(KST))
    assert (
        moment_ns(in_utc) == (in_utc - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1_000
    )

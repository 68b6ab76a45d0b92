"""The kernel's epoch nanoseconds, which date the trailing stop's high-water mark against the bars' stamps."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.clock_time import KST
from maemae.engine.kernel import _epoch_ns


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)))
def test_epoch_ns_when_any_kst_moment_counts_its_nanoseconds_since_1970(moment: datetime) -> None:
    aware = moment.replace(tzinfo=KST)
    expected = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1_000
    assert _epoch_ns(aware) == expected
    assert _epoch_ns(aware) == int(aware.timestamp()) * 10**9 + aware.microsecond * 1_000

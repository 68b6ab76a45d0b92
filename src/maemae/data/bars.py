"""Bars as columns: the in-memory shape every backtest, indicator and importer works with.

Bar conventions (docs/data.md): prices, volume and traded value are int64 (won, shares). A daily bar's
``ts`` is the session date at 00:00 KST. A minute bar's ``ts`` is the START of its minute in KST; continuous
bars run from the open to one minute before the closing auction, and the closing auction is one bar at the
close (15:30) whose open, high, low and close are the closing price. A day's daily bar equals the aggregate
of its minute bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from maemae.compiled import pickle_by_fields
from maemae.domain.clock_time import KST

Int64Array = npt.NDArray[np.int64]

BAR_COLUMNS: tuple[str, ...] = ("ts", "open", "high", "low", "close", "volume", "value")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
NS_PER_SECOND: Final = 1_000_000_000


_UNIX_ORDINAL: Final = date(1970, 1, 1).toordinal()
_DAY_NS: Final = 86_400 * NS_PER_SECOND
_KST_OFFSET_NS: Final = 9 * 3_600 * NS_PER_SECOND  # KST is UTC+9 all year, no daylight saving


def day_ns(day: date) -> int:
    """00:00 KST of ``day`` in nanoseconds since the epoch: a daily bar's ``ts``."""
    return (day.toordinal() - _UNIX_ORDINAL) * _DAY_NS - _KST_OFFSET_NS


def day_number(day: date) -> int:
    """``day`` as a count of days since 1970-01-01: the whole-number form of :func:`day_ns`."""
    return day.toordinal() - _UNIX_ORDINAL


def day_numbers(ts: Int64Array) -> Int64Array:
    """The KST day of each timestamp in ``ts``, as :func:`day_number` counts: a timestamp is before
    ``day_ns(d)`` exactly when its number is below ``day_number(d)``, so days compare as small whole numbers
    that fit beside another one in an int64 (see :class:`~maemae.backtest.market.DailyHistory`)."""
    return (ts + _KST_OFFSET_NS) // _DAY_NS


def kst_dates(ts: Int64Array) -> list[date]:
    """The KST date of each timestamp in ``ts`` (epoch nanoseconds): the inverse of :func:`day_ns`."""
    ordinals = (ts + _KST_OFFSET_NS) // _DAY_NS + _UNIX_ORDINAL
    return [date.fromordinal(ordinal) for ordinal in ordinals.tolist()]


class Timeframe(StrEnum):
    DAY = "day"
    MINUTE = "minute"


@dataclass(slots=True)
class BarArrays:
    """One stock's bars in one timeframe as int64 NumPy arrays; ``ts`` is nanoseconds since the epoch."""

    ts: Int64Array
    open: Int64Array
    high: Int64Array
    low: Int64Array
    close: Int64Array
    volume: Int64Array
    value: Int64Array

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        ts: Int64Array,
        open: Int64Array,
        high: Int64Array,
        low: Int64Array,
        close: Int64Array,
        volume: Int64Array,
        value: Int64Array,
    ) -> None:
        self.ts, self.open, self.high, self.low = ts, open, high, low
        self.close, self.volume, self.value = close, volume, value

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @classmethod
    def empty(cls) -> BarArrays:
        nothing = np.empty(0, dtype=np.int64)
        return cls(nothing, nothing, nothing, nothing, nothing, nothing, nothing)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> BarArrays:
        """Columns of a bar frame (``ts`` timezone-aware) as arrays, without copying where pandas allows."""
        ts = frame["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
        columns = {name: frame[name].to_numpy(dtype=np.int64) for name in BAR_COLUMNS[1:]}
        return cls(ts=ts.view(np.int64), **columns)

    def to_frame(self) -> pd.DataFrame:
        """A pandas frame with ``ts`` as KST timestamps."""
        frame = pd.DataFrame({name: getattr(self, name) for name in BAR_COLUMNS[1:]})
        frame.insert(0, "ts", pd.to_datetime(self.ts, utc=True).tz_convert(KST))
        return frame

    def slice(self, start: int, stop: int) -> BarArrays:
        window = slice(start, stop)  # on the order path: spelled out, no loop over the column names
        return BarArrays(
            self.ts[window],
            self.open[window],
            self.high[window],
            self.low[window],
            self.close[window],
            self.volume[window],
            self.value[window],
        )


pickle_by_fields(BarArrays)  # see maemae.compiled

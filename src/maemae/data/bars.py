"""Bars as columns: the in-memory shape every backtest, indicator and importer works with.

Bar conventions (docs/data.md): prices, volume and traded value are int64 (won, shares). A daily bar's
``ts`` is the session date at 00:00 KST. A minute bar's ``ts`` is the START of its minute in KST; continuous
bars run from the open to one minute before the closing auction, and the closing auction is one bar at the
close (15:30) whose open, high, low and close are the closing price. A day's daily bar equals the aggregate
of its minute bars.
"""

from __future__ import annotations

import copyreg
from datetime import date
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

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


class BarArrays:
    """One stock's bars in one timeframe as int64 NumPy arrays; ``ts`` is nanoseconds since the epoch.

    :meth:`slice` returns a window whose columns are cut from its source when first read, then kept: the
    engine gives a minute strategy such a window at every bar it visits, and the built-in ones read one or
    two of the seven columns, where each NumPy view costs about 1,200 instructions to make. A window holds
    its source privately (``_source``, always arrays given whole) with its bounds; every public column,
    ``len`` and ``slice`` stop at the window's end, so a strategy sees no bar after now through them.
    """

    __slots__ = ("_close", "_high", "_low", "_open", "_source", "_start", "_stop", "_ts", "_value", "_volume")

    _source: BarArrays | None  # None: the columns were given whole; a window: the arrays it is cut from
    _start: int  # the window's first and past-its-last row in ``_source`` (0 and the length when whole)
    _stop: int
    _ts: Int64Array | None  # a column still None is yet to be cut from ``_source``
    _open: Int64Array | None
    _high: Int64Array | None
    _low: Int64Array | None
    _close: Int64Array | None
    _volume: Int64Array | None
    _value: Int64Array | None

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
        self._source, self._start, self._stop = None, 0, int(ts.shape[0])
        self._ts, self._open, self._high, self._low = ts, open, high, low
        self._close, self._volume, self._value = close, volume, value

    # the columns: spelled out, not a loop over the names, as they are read on the order path
    @property
    def ts(self) -> Int64Array:
        column = self._ts
        if column is None:
            column = self._ts = _whole(self._source).ts[self._start : self._stop]
        return column

    @property
    def open(self) -> Int64Array:
        column = self._open
        if column is None:
            column = self._open = _whole(self._source).open[self._start : self._stop]
        return column

    @property
    def high(self) -> Int64Array:
        column = self._high
        if column is None:
            column = self._high = _whole(self._source).high[self._start : self._stop]
        return column

    @property
    def low(self) -> Int64Array:
        column = self._low
        if column is None:
            column = self._low = _whole(self._source).low[self._start : self._stop]
        return column

    @property
    def close(self) -> Int64Array:
        column = self._close
        if column is None:
            column = self._close = _whole(self._source).close[self._start : self._stop]
        return column

    @property
    def volume(self) -> Int64Array:
        column = self._volume
        if column is None:
            column = self._volume = _whole(self._source).volume[self._start : self._stop]
        return column

    @property
    def value(self) -> Int64Array:
        column = self._value
        if column is None:
            column = self._value = _whole(self._source).value[self._start : self._stop]
        return column

    def __len__(self) -> int:
        return self._stop - self._start

    def __repr__(self) -> str:
        return f"BarArrays({len(self)} bars)"

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

    def bounds(self) -> tuple[BarArrays, int, int]:
        """The arrays these rows are cut from (these arrays themselves when given whole) and the rows' first
        and past-the-last index there. Two windows of one source that start at one row hold the same rows up
        to the shorter one's end: what a value computed over a window once can be looked up by."""
        source = self if self._source is None else self._source
        return source, self._start, self._stop

    def slice(self, start: int, stop: int) -> BarArrays:
        """Rows ``start`` to ``stop`` (as ``[start:stop]`` of each column would take them: negative counts
        from the end, out of range is clipped): a window whose columns are cut when read (see the class)."""
        n = self._stop - self._start
        start = (max(start + n, 0) if start < 0 else min(start, n)) + self._start
        stop = (max(stop + n, 0) if stop < 0 else min(stop, n)) + self._start
        source = self if self._source is None else self._source
        return _BarWindow(source, start, max(start, stop))


class _BarWindow(BarArrays):
    """What :meth:`BarArrays.slice` returns: a class of its own only so that its ``__init__`` takes the
    source and bounds while ``BarArrays(...)`` keeps taking the seven columns."""

    __slots__ = ()

    def __init__(self, source: BarArrays, start: int, stop: int) -> None:
        self._source, self._start, self._stop = source, start, stop
        self._ts = self._open = self._high = self._low = None
        self._close = self._volume = self._value = None


def _whole(source: BarArrays | None) -> BarArrays:
    """A window's source: never None for a window, whose columns are the ones that can be missing."""
    assert source is not None
    return source


def _by_columns(bars: BarArrays) -> tuple[type[BarArrays], tuple[Int64Array, ...]]:
    """Pickled as its seven columns (see maemae.compiled): a window travels as its own rows only."""
    return BarArrays, (bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume, bars.value)


_WINDOW: type[BarArrays] = _BarWindow  # rebuilt as a BarArrays, which copyreg's typing does not foresee
copyreg.pickle(BarArrays, _by_columns)
copyreg.pickle(_WINDOW, _by_columns)

"""Minute bars built from price snapshots, as the live loop sees the market (SPEC 5).

Every refresh gives each stock's latest price and the day's cumulative volume. A minute bar opens at the first
snapshot of its minute, takes the high and low of the snapshots, closes at the last one, and its volume is the
growth of the cumulative volume over the minute. The bar of the minute still running is the *forming* bar:
strategies see it as the latest bar, its close being the live price. When a snapshot arrives in a later
minute the forming bar is complete, and handed to whoever needs completed bars (a simulated exchange in paper
mode trades on them).

Traded value is estimated as price × volume per snapshot: a quote carries the day's volume, not its value.
The closing auction is one bar at the close (15:30), as in the stored data (docs/data.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from maemae.data.bars import BAR_COLUMNS, BarArrays
from maemae.domain.clock_time import KST
from maemae.domain.minute_bar import MinuteBar

MINUTE = timedelta(minutes=1)


class FormingMinutes:
    """Today's completed minute bars of one stock and the one forming."""

    def __init__(self, day_volume_before: int = 0) -> None:
        self.completed: list[MinuteBar] = []
        self.forming: MinuteBar | None = None
        self._volume_seen = day_volume_before  # the cumulative volume at the last snapshot
        self._stored = 0  # how many of the completed bars are in the state store
        self._rewrite = False  # a chart changed a saved bar: the stock's saved bars are written anew
        self._columns: _TodayColumns | None = None  # ``arrays``' columns, kept between calls
        # ``volume_today``'s running total: the volume of the bars of ``completed`` its tail has read
        self._summed: _Unread | None = None
        self._summed_volume = 0

    def update(
        self, price: int, cumulative_volume: int, at: datetime, *, closing: bool = False
    ) -> MinuteBar | None:
        """Take a snapshot at ``at``; returns the bar it completed, if it opened a new minute.

        ``closing`` marks the closing auction's print: it is a bar of its own, dated ``at`` exactly.
        """
        start = at if closing else at.astimezone(KST).replace(second=0, microsecond=0)
        added = max(cumulative_volume - self._volume_seen, 0)
        self._volume_seen = max(cumulative_volume, self._volume_seen)
        done: MinuteBar | None = None
        bar = self.forming
        if bar is not None and start > bar.start:
            self.completed.append(bar)
            done, bar = bar, None
        if bar is None:
            self.forming = MinuteBar(start, price, price, price, price, added, price * added)
        else:
            bar.high, bar.low, bar.close = max(bar.high, price), min(bar.low, price), price
            bar.volume += added
            bar.value += price * added
        return done

    def restore(self, completed: list[MinuteBar], forming: MinuteBar | None, volume_seen: int) -> None:
        """Go on from what an earlier run of the day built and saved (its bars, the one forming at its last
        cycle and the cumulative volume it had seen): a restart trades on the bars of the unbroken day."""
        self.completed = list(completed)
        self.forming = forming
        self._volume_seen = volume_seen
        self._stored = len(self.completed)

    def fill_in(self, chart: list[MinuteBar]) -> None:
        """The broker's bars of whole minutes this run did not see whole (today's before its first start, or
        those of a pause before a restart), put in their place: a chart's bar replaces the one built for the
        same minute (the run saw only part of that minute, at its start or at its stop), the built bars of
        other minutes stay, and the bar still forming stays if its minute is later than the chart's.

        The volume stays whole: the snapshot after a start or a pause put the day's volume until then into
        its bar (the growth of the cumulative volume), so the forming bar keeps only what the chart's bars
        do not hold. A bar already saved that changes makes the next ``take_unsaved`` rewrite the stock's
        saved bars of the day."""
        if not chart:
            return
        last = chart[-1].start
        ours = {b.start: b for b in self.completed}
        forming = self.forming
        if forming is not None and forming.start <= last:  # its minute is over: the chart's bar or the built
            ours[forming.start], forming = forming, None
        stored = {b.start for b in self.completed[: self._stored]}
        ours.update((b.start, b) for b in chart)
        self.completed = sorted(ours.values(), key=lambda b: b.start)
        self.forming = forming
        whole = sum(b.volume for b in self.completed)
        if forming is not None and (volume := max(self._volume_seen - whole, 0)) != forming.volume:
            forming.volume, forming.value = volume, forming.close * volume  # its value as a snapshot's is
        self._volume_seen = max(self._volume_seen, whole + (forming.volume if forming else 0))
        if stored and chart[0].start <= max(stored):  # a saved bar replaced, or bars put before saved ones:
            self._rewrite = True  # the saved ones are no longer the first completed, and are written anew

    def take_unsaved(self) -> tuple[bool, list[MinuteBar]]:
        """The bars completed since the last call, to be saved with the cycle's checkpoint (which ends the run
        if it cannot be written, so a bar handed out here is either stored or rebuilt by the restart); with
        True and every completed bar when a chart changed bars already saved (they replace the saved ones)."""
        rewrite, self._rewrite = self._rewrite, False
        new = self.completed if rewrite else self.completed[self._stored :]
        self._stored = len(self.completed)
        return rewrite, list(new)

    def finish(self) -> MinuteBar | None:
        """The session is over: the forming bar is complete."""
        bar, self.forming = self.forming, None
        if bar is not None:
            self.completed.append(bar)
        return bar

    @property
    def volume_seen(self) -> int:
        """The day's cumulative volume at the last snapshot."""
        return self._volume_seen

    @property
    def last_price(self) -> int | None:
        bar = self.forming or (self.completed[-1] if self.completed else None)
        return bar.close if bar else None

    @property
    def volume_today(self) -> int:
        """The volume of today's bars, the forming one's included.

        The live loop asks it of every stock once a minute: the completed bars' volume is a running total
        extended by the bars completed since the call before (``_Unread``, as ``_TodayColumns`` follows
        them), not summed anew."""
        summed = self._summed
        if summed is None or not summed.follows(self.completed):
            summed = self._summed = _Unread(self.completed)
            self._summed_volume = 0
        self._summed_volume += sum(bar.volume for bar in summed.take())
        return self._summed_volume + (self.forming.volume if self.forming else 0)

    def arrays(self, before: BarArrays) -> BarArrays:
        """``before`` (yesterday's minute bars) followed by today's bars, the forming one last: read-only, and
        never changed once handed out (a strategy may keep them)."""
        columns = self._columns
        if columns is None or not columns.follows(before, self.completed):
            columns = self._columns = _TodayColumns(before, self.completed)
        return columns.arrays(self.forming)


def _row(bar: MinuteBar) -> tuple[int, int, int, int, int, int, int]:
    """A bar's values in ``BAR_COLUMNS``' order, its start as nanoseconds since the epoch."""
    ts = int(bar.start.timestamp() * 1_000_000) * 1_000
    return ts, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.value


class _TodayColumns:
    """Yesterday's bars and today's completed ones as columns, kept between cycles and extended by the bars
    completed since: the live loop asks every stock's arrays at every cycle, and building them anew from the
    bar objects each time cost a cycle in proportion to the bars of the day so far (a fifth of a replayed
    day's run was spent so).

    It follows one list of completed bars, which ``FormingMinutes`` only appends to (``update``, ``finish``)
    or replaces whole (``restore``, ``fill_in``): another list, or another ``before``, means new columns.
    A completed bar does not change (the forming one is the bar still taking snapshots)."""

    def __init__(self, before: BarArrays, completed: list[MinuteBar]) -> None:
        self.before = before
        self._unconverted = _Unread(completed)  # the completed bars not in ``_rows`` yet
        self._filled = len(before)  # rows of ``_rows`` in use: ``before``'s, then the converted bars'
        self._rows = np.empty((len(BAR_COLUMNS), self._filled + 64), dtype=np.int64)
        for index, name in enumerate(BAR_COLUMNS):
            self._rows[index, : self._filled] = getattr(before, name)
        self._last: BarArrays | None = None  # the arrays handed out last, and the forming row they end with
        self._last_key: tuple[int, tuple[int, ...] | None] = (-1, None)

    def follows(self, before: BarArrays, completed: list[MinuteBar]) -> bool:
        """Whether these columns go on from ``before`` and ``completed`` (the same objects, not shortened)."""
        return self.before is before and self._unconverted.follows(completed)

    def arrays(self, forming: MinuteBar | None) -> BarArrays:
        """The columns with ``forming`` as the last row: a copy made read-only, so the arrays a strategy holds
        keep their values while the forming bar goes on (the same arrays again when nothing changed)."""
        self._extend()
        filled = self._filled
        row = _row(forming) if forming is not None else None
        key = (filled, row)
        if self._last is not None and key == self._last_key:
            return self._last
        if row is None and self._unconverted.read == 0:
            self._last, self._last_key = self.before, key
            return self.before
        out = np.empty((len(BAR_COLUMNS), filled + (row is not None)), dtype=np.int64)
        out[:, :filled] = self._rows[:, :filled]
        if row is not None:
            out[:, filled] = row
        out.flags.writeable = False  # its rows, the columns, are views that cannot be made writeable
        self._last, self._last_key = BarArrays(*out), key
        return self._last

    def _extend(self) -> None:
        """Convert the bars completed since the last call, once each, growing the rows by doubling."""
        new = self._unconverted.take()
        if not new:
            return
        end = self._filled + len(new)
        if end > self._rows.shape[1]:
            grown = np.empty((len(BAR_COLUMNS), max(end, 2 * self._rows.shape[1])), dtype=np.int64)
            grown[:, : self._filled] = self._rows[:, : self._filled]
            self._rows = grown
        self._rows[:, self._filled : end] = np.array([_row(b) for b in new], dtype=np.int64).T
        self._filled = end


class _Unread:
    """What a reader has not read yet of a list that its owner only appends to or replaces whole
    (``FormingMinutes.completed``): ``volume_today``'s running total and ``_TodayColumns``' rows each follow
    the completed bars so, and start again from a new list's first bar."""

    def __init__(self, items: list[MinuteBar]) -> None:
        self.items = items
        self.read = 0  # how many of ``items`` were taken

    def follows(self, items: list[MinuteBar]) -> bool:
        """Whether ``items`` is the list followed, not shortened since (else a new reader starts over)."""
        return items is self.items and len(items) >= self.read

    def take(self) -> list[MinuteBar]:
        """The items added since the last call."""
        new = self.items[self.read :]
        self.read = len(self.items)
        return new

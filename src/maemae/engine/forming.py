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
        return sum(b.volume for b in self.completed) + (self.forming.volume if self.forming else 0)

    def arrays(self, before: BarArrays) -> BarArrays:
        """``before`` (yesterday's minute bars) followed by today's bars, the forming one last."""
        today = [*self.completed, *([self.forming] if self.forming else [])]
        if not today:
            return before
        columns = {
            "ts": np.array([int(b.start.timestamp() * 1_000_000) * 1_000 for b in today], dtype=np.int64),
            "open": np.array([b.open for b in today], dtype=np.int64),
            "high": np.array([b.high for b in today], dtype=np.int64),
            "low": np.array([b.low for b in today], dtype=np.int64),
            "close": np.array([b.close for b in today], dtype=np.int64),
            "volume": np.array([b.volume for b in today], dtype=np.int64),
            "value": np.array([b.value for b in today], dtype=np.int64),
        }
        return BarArrays(*(np.concatenate([getattr(before, n), columns[n]]) for n in BAR_COLUMNS))

"""``maemae data fetch`` and ``maemae data update``: bars from a source into the store, checked, resumable.

A run is a set of (code, first day, last day) requests. Each code is fetched (within the source's request
rate), checked (``data.quality``: bad rows quarantined with the reason, the rest merged), and then marked done
in the run's state file, so an interrupted run started again with the same request skips what it finished and
fetches the rest. ``update`` asks, per code, only for the sessions after the last stored one: running it twice
fetches nothing the second time. Every run writes a report (``quality/<run>.json``) of what was stored,
quarantined and noticed per code.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from maemae.data.bars import BAR_COLUMNS, BarArrays, Timeframe
from maemae.data.instruments import Instrument
from maemae.data.quality import check_daily, check_minutes
from maemae.data.sources.base import FACTOR_COLUMN, BarSource, MinuteSource, SourceError
from maemae.data.staging import StagedFiles
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Market
from maemae.errors import ConfigError
from maemae.krx.calendar import TradingCalendar
from maemae.pacing import TokenBucket

Ranges = Mapping[StockCode, tuple[date, date]]
Progress = Callable[[int, int], None]
FAILED_SHOWN = 5  # codes named in the line of a run with failures; the report lists them all


@dataclass(slots=True)
class CodeResult:
    code: str
    first: str
    last: str
    stored: int = 0
    quarantined: int = 0
    notes: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class RunReport:
    source: str
    started: str
    results: list[CodeResult] = field(default_factory=list)
    resumed: int = 0  # codes a previous, interrupted run had already done
    report_path: str | None = None

    @property
    def failed(self) -> list[CodeResult]:
        return [r for r in self.results if r.error]

    def failure_line(self) -> str:
        """The failed codes in one line: the first few by name, and how many more there are, so a cut list
        does not read as the whole."""
        failed = [result.code for result in self.failed]
        shown = ", ".join(failed[:FAILED_SHOWN])
        more = f" and {len(failed) - FAILED_SHOWN} more" if len(failed) > FAILED_SHOWN else ""
        return (
            f"{len(failed)} code(s) failed ({shown}{more}; reasons in the report): run the same command "
            "again to fetch just those"
        )

    def summary(self) -> str:
        stored = sum(r.stored for r in self.results)
        quarantined = sum(r.quarantined for r in self.results)
        noted = sum(1 for r in self.results if r.notes)
        resumed = f", {self.resumed} done by the interrupted run before" if self.resumed else ""
        return (
            f"{self.source}: {len(self.results)} code(s){resumed}; {stored:,} bars stored, "
            f"{quarantined:,} quarantined, {noted} code(s) with notes, {len(self.failed)} failed"
        )


class Fetcher:
    def __init__(
        self,
        store: BarStore,
        source: BarSource,
        calendar: TradingCalendar,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        progress: Progress | None = None,
        timeframe: Timeframe = Timeframe.DAY,
    ) -> None:
        if timeframe is Timeframe.MINUTE and not isinstance(source, MinuteSource):
            raise ConfigError(
                f"--timeframe minute: {source.name} has no minute bars (use --source kis or creon)"
            )
        self.store, self.source, self.calendar = store, source, calendar
        self.timeframe = timeframe
        rate = source.requests_per_second
        self.limit = TokenBucket(rate, 1, monotonic, sleep) if rate > 0 else None
        self.progress = progress

    # ----- what to fetch
    def update_ranges(
        self, codes: list[StockCode], start: date, end: date
    ) -> dict[StockCode, tuple[date, date]]:
        """Per code, the sessions after its last stored day (from ``start`` when none) up to ``end``."""
        instruments = self.store.read_instruments()
        ranges: dict[StockCode, tuple[date, date]] = {}
        for code in codes:
            last = self.store.last_day(code, self.timeframe)
            first = self.calendar.next_session(last) if last else start
            item = instruments.get(code)
            until = min(end, item.delisted) if item and item.delisted else end
            if first <= until:
                ranges[code] = (first, until)
        return ranges

    def listed_codes(self, market: Market | None, on: date) -> list[StockCode]:
        """The source's listing merged into the store's instruments; the codes of ``market`` (None: all)."""
        found = self.source.instruments(market, on)
        known = self.store.read_instruments()
        known.update({item.code: item for item in found})
        self.store.write_instruments(list(known.values()))
        return [item.code for item in found]

    # ----- the run
    def run(self, ranges: Ranges, *, now: datetime | None = None) -> RunReport:
        started = now or datetime.now(KST)
        report = RunReport(self.source.name, started.isoformat(timespec="seconds"))
        if not ranges:
            return report
        state_path = self.store.root / "runs" / f"{self._key(ranges)}.jsonl"
        done = _read_state(state_path)
        report.resumed = len(done)
        instruments = self.store.read_instruments()
        for position, (code, (first, last)) in enumerate(sorted(ranges.items())):
            if str(code) in done:
                report.results.append(CodeResult(**done[str(code)]))
            else:
                result = self._one(code, first, last, instruments.get(code))
                report.results.append(result)
                if result.error is None:
                    done[str(code)] = asdict(result)
                    _append_line(state_path, done[str(code)])
            if self.progress is not None:
                self.progress(position + 1, len(ranges))
        report_path = self.store.root / "quality" / f"{started:%Y%m%dT%H%M%S}-{self.source.name}.json"
        _write_json(report_path, {"summary": report.summary(), **asdict(report)})
        report.report_path = str(report_path)
        if not report.failed:
            state_path.unlink(missing_ok=True)
        return report

    def _one(self, code: StockCode, first: date, last: date, instrument: Instrument | None) -> CodeResult:
        if self.timeframe is Timeframe.MINUTE:
            return self._minutes(code, first, last, instrument)
        result = CodeResult(str(code), first.isoformat(), last.isoformat())
        try:
            self._pace()
            bars = self.source.daily(code, first, last)
        except SourceError as error:
            result.error = str(error)
            return result
        if bars.frame.empty:
            result.notes.append(f"{self.source.name} has no bars of {code} from {first} to {last}")
            return result
        before = self.store.read_arrays(code, Timeframe.DAY, end=self.calendar.previous_session(first))
        previous_close = int(bars_close[-1]) if len(bars_close := before.close) else None
        quality = check_daily(bars, instrument, previous_close, self.calendar, first, last)
        kept = quality.kept
        # a code's bars, factors and quarantined rows together, or none of them (Ctrl-C, a fault)
        with StagedFiles() as staged:
            if len(quality.quarantined):
                self.store.quarantine(self.source.name, code, quality.quarantined, staged)
            if len(kept):
                self.store.merge(code, Timeframe.DAY, BarArrays.from_frame(kept[list(BAR_COLUMNS)]), staged)
                if FACTOR_COLUMN in kept.columns:
                    self.store.merge_factors(code, kept[["ts", FACTOR_COLUMN]], staged)
            staged.commit()
        result.stored, result.quarantined, result.notes = len(kept), len(quality.quarantined), quality.notes
        return result

    def _minutes(self, code: StockCode, first: date, last: date, instrument: Instrument | None) -> CodeResult:
        """Minute bars day by day (brokers give one day a request); each day checked and merged alone."""
        assert isinstance(self.source, MinuteSource)
        result = CodeResult(str(code), first.isoformat(), last.isoformat())
        for day in self.calendar.sessions(first, last):
            try:
                self._pace()
                bars = self.source.minutes(code, day)
            except SourceError as error:
                result.error = str(error)
                return result
            if bars.frame.empty:
                result.notes.append(f"{day}: no minute bars")
                continue
            quality = check_minutes(bars, instrument, self.calendar, day)
            with StagedFiles() as staged:  # a Ctrl-C noted meanwhile stops the run before this day
                if len(quality.quarantined):
                    self.store.quarantine(self.source.name, code, quality.quarantined, staged)
                if len(quality.kept):
                    self.store.merge(code, Timeframe.MINUTE, BarArrays.from_frame(quality.kept), staged)
                staged.commit()
            result.stored += len(quality.kept)
            result.quarantined += len(quality.quarantined)
        return result

    def _pace(self) -> None:
        if self.limit is not None:  # a source that paces itself (a broker adapter) has none
            self.limit.take()

    def _key(self, ranges: Ranges) -> str:
        text = json.dumps(
            [
                self.source.name,
                self.timeframe.value,
                sorted((str(c), a.isoformat(), b.isoformat()) for c, (a, b) in ranges.items()),
            ]
        )
        return hashlib.sha1(text.encode()).hexdigest()[:16]


def last_complete_session(calendar: TradingCalendar, now: datetime) -> date:
    """The latest session whose daily bar is final: today after 16:00 KST, else the session before."""
    today = now.astimezone(KST).date()
    if calendar.is_session(today) and now.astimezone(KST).hour >= 16:
        return today
    return calendar.previous_session(today)


def _read_state(path: Path) -> dict[str, dict[str, Any]]:
    """The codes an interrupted run finished: one JSON line each (a torn last line is ignored)."""
    if not path.exists():
        return {}
    done: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(result, dict) and "code" in result:
            done[str(result["code"])] = result
    return done


def _append_line(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
        sink.flush()


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    temporary.replace(path)

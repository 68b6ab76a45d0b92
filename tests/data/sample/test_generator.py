import hashlib
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pytest

from maemae.data.bars import BAR_COLUMNS, Timeframe
from maemae.data.sample import SAFE_ASSET_CODE, SampleSummary, generate_sample_market
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.enums import InstrumentType, Market
from maemae.errors import DataError
from maemae.krx.calendar import TradingCalendar, default_calendar
from maemae.krx.limits import price_limits
from maemae.krx.sessions import session_schedule
from maemae.krx.ticks import tick_size_array
from tests.data.sample.conftest import kst_dates, split_days

PRICES = ("open", "high", "low", "close")


def _check_ticks_and_limits(root: Path) -> tuple[int, int, int]:
    """Asserts every minute price is on its day's tick grid (for the stock's type and market) and inside
    the limits set by the previous daily close; returns the stock-days checked and those closing at the
    upper and at the lower limit."""
    store = BarStore(root)
    instruments = store.read_instruments()
    checked = ups = downs = 0
    for code in store.codes(Timeframe.MINUTE):
        kind, market = instruments[code].instrument_type, instruments[code].market
        daily = store.read_arrays(code, Timeframe.DAY)
        for i, (day, bars) in enumerate(split_days(store.read_arrays(code, Timeframe.MINUTE))):
            for column in PRICES:
                prices = getattr(bars, column)
                assert np.all(prices % tick_size_array(prices, day, kind, market) == 0), (code, day, column)
            if i > 0:
                limits = price_limits(int(daily.close[i - 1]), day, kind, market)
                assert limits.lower <= bars.low.min(), (code, day)
                assert bars.high.max() <= limits.upper, (code, day)
                ups += int(bars.close[-1] == limits.upper)
                downs += int(bars.close[-1] == limits.lower)
            checked += 1
    return checked, ups, downs


def _digest(root: Path) -> str:
    store = BarStore(root)
    digest = hashlib.sha256()
    for timeframe in (Timeframe.DAY, Timeframe.MINUTE):
        for code in store.codes(timeframe):
            digest.update(str(code).encode())
            bars = store.read_arrays(code, timeframe)
            for name in BAR_COLUMNS:
                digest.update(np.ascontiguousarray(getattr(bars, name)).tobytes())
    digest.update(repr(sorted(store.read_instruments().items())).encode())
    return digest.hexdigest()


def test_sample_when_generated_prices_on_tick_and_inside_previous_close_limits(
    sample_market: tuple[Path, SampleSummary],
) -> None:
    root, summary = sample_market
    checked, ups, downs = _check_ticks_and_limits(root)
    assert checked == summary.instruments * summary.sessions
    assert (ups, downs) == (summary.limit_up_days, summary.limit_down_days)


def test_sample_when_generated_bars_are_consistent_with_volume_and_value(
    sample_market: tuple[Path, SampleSummary],
) -> None:
    root, _ = sample_market
    store = BarStore(root)
    for timeframe in (Timeframe.DAY, Timeframe.MINUTE):
        for code in store.codes(timeframe):
            bars = store.read_arrays(code, timeframe)
            assert np.all(bars.high >= np.maximum(bars.open, bars.close))
            assert np.all(bars.low <= np.minimum(bars.open, bars.close))
            assert np.all(bars.low > 0)
            assert np.all(bars.volume >= 0)
            assert np.all(bars.value >= bars.volume * bars.low)
            assert np.all(bars.value <= bars.volume * bars.high)
            assert bars.volume.sum() > 0


def test_sample_when_generated_minute_bars_follow_session_grid_and_aggregate_to_daily(
    sample_market: tuple[Path, SampleSummary],
) -> None:
    root, summary = sample_market
    store = BarStore(root)
    calendar = default_calendar()
    sessions = calendar.sessions(date(2025, 12, 1), date(2025, 12, 30))[-12:]
    for code in store.codes(Timeframe.DAY):
        daily = store.read_arrays(code, Timeframe.DAY)
        assert list(kst_dates(daily.ts)) == sessions
        assert np.all(daily.ts % (24 * 3600 * 10**9) == 15 * 3600 * 10**9)  # 00:00 KST is 15:00 UTC
        days = list(split_days(store.read_arrays(code, Timeframe.MINUTE)))
        assert [day for day, _ in days] == sessions
        for i, (day, bars) in enumerate(days):
            schedule = session_schedule(day, calendar)
            assert schedule is not None
            expected = np.array([int(t.timestamp()) * 10**9 for t in schedule.minute_bar_starts()])
            np.testing.assert_array_equal(bars.ts, expected)
            assert len(bars) == 381
            assert bars.open[-1] == bars.high[-1] == bars.low[-1] == bars.close[-1]  # the closing auction
            aggregate = (
                bars.open[0],
                bars.high.max(),
                bars.low.min(),
                bars.close[-1],
                bars.volume.sum(),
                bars.value.sum(),
            )
            assert tuple(getattr(daily, name)[i] for name in BAR_COLUMNS[1:]) == aggregate
    assert summary.sessions == 12
    assert summary.minute_bars == summary.instruments * 12 * 381


def test_sample_when_days_include_late_opens_bars_start_at_the_late_open(tmp_path: Path) -> None:
    calendar = default_calendar()
    generate_sample_market(tmp_path / "new_year", stocks=2, days=3, end=date(2025, 1, 3))
    generate_sample_market(tmp_path / "csat", stocks=2, days=3, end=date(2025, 11, 14))
    expectations = {
        date(2025, 1, 2): (time(10, 0), time(15, 19), time(15, 30), 321),  # first session of the year
        date(2025, 11, 13): (time(10, 0), time(16, 19), time(16, 30), 381),  # CSAT day: all one hour later
    }
    for name in ("new_year", "csat"):
        store = BarStore(tmp_path / name)
        for code in store.codes(Timeframe.MINUTE):
            for day, bars in split_days(store.read_arrays(code, Timeframe.MINUTE)):
                clock = [datetime.fromtimestamp(t / 1e9, KST).time() for t in bars.ts]
                if day in expectations:
                    first, last_continuous, auction, count = expectations[day]
                    assert (clock[0], clock[-2], clock[-1], len(bars)) == (
                        first,
                        last_continuous,
                        auction,
                        count,
                    )
                else:
                    schedule = session_schedule(day, calendar)
                    assert schedule is not None
                    assert (clock[0], len(bars)) == (time(9, 0), 381)


def test_sample_when_limit_days_forced_they_close_locked_on_thin_volume(
    sample_market: tuple[Path, SampleSummary],
) -> None:
    root, summary = sample_market
    store = BarStore(root)
    instruments = store.read_instruments()
    locked_days = {"up": 0, "down": 0}
    for code in store.codes(Timeframe.DAY):
        kind, market = instruments[code].instrument_type, instruments[code].market
        daily = store.read_arrays(code, Timeframe.DAY)
        for i, (day, bars) in enumerate(split_days(store.read_arrays(code, Timeframe.MINUTE))):
            if i == 0:
                continue
            limits = price_limits(int(daily.close[i - 1]), day, kind, market)
            for side, limit in (("up", limits.upper), ("down", limits.lower)):
                if daily.close[i] != limit:
                    continue
                locked_days[side] += 1
                continuous = bars.slice(0, len(bars) - 1)
                at_limit = (continuous.high == limit) & (continuous.low == limit)
                run = len(at_limit) - int(np.flatnonzero(~at_limit)[-1]) - 1 if not at_limit.all() else 0
                assert run >= 30, (code, day, side)  # locked for at least the last half hour
                locked_volume = np.median(continuous.volume[-run:])
                assert locked_volume * 5 < np.median(continuous.volume[:-run]), (code, day, side)
    assert locked_days["up"] >= 3
    assert locked_days["down"] >= 3
    assert (summary.limit_up_days, summary.limit_down_days) == (locked_days["up"], locked_days["down"])


def test_sample_when_generated_opens_gap_from_previous_close(
    sample_market: tuple[Path, SampleSummary],
) -> None:
    root, _ = sample_market
    store = BarStore(root)
    gaps = 0
    for code in store.codes(Timeframe.DAY):
        daily = store.read_arrays(code, Timeframe.DAY)
        gaps += int(np.count_nonzero(daily.open[1:] != daily.close[:-1]))
    assert gaps >= 20


def test_sample_when_generated_volume_is_u_shaped_through_the_day(
    sample_market: tuple[Path, SampleSummary],
) -> None:
    root, _ = sample_market
    store = BarStore(root)
    profile = np.zeros(380)
    for code in store.codes(Timeframe.MINUTE):
        for _, bars in split_days(store.read_arrays(code, Timeframe.MINUTE)):
            profile += bars.volume[:-1] / bars.volume[:-1].sum()
    assert profile[:30].mean() > 2 * profile[175:205].mean()
    assert profile[-30:].mean() > 2 * profile[175:205].mean()


def test_sample_when_generated_holds_the_safe_asset_etf_with_low_volatility(
    sample_market: tuple[Path, SampleSummary],
) -> None:
    root, summary = sample_market
    store = BarStore(root)
    instruments = store.read_instruments()
    assert summary.safe_asset == SAFE_ASSET_CODE
    etf = instruments[SAFE_ASSET_CODE]
    assert etf.instrument_type is InstrumentType.ETF
    assert [i.instrument_type for i in instruments.values()].count(InstrumentType.STOCK) == 5
    assert set(store.codes(Timeframe.DAY)) == set(store.codes(Timeframe.MINUTE)) == set(instruments)
    etf_close = store.read_arrays(SAFE_ASSET_CODE, Timeframe.DAY).close
    assert np.abs(np.diff(np.log(etf_close))).max() < 0.003
    assert summary.instruments == 6


def test_sample_when_same_seed_gives_identical_arrays_and_other_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 21), ("b", 21), ("c", 22)):
        generate_sample_market(tmp_path / name, stocks=3, days=4, seed=seed)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


@pytest.mark.parametrize(
    "end",
    [date(2022, 6, 30), date(2023, 1, 27), date(2023, 12, 8)],
    ids=["old-tables", "reform", "etf-reform"],
)
def test_sample_when_dates_before_tick_reforms_prices_follow_each_days_tables(
    tmp_path: Path, end: date
) -> None:
    summary = generate_sample_market(tmp_path, stocks=40, days=4, end=end, seed=9, limit_events=10)
    store = BarStore(tmp_path)
    assert {i.market for i in store.read_instruments().values()} == {Market.KOSPI, Market.KOSDAQ}
    checked, ups, downs = _check_ticks_and_limits(tmp_path)
    assert checked == summary.instruments * 4
    assert (ups, downs) == (summary.limit_up_days, summary.limit_down_days)
    assert ups >= 10
    assert downs >= 10


def test_sample_when_calendar_given_uses_its_sessions(tmp_path: Path) -> None:
    calendar = TradingCalendar(extra_closures=[date(2025, 12, 29)])
    summary = generate_sample_market(tmp_path, stocks=2, days=3, calendar=calendar)
    daily = BarStore(tmp_path).read_arrays(SAFE_ASSET_CODE, Timeframe.DAY)
    assert list(kst_dates(daily.ts)) == [date(2025, 12, 24), date(2025, 12, 26), date(2025, 12, 30)]
    assert (summary.first_day, summary.last_day) == (date(2025, 12, 24), date(2025, 12, 30))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"stocks": 0}, "--stocks 0: expected 1..3000"),
        ({"days": 1}, "--days 1: expected 2..2000"),
        ({"seed": -1}, "--seed -1: expected 0 or more"),
        ({"limit_events": -1}, "limit_events -1: expected 0 or more"),
        ({"end": date(2030, 1, 2)}, "--end 2030-01-02: "),
        ({"end": date(2006, 3, 2), "days": 100}, "--days 100: the trading calendar has only"),
    ],
)
def test_sample_when_arguments_bad_raises_one_line_data_error_and_writes_nothing(
    tmp_path: Path, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(DataError) as raised:
        generate_sample_market(tmp_path / "market", **arguments)  # type: ignore[arg-type]
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "market").exists()

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maemae.cli import main
from maemae.data.bars import Timeframe
from maemae.data.sample import SAFE_ASSET_CODE, SampleSummary, generate_sample_market
from maemae.data.store import BarStore
from maemae.domain.enums import InstrumentType
from maemae.krx.calendar import default_calendar
from maemae.krx.limits import price_limits
from maemae.krx.sessions import session_schedule
from maemae.krx.ticks import tick_size_array


def test_sample_when_generated_every_price_on_tick_and_inside_limits(
    small_market: tuple[Path, SampleSummary],
) -> None:
    root, _ = small_market
    store = BarStore(root)
    instruments = store.read_instruments()
    for code in store.codes(Timeframe.DAY):
        kind = instruments[code].instrument_type
        daily = store.read_arrays(code, Timeframe.DAY)
        minute = store.read_arrays(code, Timeframe.MINUTE)
        days = pd.to_datetime(daily.ts, utc=True).tz_convert("Asia/Seoul").date
        for i, day in enumerate(days):
            assert np.all(minute.high >= np.maximum(minute.open, minute.close))
            assert np.all(minute.low <= np.minimum(minute.open, minute.close))
            if i > 0:
                limits = price_limits(int(daily.close[i - 1]), day, kind)
                assert limits.lower <= daily.low[i] <= daily.high[i] <= limits.upper
        for column in ("open", "high", "low", "close"):
            prices = getattr(minute, column)
            assert np.all(prices % tick_size_array(prices, days[-1], kind) == 0)
        assert np.all(minute.volume >= 0)


def test_sample_when_generated_minute_bars_sit_on_session_grid_and_sum_to_daily(
    small_market: tuple[Path, SampleSummary],
) -> None:
    root, summary = small_market
    store = BarStore(root)
    calendar = default_calendar()
    code = store.codes(Timeframe.DAY)[0]
    minute = store.read_frame(code, Timeframe.MINUTE)
    daily = store.read_arrays(code, Timeframe.DAY)
    for i, (day, bars) in enumerate(minute.groupby(minute["ts"].dt.date)):
        schedule = session_schedule(day, calendar)
        assert schedule is not None
        assert bars["ts"].tolist() == [pd.Timestamp(t) for t in schedule.minute_bar_starts()]
        assert daily.open[i] == bars["open"].iloc[0]
        assert daily.high[i] == bars["high"].max()
        assert daily.low[i] == bars["low"].min()
        assert daily.close[i] == bars["close"].iloc[-1]
        assert daily.volume[i] == bars["volume"].sum()
        assert daily.value[i] == bars["value"].sum()
    assert len(daily) == summary.sessions == 12


def test_sample_when_generated_has_locked_limit_days_and_safe_asset_etf(
    small_market: tuple[Path, SampleSummary],
) -> None:
    root, summary = small_market
    store = BarStore(root)
    ups = downs = 0
    for code in store.codes(Timeframe.DAY):
        daily = store.read_arrays(code, Timeframe.DAY)
        days = pd.to_datetime(daily.ts, utc=True).tz_convert("Asia/Seoul").date
        for i in range(1, len(daily)):
            limits = price_limits(int(daily.close[i - 1]), days[i])
            ups += int(daily.close[i] == limits.upper)
            downs += int(daily.close[i] == limits.lower)
    assert ups >= 3
    assert downs >= 3
    assert store.read_instruments()[SAFE_ASSET_CODE].instrument_type is InstrumentType.ETF
    assert summary.instruments == 7


def test_sample_when_same_seed_gives_identical_data(tmp_path: Path) -> None:
    def digest(root: Path) -> list[int]:
        store = BarStore(root)
        return [
            hash(store.read_arrays(c, Timeframe.MINUTE).close.tobytes())
            for c in store.codes(Timeframe.MINUTE)
        ]

    generate_sample_market(tmp_path / "a", stocks=3, days=3, seed=11)
    generate_sample_market(tmp_path / "b", stocks=3, days=3, seed=11)
    generate_sample_market(tmp_path / "c", stocks=3, days=3, seed=12)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_data_info_when_json_lists_every_series(
    small_market: tuple[Path, SampleSummary], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = small_market
    assert main(["data", "info", "--dir", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 14
    etf = next(row for row in rows if row["code"] == "357870" and row["timeframe"] == "day")
    assert etf["bars"] == 12


def test_data_sample_when_bad_size_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "sample", "--dir", str(tmp_path), "--stocks", "0"]) == 2
    assert "--stocks 0: expected 1..3000" in capsys.readouterr().err

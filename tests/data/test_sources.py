"""``maemae data fetch|update`` from pykrx and FinanceDataReader, answered from recorded replies: raw prices
and adjustment factors stored, bad rows quarantined with the reason, what is odd reported, every failure of a
source a one-line error for that code, the update idempotent and an interrupted run resumable."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maemae.cli import main
from maemae.data.bars import Timeframe
from maemae.data.sources.base import SourceError
from maemae.data.sources.fdr_source import FdrSource
from maemae.data.sources.pykrx_source import PykrxSource
from maemae.data.store import BarStore
from maemae.data.update import Fetcher
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.errors import ConfigError
from maemae.krx.calendar import default_calendar
from tests.data.recorded import RecordedFdr, RecordedPykrx

SAMSUNG, KAKAO = StockCode("005930"), StockCode("035720")


def no_wait(seconds: float) -> None:
    del seconds


def fetcher(store: BarStore, source: object) -> Fetcher:
    return Fetcher(store, source, default_calendar(), sleep=no_wait)  # type: ignore[arg-type]


def test_pykrx_when_fetched_then_raw_prices_stored_bad_rows_quarantined_and_report_written(
    tmp_path: Path,
) -> None:
    store = BarStore(tmp_path)
    report = fetcher(store, PykrxSource(RecordedPykrx())).run(
        {SAMSUNG: (date(2025, 12, 1), date(2025, 12, 12))}
    )
    stored = store.read_frame(SAMSUNG, Timeframe.DAY)
    assert len(stored) == 9  # 11 recorded rows: a Saturday and a close off the tick grid quarantined
    assert stored["close"].iloc[0] == 55_500
    assert str(stored["ts"].iloc[0].tz) == "Asia/Seoul"
    quarantined = pd.read_csv(tmp_path / "quarantine" / "pykrx" / "005930.csv")
    assert sorted(quarantined["reason"]) == ["a price is off the tick grid", "not a KRX trading day"]
    (result,) = report.results
    assert (result.stored, result.quarantined) == (9, 2)
    assert any("without trades" in note and "2025-12-08" in note for note in result.notes)
    assert any("1 trading day(s) missing, first 2025-12-04" in note for note in result.notes)
    written = json.loads(Path(str(report.report_path)).read_text(encoding="utf-8"))
    assert written["summary"] == report.summary()
    assert not list((tmp_path / "runs").glob("*.jsonl"))  # a finished run leaves no state behind


def test_fetch_when_stopped_before_a_code_is_stored_then_its_rows_are_not_quarantined_until_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code's quarantined rows are written with its bars or not at all: they were appended at once, so a
    fetch stopped before the bars were stored (Ctrl-C, a full disk) and resumed quarantined them twice."""
    store = BarStore(tmp_path)
    real = BarStore.merge

    def stopped(self: BarStore, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(BarStore, "merge", stopped)
    wanted = {SAMSUNG: (date(2025, 12, 1), date(2025, 12, 12))}
    with pytest.raises(KeyboardInterrupt):
        fetcher(store, PykrxSource(RecordedPykrx())).run(wanted)
    assert not (tmp_path / "quarantine").exists()
    monkeypatch.setattr(BarStore, "merge", real)
    fetcher(store, PykrxSource(RecordedPykrx())).run(wanted)  # resumed: the code again
    quarantined = pd.read_csv(tmp_path / "quarantine" / "pykrx" / "005930.csv")
    assert sorted(quarantined["reason"]) == ["a price is off the tick grid", "not a KRX trading day"]
    fetcher(store, PykrxSource(RecordedPykrx())).run(wanted)  # a later fetch of the same days adds its own
    assert len(pd.read_csv(tmp_path / "quarantine" / "pykrx" / "005930.csv")) == 4
    assert not [path for path in tmp_path.rglob(".*")]  # no temporary file left


def test_pykrx_when_a_split_happened_then_factors_stored_and_the_jump_explained_not_quarantined(
    tmp_path: Path,
) -> None:
    store = BarStore(tmp_path)
    report = fetcher(store, PykrxSource(RecordedPykrx())).run({KAKAO: (date(2021, 4, 8), date(2021, 4, 16))})
    closes = store.read_frame(KAKAO, Timeframe.DAY)["close"].tolist()
    assert closes == [560_000, 562_000, 112_000, 110_500]  # raw, as traded
    factors = store.read_factors(KAKAO)["factor"].to_numpy()
    assert np.allclose(factors, [0.2, 0.2, 1.0, 1.0])
    (result,) = report.results
    assert result.quarantined == 0
    assert any("2021-04-15: close moved 80%, explained by an adjustment" in note for note in result.notes)
    assert any("3 trading day(s) missing, first 2021-04-12" in note for note in result.notes)


def test_fdr_listing_when_fetched_then_types_markets_and_delisting_dates_stored(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    codes = fetcher(store, FdrSource(RecordedFdr())).listed_codes(None, date(2025, 12, 12))
    instruments = store.read_instruments()
    assert set(codes) == {"005930", "005935", "035720", "440790", "123450", "069500"}  # KONEX left out
    assert instruments[StockCode("005935")].instrument_type is InstrumentType.PREFERRED
    assert instruments[StockCode("440790")].instrument_type is InstrumentType.SPAC
    assert instruments[StockCode("069500")].instrument_type is InstrumentType.ETF
    gone = instruments[StockCode("123450")]
    assert (gone.market, gone.listed, gone.delisted) == (Market.KOSDAQ, date(2015, 3, 2), date(2022, 6, 30))
    assert not gone.is_listed_on(date(2023, 1, 2))  # a past universe will not pick it after it left
    # an update asks for a delisted code only up to its last day
    ranges = fetcher(store, FdrSource(RecordedFdr())).update_ranges(
        [gone.code], date(2022, 1, 3), date(2025, 12, 12)
    )
    assert ranges == {gone.code: (date(2022, 1, 3), date(2022, 6, 30))}


def test_update_when_run_twice_then_the_second_run_fetches_nothing(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    library = RecordedFdr()
    first = fetcher(store, FdrSource(library))
    ranges = first.update_ranges([SAMSUNG], date(2025, 12, 1), date(2025, 12, 5))
    assert ranges == {SAMSUNG: (date(2025, 12, 1), date(2025, 12, 5))}
    assert first.run(ranges).results[0].stored == 5
    before = store.read_frame(SAMSUNG, Timeframe.DAY)
    again = fetcher(store, FdrSource(library))
    assert again.update_ranges([SAMSUNG], date(2025, 12, 1), date(2025, 12, 5)) == {}
    assert again.run({}).results == []
    assert library.calls["reader:005930"] == 1
    pd.testing.assert_frame_equal(store.read_frame(SAMSUNG, Timeframe.DAY), before)
    # a later end asks only for the sessions after the last stored day
    later = again.update_ranges([SAMSUNG], date(2025, 12, 1), date(2025, 12, 12))
    assert later == {SAMSUNG: (date(2025, 12, 8), date(2025, 12, 12))}


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("http", "KRX did not answer (ConnectionError"),
        ("blocked", "unreadable reply from KRX"),
        ("columns", "the reply has no column(s) 시가"),
    ],
)
def test_source_when_it_fails_then_that_code_fails_in_one_line_and_the_rest_is_stored(
    tmp_path: Path, fault: str, expected: str
) -> None:
    store = BarStore(tmp_path)
    library = RecordedPykrx()
    library.faults.next[str(SAMSUNG)] = fault
    ranges = {SAMSUNG: (date(2025, 12, 1), date(2025, 12, 12)), KAKAO: (date(2021, 4, 8), date(2021, 4, 16))}
    report = fetcher(store, PykrxSource(library)).run(ranges)
    failed = {r.code: r.error for r in report.failed}
    assert list(failed) == [str(SAMSUNG)]
    assert expected in str(failed[str(SAMSUNG)])
    assert "\n" not in str(failed[str(SAMSUNG)])
    assert len(store.read_frame(SAMSUNG, Timeframe.DAY)) == 0  # nothing of the failed request stored
    assert len(store.read_frame(KAKAO, Timeframe.DAY)) == 4


def test_source_when_empty_then_nothing_stored_and_no_error(tmp_path: Path) -> None:
    library = RecordedPykrx()
    library.faults.next[str(SAMSUNG)] = "empty"
    report = fetcher(BarStore(tmp_path), PykrxSource(library)).run(
        {SAMSUNG: (date(2025, 12, 1), date(2025, 12, 5))}
    )
    assert (report.results[0].stored, report.failed) == (0, [])


def test_run_when_interrupted_then_started_again_it_fetches_only_what_is_left(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    library = RecordedPykrx()
    library.faults.next[str(KAKAO)] = "http"  # the first run dies on the second code
    ranges = {SAMSUNG: (date(2025, 12, 1), date(2025, 12, 12)), KAKAO: (date(2021, 4, 8), date(2021, 4, 16))}
    first = fetcher(store, PykrxSource(library)).run(ranges)
    assert [r.code for r in first.failed] == [str(KAKAO)]
    assert len(list((tmp_path / "runs").glob("*.jsonl"))) == 1  # what was done is remembered
    second = fetcher(store, PykrxSource(library)).run(ranges)
    assert second.resumed == 1
    assert second.failed == []
    assert library.calls["ohlcv:005930"] == 2  # raw + adjusted, once: not fetched again
    assert len(store.read_frame(KAKAO, Timeframe.DAY)) == 4
    assert not list((tmp_path / "runs").glob("*.jsonl"))


def test_rate_limit_when_many_codes_then_requests_are_spaced(tmp_path: Path) -> None:
    slept: list[float] = []
    source = PykrxSource(RecordedPykrx())
    timer = iter(float(i) * 0.01 for i in range(1000))
    run = Fetcher(
        BarStore(tmp_path), source, default_calendar(), sleep=slept.append, monotonic=lambda: next(timer)
    )
    run.run({SAMSUNG: (date(2025, 12, 1), date(2025, 12, 5)), KAKAO: (date(2021, 4, 8), date(2021, 4, 9))})
    assert slept
    assert all(0 < s <= 1 / source.requests_per_second for s in slept)


def test_cli_when_arguments_are_wrong_then_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["data", "fetch", "--dir", str(tmp_path), "--start", "2025-12-01", "--end", "2025-12-05"]
    cases = [
        (
            ["--source", "yahoo", "--codes", "005930"],
            "--source 'yahoo': expected one of pykrx, fdr, kis, creon",
        ),
        (["--source", "fdr", "--codes", "5930"], "--codes '5930':"),
        (["--source", "fdr", "--market", "NYSE"], "--market 'NYSE': expected KOSPI, KOSDAQ or ALL"),
        (["--source", "fdr"], "give --codes or --market (KOSPI, KOSDAQ or ALL)"),
        (["--source", "kis", "--codes", "005930"], "--source kis: needs --config"),
        (["--source", "pykrx", "--codes", "005930"], "data source pykrx: the library is not installed"),
    ]
    for extra, expected in cases:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert expected in err[0]
    assert (
        main(
            [
                *base[:-4],
                "--start",
                "2025-12-05",
                "--end",
                "2025-12-01",
                "--source",
                "fdr",
                "--codes",
                "005930",
            ]
        )
        == 2
    )
    assert "--start 2025-12-05 is after --end 2025-12-01" in capsys.readouterr().err
    assert not (tmp_path / "day").exists()


def test_minute_timeframe_when_the_source_has_none_then_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fdr has no minute bars"):
        Fetcher(BarStore(tmp_path), FdrSource(RecordedFdr()), default_calendar(), timeframe=Timeframe.MINUTE)


def test_source_error_is_a_data_error_with_its_exit_code() -> None:
    assert SourceError("x").exit_code == 2


class OneDayOfMinutes:
    """A minute source (as the brokers are) whose day has a bar before the open and one off the tick grid."""

    name = "broker"
    requests_per_second = 0.0

    def daily(self, code: StockCode, start: date, end: date) -> object:
        raise AssertionError("not asked")

    def instruments(self, market: Market | None, on: date) -> list[object]:
        return []

    def minutes(self, code: StockCode, day: date) -> object:
        from maemae.data.sources.base import SourceBars

        ts = pd.date_range(f"{day} 08:59", periods=4, freq="min", tz="Asia/Seoul")
        frame = pd.DataFrame(
            {
                "ts": ts,
                "open": [55_000, 55_100, 55_150, 55_200],
                "high": [55_000, 55_200, 55_200, 55_300],
                "low": [55_000, 55_000, 55_100, 55_100],
                "close": [55_000, 55_100, 55_200, 55_200],
                "volume": [10, 20, 30, 40],
                "value": [550_000, 1_102_000, 1_656_000, 2_208_000],
            }
        )
        return SourceBars(code, frame)


def test_minutes_when_a_bar_is_outside_the_session_or_off_the_grid_then_quarantined(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    day = date(2025, 12, 3)
    run = Fetcher(store, OneDayOfMinutes(), default_calendar(), timeframe=Timeframe.MINUTE)  # type: ignore[arg-type]
    (result,) = run.run({SAMSUNG: (day, day)}).results
    assert (result.stored, result.quarantined) == (2, 2)
    reasons = pd.read_csv(tmp_path / "quarantine" / "broker" / "005930.csv")["reason"].tolist()
    assert reasons == ["not a minute of the session of 2025-12-03", "a price is off the tick grid"]


def test_adjusted_history_when_a_split_is_stored_then_the_past_is_on_each_day_s_basis(tmp_path: Path) -> None:
    from maemae.backtest.market import BacktestMarket

    store = BarStore(tmp_path)
    fetcher(store, PykrxSource(RecordedPykrx())).run({KAKAO: (date(2021, 4, 8), date(2021, 4, 16))})
    calendar = default_calendar()
    raw = BacktestMarket(store, calendar, date(2021, 4, 16), date(2021, 4, 16))
    adjusted = BacktestMarket(store, calendar, date(2021, 4, 16), date(2021, 4, 16), adjusted=True)
    assert raw.history.daily_before(KAKAO, date(2021, 4, 16), 10).close.tolist() == [
        560_000,
        562_000,
        112_000,
    ]
    after_split = adjusted.history.daily_before(KAKAO, date(2021, 4, 16), 10)
    assert after_split.close.tolist() == [112_000, 112_400, 112_000]
    assert after_split.volume[0] == 512_345 * 5  # five times the shares after a 5:1 split
    assert after_split.value[0] == 286_913_200_000  # the traded won do not change
    before_split = adjusted.history.daily_before(KAKAO, date(2021, 4, 9), 10)
    assert before_split.close.tolist() == [560_000]  # on a day before the split, the past is as traded


def test_run_when_update_before_open_is_set_then_the_store_is_current_before_the_day_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    from datetime import datetime, time

    from maemae.brokers.kis.mock.server import mock_environment
    from maemae.config import parse_config
    from maemae.config.broker import KisBrokerConfig
    from maemae.domain.clock_time import KST
    from maemae.engine.clock import SimulatedClock
    from maemae.engine.runtime import RunOptions, run_trading_day
    from maemae.errors import BrokerConnectionLost

    store = BarStore(tmp_path / "market")
    library = RecordedPykrx()
    fetcher(store, PykrxSource(library)).run({SAMSUNG: (date(2025, 12, 1), date(2025, 12, 5))})
    for variable, value in mock_environment(KisBrokerConfig()).items():
        monkeypatch.setenv(variable, value)
    with socket.socket() as closed:  # bound, never listening: KIS's prices are refused, after the update
        closed.bind(("127.0.0.1", 0))
        kis = f"127.0.0.1:{closed.getsockname()[1]}"
        config = parse_config(
            {
                "mode": "paper",
                "broker": {
                    "kis": {
                        "base_url": f"http://{kis}",
                        "ws_url": f"ws://{kis}",
                        "token_cache": str(tmp_path / "token.json"),
                        "timeout_seconds": 2,
                    }
                },
                "data": {"root": str(tmp_path / "market"), "update_before_open": "pykrx"},
                "store": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
                "logging": {"dir": str(tmp_path / "log"), "console": False},
            }
        )
        morning = SimulatedClock(datetime.combine(date(2025, 12, 12), time(8, 0), tzinfo=KST))
        with pytest.raises(BrokerConnectionLost, match="cannot connect"):
            run_trading_day(config, RunOptions(clock=morning, data_source=PykrxSource(library)))
    days = store.read_frame(SAMSUNG, Timeframe.DAY)["ts"].dt.date.tolist()
    assert days[-1] == date(2025, 12, 11)  # through the session before the day
    assert library.calls["ohlcv:005930"] == 4  # one update after the first fetch: raw + adjusted each


def test_pykrx_listing_when_fetched_then_every_kind_is_told_apart(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    codes = fetcher(store, PykrxSource(RecordedPykrx())).listed_codes(None, date(2025, 12, 12))
    kinds = {code: item.instrument_type for code, item in store.read_instruments().items()}
    assert len(codes) == 6
    assert kinds == {
        "005930": InstrumentType.STOCK,
        "005935": InstrumentType.PREFERRED,
        "035720": InstrumentType.STOCK,
        "440790": InstrumentType.SPAC,
        "069500": InstrumentType.ETF,
        "550001": InstrumentType.ETN,
    }
    kosdaq = fetcher(BarStore(tmp_path / "k"), PykrxSource(RecordedPykrx())).listed_codes(
        Market.KOSDAQ, date(2025, 12, 12)
    )
    assert kosdaq == ["440790"]

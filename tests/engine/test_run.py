"""``maemae run``: the live loop's day composed from the config, on a replayed day (simulated clock, an
accelerated wall clock, through the KIS adapter), and the modes it refuses."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time as wall
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from maemae.brokers.kis import protocol
from maemae.brokers.kis.mock.app import MockSettings
from maemae.brokers.kis.mock.replay import MarketReplay
from maemae.brokers.kis.mock.server import MockServer, mock_environment
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.remote import RemoteExchange
from maemae.cli import main
from maemae.cli.paper_cmd import _address
from maemae.config import load_config
from maemae.config.broker import KisBrokerConfig
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.order_states import OrderEvent
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.confirmation import FirstOrderConfirmation
from maemae.engine.runtime import RunOptions, run_trading_day
from maemae.errors import ConfigError, FatalBrokerError
from maemae.krx.calendar import default_calendar
from maemae.krx.costs import CostModel
from maemae.ports.broker import OrderRequest
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import KEY, _serve
from tests.market_config import market_toml
from tests.user_errors import one_error_line

DAY = date(2025, 12, 3)


def _config(root: Path, directory: Path, extra: str = "", mode: str = "paper") -> Path:
    path = directory / "run.toml"
    path.write_text(
        market_toml(root, mode=mode)
        + f"""

[store]
url = "sqlite:///{directory}/state.db"

[execution]
halt_file = "{directory}/HALT"
{extra}
""",
        encoding="utf-8",
    )
    return path


def _closed_days(directory: Path) -> list[str]:
    with sqlite3.connect(directory / "state.db") as db:
        return [row[0] for row in db.execute("select trading_day from daily_results")]


@pytest.mark.whole_day
def test_run_when_replayed_then_the_day_closes_with_the_book_equal(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(market_root, tmp_path)
    assert main(["run", "--config", str(config), "--replay", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # what the start found and what the day trades, told as the run starts, then how the day ended
    assert lines[0] == (  # worded as `maemae paper` words it (it gave no closed orders or differences)
        "recovery: 0 orders restored, 0 found at the broker, 0 never sent, 0 fills recovered, 0 closed, "
        "0 reconciliation differences"
    )
    assert lines[1] == (
        f"{DAY}: 9 stocks (0 held) with the replay's sim exchange in this process; replaying the day as fast "
        "as it goes (`maemae status` and the dashboard follow the day; Ctrl-C stops it)"
    )
    assert lines[2] == f"{DAY}: the day is closed"
    assert "cycles 2280, price refreshes 2280" in out
    assert "book: maemae's orders, holdings and cash equal the broker's" in out
    assert _closed_days(tmp_path) == [DAY.isoformat()]
    # the same store again: the exchange of that run is gone, so it refuses (and changes nothing)
    assert main(["run", "--config", str(config), "--replay", DAY.isoformat()]) == 6
    assert "whose exchange ran inside an earlier run" in capsys.readouterr().err


def test_run_when_replayed_through_kis_mock_then_closes_with_book_equal(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cadences = "price_refresh_s = 30\nminute_eval_s = 30\ndaily_eval_s = 60\nreconcile_s = 60"
    config = _config(market_root, tmp_path, cadences)
    args = ["run", "--config", str(config), "--replay", DAY.isoformat(), "--broker", "kis-mock"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{DAY}: the day is closed" in out
    assert "book: maemae's orders, holdings and cash equal the broker's" in out
    assert "cycles 760" in out
    assert "orders 0," not in out


def test_run_when_replayed_on_an_accelerated_wall_clock_then_closes(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cadences = "price_refresh_s = 60\nminute_eval_s = 60\ndaily_eval_s = 60\nreconcile_s = 300"
    config = _config(market_root, tmp_path, cadences)
    assert main(["run", "--config", str(config), "--replay", DAY.isoformat(), "--speed", "2500"]) == 0
    out = capsys.readouterr().out
    assert f"{DAY}: the day is closed" in out
    assert _closed_days(tmp_path) == [DAY.isoformat()]


@pytest.mark.parametrize(
    ("mode", "extra", "args", "expected"),
    [
        (
            "backtest",
            "",
            ["--replay", "2025-12-03"],
            'mode = "backtest": `maemae run` trades a day on the clock',
        ),
        ("live", "", [], 'mode = "live" with broker.kind = "sim": live trading needs broker.kind = "kis"'),
        ("live", "", ["--replay", "2025-12-03"], '--replay with mode = "live": a replayed day is paper'),
        ("paper", "", ["--replay", "2025-12-06"], "--replay 2025-12-06: KRX did not trade that day"),
        ("paper", "", ["--replay", "2030-01-02"], "--replay 2030-01-02: outside the trading calendar"),
        (
            "paper",
            "",
            ["--replay", "2025-13-01"],
            "--replay '2025-13-01': no such date; expected a date as YYYY-MM-DD",
        ),
        (
            "paper",
            "",
            ["--replay", "2025-12-03", "--broker", "ibkr"],
            "--broker 'ibkr': expected sim, kis-mock or creon-fake",
        ),
        ("paper", "", ["--replay", "2025-12-03", "--speed", "-2"], "--speed -2.0: expected 0"),
        ("paper", "", ["--replay", "2025-12-03", "--speed", "nan"], "--speed nan: expected 0"),
    ],
)
def test_run_when_mode_or_options_are_wrong_then_one_line_and_nothing_written(
    market_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    extra: str,
    args: list[str],
    expected: str,
) -> None:
    config = _config(market_root, tmp_path, extra, mode=mode)
    assert main(["run", "--config", str(config), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert expected in err[0]
    assert not (tmp_path / "state.db").exists()


def test_run_when_kis_modes_contradict_then_refused(market_root: Path, tmp_path: Path) -> None:
    paper_real = load_config(_config(market_root, tmp_path, mode="paper"))
    paper_real = paper_real.model_copy(
        update={
            "broker": paper_real.broker.model_copy(
                update={"kind": "kis", "kis": paper_real.broker.kis.model_copy(update={"paper": False})}
            )
        }
    )
    with pytest.raises(ConfigError, match="would trade the real account"):
        run_trading_day(paper_real, RunOptions())
    live_paper = paper_real.model_copy(
        update={
            "mode": "live",
            "broker": paper_real.broker.model_copy(
                update={"kis": paper_real.broker.kis.model_copy(update={"paper": True})}
            ),
        }
    )
    with pytest.raises(ConfigError, match="KIS's paper server is paper trading"):
        run_trading_day(live_paper, RunOptions())


def test_run_on_the_wall_clock_when_not_a_trading_day_or_after_the_close_then_nothing(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(_config(market_root, tmp_path))
    saturday = SimulatedClock(datetime(2025, 12, 6, 9, 0, tzinfo=KST))
    evening = SimulatedClock(datetime(2025, 12, 3, 20, 0, tzinfo=KST))
    morning = SimulatedClock(datetime(2025, 12, 3, 8, 0, tzinfo=KST))
    for variable in mock_environment(KisBrokerConfig()):
        monkeypatch.delenv(variable, raising=False)
    for clock in (saturday, evening, morning):  # paper on the sim needs KIS's prices: checked on any day
        with pytest.raises(ConfigError, match="KIS_APP_KEY, KIS_APP_SECRET, KIS_ACCOUNT, KIS_HTS_ID are not"):
            run_trading_day(config, RunOptions(clock=clock))
    for variable, value in mock_environment(KisBrokerConfig()).items():
        monkeypatch.setenv(variable, value)
    assert (
        run_trading_day(config, RunOptions(clock=saturday)).note
        == "2025-12-06 is not a KRX trading day: nothing to do"
    )
    assert (
        run_trading_day(config, RunOptions(clock=evening)).note
        == "the session of 2025-12-03 is over: nothing to do"
    )
    assert not (tmp_path / "state.db").exists()


class _Sim:
    """A simulated exchange open for one order."""

    def __init__(self) -> None:
        self.now = datetime(2025, 12, 3, 9, 30, tzinfo=KST)
        self.exchange = SimExchange(
            clock=lambda: self.now,
            calendar=default_calendar(),
            costs=CostModel(Decimal("0.00015")),
            instruments={},
            initial_cash=10_000_000,
        )
        self.exchange.start_day(DAY, {StockCode("005930"): 70_000})


ORDER = OrderRequest("o1", StockCode("005930"), Side.BUY, 1, OrderType.LIMIT, 70_000)


def test_live_confirmation_when_typed_right_then_first_order_goes_and_later_ones_do_not_ask() -> None:
    asked: list[str] = []
    sim = _Sim()
    gate = FirstOrderConfirmation(
        sim.exchange, "12345678", confirmed=False, ask=lambda p: asked.append(p) or "12345678"
    )
    gate.submit(ORDER)
    gate.submit(ORDER)
    assert len(asked) == 1
    assert "LIVE ORDER" in asked[0]
    assert "buy 1 005930 at 70,000 won" in asked[0]
    assert len(sim.exchange.all_orders()) == 2


def test_live_confirmation_when_wrong_or_no_terminal_then_nothing_sent() -> None:
    sim = _Sim()
    wrong = FirstOrderConfirmation(sim.exchange, "12345678", confirmed=False, ask=lambda p: "no")
    with pytest.raises(FatalBrokerError, match="did not match the account number"):
        wrong.submit(ORDER)
    silent = FirstOrderConfirmation(sim.exchange, "12345678", confirmed=False, ask=None)
    with pytest.raises(FatalBrokerError, match="needs --confirm or a terminal"):
        silent.submit(ORDER)
    assert sim.exchange.all_orders() == []
    upfront = FirstOrderConfirmation(sim.exchange, "12345678", confirmed=True, ask=None)
    upfront.submit(ORDER)
    assert len(sim.exchange.all_orders()) == 1


@contextmanager
def kis_paper_server(
    root: Path,
    directory: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: SimulatedClock,
    extra: str,
    kind: str = "kis",
    day: date = DAY,
) -> Iterator[tuple[Path, MockServer]]:
    """The local KIS server (on 127.0.0.1) trading the day's stored bars as ``clock`` reaches them, its
    account the config's exchange and cash, and a config of ``run`` with broker ``kind`` on it (``extra``:
    more of its ``[execution]`` table), trading ``day``; yields the config's path and the server."""
    settings = MockSettings(token_interval_s=0.1)
    store = BarStore(root)
    path = _config(root, directory, extra)
    calendar = default_calendar()
    instruments = store.read_instruments()
    server = MockServer(
        lambda c: make_sim_exchange(load_config(path), calendar, instruments, c),
        settings=settings,
        replay=MarketReplay(store, calendar, day, clock.now),
    ).start()
    try:
        for variable, value in mock_environment(KisBrokerConfig(), settings).items():
            monkeypatch.setenv(variable, value)
        with path.open("a", encoding="utf-8") as toml:
            toml.write(
                f'\n[broker]\nkind = "{kind}"\n'
                f'\n[broker.kis]\nbase_url = "{server.base_url}"\nws_url = "{server.ws_url}"\n'
                f'websocket = false\nrequests_per_second = 1000\ntoken_cache = "{directory}/token.json"\n'
            )
        yield path, server
    finally:
        server.stop()


@pytest.mark.whole_day
@pytest.mark.parametrize("kind", ["sim", "kis"])
def test_run_on_the_clock_when_paper_then_trades_on_kis_prices(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The real-time compositions on a simulated clock that the local KIS server's market follows too:
    paper on the simulated exchange with KIS's prices (``sim``), and paper at KIS's paper server (``kis``)."""
    clock = SimulatedClock(datetime(2025, 12, 3, 8, 0, tzinfo=KST))
    extra = "price_refresh_s = 30\nminute_eval_s = 30\ndaily_eval_s = 60\nreconcile_s = 60"
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, extra, kind) as (path, server):
        summary = run_trading_day(load_config(path), RunOptions(clock=clock))
    assert summary.note == f"{DAY}: the day is closed"
    assert summary.report is not None
    assert summary.report.cycles == 760
    assert summary.report.fills > 0
    assert summary.book_differences == []
    stats = server.state.stats
    assert stats[f"GET {protocol.MULTI_PRICE_PATH}"] >= 760  # every refresh asked KIS for prices
    sent_to_kis = stats[f"POST {protocol.ORDER_CASH_PATH}"]
    assert sent_to_kis == (summary.report.orders if kind == "kis" else 0)


def _live_cursor_at(url: str) -> datetime | None:
    try:
        store = SqlStateStore(url, create=False)
    except Exception:  # not created yet
        return None
    try:
        cursor = store.load(None).runtime.get("cursor", {})
    finally:
        store.close()
    return datetime.fromisoformat(str(cursor["at"])) if cursor.get("at") else None


@pytest.mark.whole_day
def test_run_when_killed_during_a_replayed_day_then_resumes_where_it_stopped(
    market_root: Path, tmp_path: Path
) -> None:
    config = _config(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    server, exchange = _serve(config, env)
    url = f"sqlite:///{tmp_path}/state.db"
    try:
        args = [sys.executable, "-m", "maemae.cli", "run", "--config", str(config)]
        args += ["--replay", DAY.isoformat(), "--exchange", exchange]
        first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
        deadline = wall.monotonic() + 90
        while (at := _live_cursor_at(url)) is None or at.time() < time(11, 0):
            assert wall.monotonic() < deadline, "the run did not reach 11:00"
            wall.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = _live_cursor_at(url)
        assert killed_at is not None
        assert killed_at.time() < time(15, 20)
        second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
        assert second.returncode == 0, second.stderr
        assert f"{DAY}: the day is closed" in second.stdout
        remote = RemoteExchange(_address(exchange), KEY.encode(), lambda: datetime.now(KST))
        at_exchange = remote.all_orders()
        remote.close()
    finally:
        server.kill()
        server.wait(10)
    store = SqlStateStore(url)
    try:
        saved = store.load(DAY)
        assert store.verify_audit().ok
        assert not [o for o in saved.orders if o.is_open]
        sent = [o for o in saved.orders if o.broker_order_no]
        modified = sum(1 for o in sent for t in o.history if t.event is OrderEvent.MODIFY_CONFIRMED)
        assert len(at_exchange) == len(sent) + modified  # every submit and modify once: nothing sent twice
        traded = {o.broker_order_no for o in at_exchange if o.filled_quantity}
        assert traded <= {n for o in saved.orders for n in o.filled_by_number}  # no fill lost
    finally:
        store.close()
    assert _closed_days(tmp_path) == [DAY.isoformat()]


@pytest.mark.whole_day
def test_run_when_supervised_then_the_child_runs_the_day_and_the_supervisor_exits_with_it(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cadences = "price_refresh_s = 60\nminute_eval_s = 60\ndaily_eval_s = 60\nreconcile_s = 300"
    config = _config(market_root, tmp_path, cadences)
    assert main(["run", "--config", str(config), "--replay", DAY.isoformat(), "--supervise"]) == 0
    assert _closed_days(tmp_path) == [DAY.isoformat()]


def test_live_command_when_config_is_not_live_then_refused_in_one_line(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paper = _config(market_root, tmp_path)
    assert main(["live", "--config", str(paper)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        'error: mode = "paper": `maemae live` trades the real account; set mode = "live"'
    ]
    on_the_simulator = _config(market_root, tmp_path, mode="live")
    assert main(["live", "--config", str(on_the_simulator)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [  # after the file's name, as config check says it
        f'error: {on_the_simulator}: mode = "live" with broker.kind = "sim": live trading needs '
        'broker.kind = "kis" or "creon"'
    ]
    assert not (tmp_path / "state.db").exists()


@pytest.mark.parametrize("command", ["run", "paper"])
@pytest.mark.parametrize("field", ["report.dir", "logging.dir"])
def test_run_when_an_output_folder_cannot_be_made_then_refused_before_the_day(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, field: str
) -> None:
    """A report folder under a file was found out only after the whole day had traded (a traceback, exit 1,
    and the day saved as closed, so the same command was refused after it); a log folder there ended the
    start in a traceback."""
    (tmp_path / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    section, key = field.split(".")
    folder = tmp_path / "afile" / section
    config = _config(market_root, tmp_path, f'[{section}]\n{key} = "{folder}"')
    assert main([command, "--config", str(config), "--replay", DAY.isoformat(), "--speed", "0"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == f"error: {field} '{folder}': '{tmp_path / 'afile'}' is a file; expected a folder"
    assert not (tmp_path / "state.db").exists()


@pytest.mark.whole_day
def test_run_when_the_report_cannot_be_written_at_the_close_then_the_book_check_is_told_first(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report that failed after the close used to end the run in a traceback (exit 1) before the book
    check's differences were printed: a live day with differences did not exit 8."""
    reports = tmp_path / "reports"
    config = _config(market_root, tmp_path, f'[report]\ndir = "{reports}"\n\n[logging]\nconsole = false')
    (reports / f"{DAY}.html").mkdir(parents=True)  # passes the check at the start; the file cannot go there
    difference = "cash: maemae 1,000 won, broker 2,000 won"  # a real one needs a broker that loses money
    monkeypatch.setattr("maemae.engine.runtime._book_check", lambda *_: [difference])
    assert main(["run", "--config", str(config), "--replay", DAY.isoformat()]) == 8
    captured = capsys.readouterr()
    assert f"{DAY}: the day is closed" in captured.out
    assert "Traceback" not in captured.err
    assert captured.err.strip().splitlines() == [
        f"book difference: {difference}",
        f"error: report.dir '{reports}': {DAY}.html there is a folder; expected a file; the day is saved: "
        f"`maemae report --config F {DAY}` writes its report again",
    ]
    assert _closed_days(tmp_path) == [DAY.isoformat()]
    assert sorted(path.name for path in reports.iterdir()) == [f"{DAY}.html"]  # nothing half-written

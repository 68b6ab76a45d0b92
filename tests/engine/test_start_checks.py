"""What a trading command refuses before it touches anything: a replay (``maemae paper``, as ``maemae run
--replay``) with a live config, whose store is the live one; and a day on the clock (``maemae run``, ``maemae
live``) whose KIS keys are not in the environment, found on any day, before the calendar, the market data
and the store. ``maemae config check`` only warns of the keys: it may check a file for another machine."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from maemae.brokers.kis.mock.server import mock_environment
from maemae.cli import main
from maemae.config import load_config
from maemae.config.broker import KisBrokerConfig
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import RunOptions, run_trading_day
from maemae.errors import ConfigError
from tests.market_config import market_toml
from tests.user_errors import one_error_line

DAY = "2025-12-03"
SECRETS = list(mock_environment(KisBrokerConfig()))  # KIS_APP_KEY, KIS_APP_SECRET, KIS_ACCOUNT, KIS_HTS_ID


def _live_config(root: Path, directory: Path) -> Path:
    """The new user's live config: the real account on a (here unreachable) KIS, the store in a folder
    that does not exist yet."""
    path = directory / "live.toml"
    path.write_text(
        market_toml(root, mode="live")
        + f"""
[broker]
kind = "kis"

[broker.kis]
paper = false
base_url = "http://127.0.0.1:9"
ws_url = "ws://127.0.0.1:9"
token_cache = "{directory}/var/bad/token.json"

[store]
url = "sqlite:///{directory}/var/bad/live.db"

[logging]
dir = "{directory}/log"
console = false
""",
        encoding="utf-8",
    )
    return path


def _nothing_of_the_store(directory: Path) -> bool:
    """Neither the database nor its instance lock file was made (nor its folder)."""
    return not list((directory / "var" / "bad").glob("live.db*"))


@pytest.fixture
def no_kis_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in SECRETS:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("speed", ["0", "60"])
def test_paper_when_the_config_is_live_then_refused_as_run_replay_is_and_no_store(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], speed: str
) -> None:
    config = _live_config(market_root, tmp_path)
    assert main(["paper", "--config", str(config), "--replay", DAY, "--speed", speed]) == 2
    paper_line = one_error_line(capsys.readouterr().err)
    assert main(["run", "--config", str(config), "--replay", DAY]) == 2
    assert one_error_line(capsys.readouterr().err) == paper_line
    assert (
        paper_line
        == 'error: --replay with mode = "live": a replayed day is paper trading; set mode = "paper"'
    )
    assert _nothing_of_the_store(tmp_path)


def test_paper_when_the_config_is_a_backtest_one_then_it_replays(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The quick start's way (docs/paper.md replays examples/minimal.toml): a replay trades nothing real."""
    config = tmp_path / "backtest.toml"
    config.write_text(
        market_toml(market_root, mode="backtest") + f'\n[store]\nurl = "sqlite:///{tmp_path}/state.db"\n',
        encoding="utf-8",
    )
    assert main(["paper", "--config", str(config), "--replay", DAY, "--speed", "0"]) == 0
    assert f"paper {DAY}:" in capsys.readouterr().out


@pytest.mark.usefixtures("no_kis_keys")
def test_live_when_the_kis_keys_are_not_set_then_one_line_before_the_store_is_made(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _live_config(market_root, tmp_path)
    assert main(["live", "--config", str(config), "--confirm"]) == 2  # whatever day today is
    assert one_error_line(capsys.readouterr().err).startswith(
        "error: broker.kis: environment variables KIS_APP_KEY, KIS_APP_SECRET, KIS_ACCOUNT, KIS_HTS_ID "
        "are not set"
    )
    saturday = SimulatedClock(datetime(2025, 12, 6, 9, 0, tzinfo=KST))  # not "nothing to do" on a weekend
    with pytest.raises(ConfigError, match="KIS_APP_KEY, KIS_APP_SECRET, KIS_ACCOUNT, KIS_HTS_ID are not set"):
        run_trading_day(load_config(config), RunOptions(clock=saturday, confirmed=True))
    assert _nothing_of_the_store(tmp_path)


@pytest.mark.usefixtures("no_kis_keys")
def test_config_check_when_the_kis_keys_are_not_set_here_then_ok_with_a_warning(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variable exported empty is called empty, as `maemae live` refuses it: told it was not set, the
    user looked for a missing export."""
    config = str(_live_config(market_root, tmp_path))
    monkeypatch.setenv("KIS_APP_KEY", "set")
    monkeypatch.setenv("KIS_ACCOUNT", " ")
    assert main(["config", "check", config]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"ok: {config} (mode=live, broker=kis")
    assert err.strip().splitlines() == [
        "warning: broker.kis: in this environment KIS_APP_SECRET, KIS_HTS_ID are not set and KIS_ACCOUNT is "
        "empty; `maemae run` and `maemae live` on the clock read the KIS keys from them where they run; a "
        "--replay needs none (docs/brokers/kis.md)"
    ]
    for variable in SECRETS:
        monkeypatch.setenv(variable, "set")
    assert main(["config", "check", config]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("no_kis_keys")
def test_run_when_confirm_is_given_with_a_paper_config_then_a_warning_says_it_does_nothing(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--confirm`` confirms live trading; with a paper config it was accepted in silence, as though the
    run were live. The run goes on as without it (here to its refusal of the unset keys, exit 2 as before)."""
    config = tmp_path / "paper.toml"
    config.write_text(
        _live_config(market_root, tmp_path)
        .read_text(encoding="utf-8")
        .replace('mode = "live"', 'mode = "paper"')
        .replace("paper = false", "paper = true"),
        encoding="utf-8",
    )
    assert main(["run", "--config", str(config), "--confirm"]) == 2
    warning, error = capsys.readouterr().err.strip().splitlines()
    assert warning == 'warning: --confirm has no effect with mode = "paper": only live trading asks for one'
    assert error.startswith("error: broker.kis: environment variables KIS_APP_KEY, ")
    assert main(["run", "--config", str(config)]) == 2
    assert "--confirm" not in capsys.readouterr().err
    assert _nothing_of_the_store(tmp_path)

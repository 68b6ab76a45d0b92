"""`maemae config check` refuses the live configs `maemae live` refuses on any machine, in its words;
`maemae config show` fills in each strategy's params as its own ``Params`` do when a run loads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.strategy.sma_daily import SMADailyParams
from tests.backtest.test_strategy_contract import user_class

LIVE_REFUSED = [
    (
        'mode = "live"\n[broker]\nkind = "sim"\n',
        'mode = "live" with broker.kind = "sim": live trading needs broker.kind = "kis" or "creon"',
    ),
    (
        'mode = "live"\n[broker]\nkind = "kis"\n[broker.kis]\npaper = true\n',
        'mode = "live" with broker.kis.paper = true: KIS\'s paper server is paper trading; '
        'set mode = "paper", or broker.kis.paper = false to trade the real account',
    ),
]


@pytest.mark.parametrize(("text", "message"), LIVE_REFUSED)
def test_config_check_when_live_broker_cannot_trade_live_prints_what_live_says_and_exits_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # `maemae live` may make its log folder where it runs
    path = tmp_path / "live.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"error: {path}: {message}"]
    assert captured.out == ""
    # the same line as the command that refuses the file
    assert main(["live", "--config", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {path}: {message}"]


USER_DAILY = """
from typing import ClassVar
from decimal import Decimal
from pydantic import Field
from maemae.strategy.api import DailyInput, DailyStrategy, Signal, StrategyParams

class MyParams(StrategyParams):
    window: int = 7
    threshold: Decimal = Field(Decimal("0.25"))

class Mine(DailyStrategy):
    name: ClassVar[str] = "mine"
    Params: ClassVar[type[StrategyParams]] = MyParams

    def __init__(self, params):  # keeps its params elsewhere than self.params
        self.p = params

    def history_days(self) -> int:
        return self.p.window

    def evaluate(self, data: DailyInput) -> Signal:
        return Signal.NONE
"""


def _show(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["config", "show", str(path)]) == 0
    shown: dict[str, object] = json.loads(capsys.readouterr().out)
    return shown


def test_config_show_when_strategy_params_partly_given_fills_in_their_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(
        '[strategies.daily]\nclass = "sma_daily"\n[strategies.daily.params]\nshort = 3\n', "utf-8"
    )
    strategies = _show(path, capsys)["strategies"]
    assert isinstance(strategies, dict)
    params = strategies["daily"]["params"]
    assert strategies["daily"]["class"] == "sma_daily"
    assert params["short"] == 3
    assert params["long"] == SMADailyParams.model_fields["long"].default
    assert params["volume_ratio"] == "1.0"  # a Decimal, printed as the rest of the config prints one
    assert set(params) == set(SMADailyParams.model_fields)
    assert "period" in strategies["minute"]["params"]  # the default minute strategy's too


def test_config_show_when_user_strategy_fills_in_its_params_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.toml"
    spec = user_class(tmp_path, USER_DAILY, "Mine")
    path.write_text(
        f"[strategies.daily]\nclass = {json.dumps(spec)}\n[strategies.daily.params]\nwindow = 9\n"
    )
    strategies = _show(path, capsys)["strategies"]
    assert isinstance(strategies, dict)
    assert strategies["daily"] == {"class": spec, "params": {"window": 9, "threshold": "0.25"}}


def test_config_show_when_strategy_cannot_load_prints_its_one_line_error_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(
        '[strategies.daily]\nclass = "sma_daily"\n[strategies.daily.params]\nshortx = 3\n', "utf-8"
    )
    assert main(["config", "show", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"error: {path}: strategies.daily.params.shortx = 3: unknown parameter of SMADaily "
        "(allowed: short, long, volume_filter, volume_ratio)"
    ]

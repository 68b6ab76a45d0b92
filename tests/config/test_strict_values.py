"""A config value of the wrong TOML type is refused, never converted (a quoted "20" for a whole number, true
for a number, "yes" or 1 for true/false); the forms a config must use for types TOML lacks still load; and
one ``config check`` reports every problem of the file, strategy parameters included, one line each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.config import load_config, parse_config
from maemae.domain.enums import OrderType
from maemae.strategy.loader import load_daily, load_minute

ROOT = Path(__file__).resolve().parents[2]
SMA = '[strategies.daily]\nclass = "sma_daily"\n[strategies.daily.params]\n'
RSI = '[strategies.minute]\nclass = "rsi_minute"\n[strategies.minute.params]\n'

WRONG_TYPE = [
    ("text for a whole-number strategy setting", SMA + 'short = "3"\n',
     "strategies.daily.params.short = '3': expected a whole number"),
    ("true for a whole-number strategy setting", RSI + "period = true\n",
     "strategies.minute.params.period = true: expected a whole number"),
    ("true for a whole number", "[risk.cooldown]\nminutes = true\n",
     "risk.cooldown.minutes = true: expected a whole number"),
    ("a fraction for a whole number", "[risk.cooldown]\nminutes = 30.0\n",
     "risk.cooldown.minutes = 30.0: expected a whole number"),
    ("true for a Decimal", "[risk.stop_loss]\npct = true\n", "risk.stop_loss.pct = true: expected a number"),
    ("true for a Decimal strategy setting", SMA + "volume_ratio = true\n",
     "strategies.daily.params.volume_ratio = true: expected a number"),
    ("text for true/false", '[risk.cooldown]\nenabled = "yes"\n',
     "risk.cooldown.enabled = 'yes': expected true or false"),
    ("text for a true/false strategy setting", SMA + 'volume_filter = "true"\n',
     "strategies.daily.params.volume_filter = 'true': expected true or false"),
    ("a number for true/false", "[risk.cooldown]\nenabled = 1\n",
     "risk.cooldown.enabled = 1: expected true or false"),
    ("true for a float", "[broker.kis]\ntimeout_seconds = true\n",
     "broker.kis.timeout_seconds = true: expected a number"),
    ("text for a float", '[execution.resilience]\nretry_backoff_s = "0.5"\n',
     "execution.resilience.retry_backoff_s = '0.5': expected a number"),
    ("a number for a date", "[backtest]\nstart = 20250102\n",
     "backtest.start = 20250102: expected a date like 2025-03-04"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "message"), WRONG_TYPE, ids=[case[0] for case in WRONG_TYPE])
def test_config_check_when_a_value_has_the_wrong_toml_type_refuses_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, text: str, message: str
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2, case
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {path}: {message}\n"


def test_config_when_values_use_the_forms_toml_has_for_each_type_then_loaded(tmp_path: Path) -> None:
    """Decimal from a TOML integer, float or text (the form ``config show`` prints); a float from an integer;
    a native TOML date; paths, codes and choices as text; lists for tuples."""
    path = tmp_path / "cfg.toml"
    path.write_text(
        '[data]\nroot = "var/market"\n'
        '[universe]\nselector = "fixed"\ncodes = ["005930", "A000660"]\n'
        "[calendar]\nextra_closures = [2027-03-03]\n"
        "[costs]\ncommission_rate = 0.00015\n"
        "[backtest]\nstart = 2025-01-02\nend = 2025-12-30\n"
        "[broker.kis]\ntimeout_seconds = 10\n"
        '[risk.stop_loss]\npct = "1.50"\n'
        "[risk.trailing_stop]\npct = 3\n"
        "[risk.reentry]\nmin_volume_ratio = 2.5\n"
        + SMA
        + "short = 3\nvolume_ratio = 1.2\n"
        + RSI
        + 'oversold = 25\norder_type = "market"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.data.root == Path("var/market")
    assert [str(code) for code in config.universe.codes] == ["005930", "000660"]
    assert config.calendar.extra_closures == (date(2027, 3, 3),)
    assert config.costs.commission_rate == Decimal("0.00015")
    assert (config.backtest.start, config.backtest.end) == (date(2025, 1, 2), date(2025, 12, 30))
    assert config.broker.kis.timeout_seconds == 10.0
    assert str(config.risk.stop_loss.pct) == "1.50"
    assert config.risk.trailing_stop.pct == Decimal(3)
    assert config.risk.reentry.min_volume_ratio == Decimal("2.5")
    assert config.strategies.daily is not None
    assert config.strategies.minute is not None
    daily, minute = load_daily(config.strategies.daily), load_minute(config.strategies.minute)
    assert daily.params.volume_ratio == Decimal("1.2")  # type: ignore[attr-defined]
    assert minute.params.order_type is OrderType.MARKET  # type: ignore[attr-defined]
    # the JSON form of a config (``config show``, ``params set``, sweeps) reads back as the same config
    assert parse_config(config.model_dump(mode="json", by_alias=True)) == config


def test_config_check_when_problems_in_the_file_and_in_both_strategies_reports_every_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(
        "[risk.cooldown]\nminutes = -5\n" + SMA + 'short = 0\nlong = "x"\n' + RSI + "period = 1\n",
        encoding="utf-8",
    )
    assert main(["config", "check", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {path}: risk.cooldown.minutes = -5: expected a number >= 1",
        f"error: {path}: strategies.daily.params.short = 0: expected a number >= 1",
        f"error: {path}: strategies.daily.params.long = 'x': expected a whole number",
        f"error: {path}: strategies.minute.params.period = 1: expected a number >= 2",
    ]


def test_config_check_when_a_cross_section_rule_and_a_strategy_fail_reports_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text('[backtest]\nbars = "day"\n' + RSI + "period = 0\n", encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {path}: backtest.bars = 'day': strategies.minute.class = 'rsi_minute' needs minute bars; "
        "expected 'follow_daily' or a strategy of your own",
        f"error: {path}: strategies.minute.params.period = 0: expected a number >= 2",
    ]


def test_config_check_when_the_strategies_table_itself_is_bad_reports_it_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A strategy whose own table is refused is not loaded a second time: the other one still is."""
    path = tmp_path / "cfg.toml"
    path.write_text('[strategies.daily]\nclass = "no such"\n' + RSI + "period = 0\n", encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2, err
    assert err[0].startswith(f"error: {path}: strategies.daily.class = 'no such': expected a built-in name")
    assert err[1] == f"error: {path}: strategies.minute.params.period = 0: expected a number >= 2"


@pytest.mark.parametrize("name", ["maemae.toml", "minimal.toml", "minimal-paper.toml"])
def test_example_configs_when_strict_still_load_and_read_back_from_json(name: str) -> None:
    config = load_config(ROOT / "examples" / name)
    assert parse_config(config.model_dump(mode="json", by_alias=True)) == config


def _store_only_config(directory: Path) -> str:
    """A config of a state store only: ``params`` needs no market."""
    path = directory / "maemae.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{directory}/state.db"\n', encoding="utf-8")
    assert main(["db", "migrate", "--config", str(path)]) == 0
    return str(path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("risk.cooldown.enabled", "yes", "params: risk.cooldown.enabled = 'yes': expected true or false"),
        ("risk.cooldown.minutes", "true", "params: risk.cooldown.minutes = true: expected a whole number"),
        ("risk.stop_loss.pct", "false", "params: risk.stop_loss.pct = false: expected a number"),
    ],
)
def test_params_set_when_the_typed_value_has_the_wrong_type_refuses_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str, message: str
) -> None:
    config = _store_only_config(tmp_path)
    capsys.readouterr()
    assert main(["params", "set", "--config", config, key, value]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("risk.stop_loss.pct", "2.5", "2.5"),
        ("risk.cooldown.enabled", "true", "true"),
        ("risk.cooldown.minutes", "45", "45"),
        ("risk.time_cut.on_date", "2025-12-30", '"2025-12-30"'),  # typed text: a date as JSON keeps it
        ("execution.resilience.retry_backoff_s", "2", "2.0"),
    ],
)
def test_params_set_when_the_typed_value_is_of_the_field_type_then_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str, shown: str
) -> None:
    config = _store_only_config(tmp_path)
    assert main(["params", "set", "--config", config, key, value]) == 0
    capsys.readouterr()
    assert main(["params", "get", "--config", config, key]) == 0
    assert capsys.readouterr().out == f"{shown}\n"

"""A config file with several problems, given to a command that loads it (not only ``maemae config check``):
every problem is its own line on stderr, and every line starts with ``error:``."""

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.errors import ConfigError, MaemaeError


def test_backtest_when_the_config_has_two_bad_values_prints_two_error_lines_and_writes_nothing(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    path = tmp_path / "cfg.toml"
    path.write_text(
        f"""
[data]
root = "{market_root}"
[risk.cooldown]
minutes = -5
[execution]
minute_eval_s = "x"
[backtest]
out_dir = "{out}"
""",
        encoding="utf-8",
    )
    assert main(["backtest", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.splitlines() == [
        f"error: {path}: risk.cooldown.minutes = -5: expected a number >= 1",
        f"error: {path}: execution.minute_eval_s = 'x': expected a whole number",
    ]
    assert captured.out == ""
    assert not out.exists()


def test_main_when_a_multi_line_error_is_raised_prefixes_every_line_and_keeps_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Odd(MaemaeError):
        exit_code = 9

    def fail(**_: object) -> None:
        raise Odd("first\nsecond\nthird")

    monkeypatch.setattr("maemae.cli.app", fail)
    assert main(["anything"]) == 9
    assert capsys.readouterr().err == "error: first\nerror: second\nerror: third\n"


def test_main_when_a_one_line_error_is_raised_prints_it_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(**_: object) -> None:
        raise ConfigError("just this")

    monkeypatch.setattr("maemae.cli.app", fail)
    assert main(["anything"]) == ConfigError.exit_code
    assert capsys.readouterr().err == "error: just this\n"

"""Every command-line date goes through one reading (``cli.dates.option_date``): the form YYYY-MM-DD only, and
a day of that form the calendar lacks said to be no such date (a new user's ``--start 2025-06-31`` was told
to write a date like 2025-03-04, which it was)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.cli.dates import option_date
from maemae.errors import ConfigError


def test_option_date_when_the_form_is_right_then_the_date() -> None:
    assert option_date("2025-03-04", "--start") == date(2025, 3, 4)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("2025-06-31", "--start '2025-06-31': no such date; expected a date as YYYY-MM-DD"),
        ("2025-02-29", "--start '2025-02-29': no such date; expected a date as YYYY-MM-DD"),
        ("20250306", "--start '20250306': expected a date as YYYY-MM-DD"),  # fromisoformat would take it
        ("2025.03.05", "--start '2025.03.05': expected a date as YYYY-MM-DD"),
        ("2025-3-5", "--start '2025-3-5': expected a date as YYYY-MM-DD"),
        ("", "--start '': expected a date as YYYY-MM-DD"),
    ],
)
def test_option_date_when_not_a_date_of_that_form_then_one_line_naming_the_option(
    text: str, said: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        option_date(text, "--start")
    assert str(raised.value) == said


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--config", "absent.toml", "--replay", "20251203"],
        ["paper", "--config", "absent.toml", "--replay", "20251203"],
    ],
)
def test_commands_when_a_date_has_the_basic_iso_form_then_refused_before_the_config_is_read(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err == f"error: {argv[-2]} '20251203': expected a date as YYYY-MM-DD\n"


@pytest.mark.parametrize(
    ("dates", "said"),
    [
        (
            ["--start", "1990-01-05", "--end", "1990-02-01"],
            "--start 1990-01-05: outside the trading calendar",
        ),
        (["--end", "2030-01-02"], "--end 2030-01-02: outside the trading calendar"),
    ],
)
def test_backtest_when_a_date_is_outside_the_trading_calendar_then_the_line_names_the_option(
    dates: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It named neither the option nor the date given (``--start 1990-01-05 --end 1990-02-01`` was told
    ``date 1990-02-01: outside the trading calendar``)."""
    config = tmp_path / "bt.toml"
    config.write_text('mode = "backtest"\n', encoding="utf-8")
    assert main(["backtest", "--config", str(config), *dates]) == 2
    assert capsys.readouterr().err == (
        f"error: {said}: expected a date from 2006-01-02 (the first day it covers) to 2027-12-31\n"
    )

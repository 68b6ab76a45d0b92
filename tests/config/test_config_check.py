"""`maemae config check`: good files pass, every kind of bad input gives one line per problem and exit 2."""

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.config import MaemaeConfig, load_config
from maemae.config.reference import BEGIN, END, render_reference
from maemae.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["maemae.toml", "minimal.toml"])
def test_config_check_when_example_file_passes(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(ROOT / "examples" / name)]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_example_config_when_loaded_states_the_defaults_it_claims() -> None:
    config = load_config(ROOT / "examples" / "maemae.toml")
    defaults = MaemaeConfig()
    assert config.risk.model_copy(update={"time_cut": defaults.risk.time_cut}) == defaults.risk
    assert config.execution == defaults.execution
    assert config.broker == defaults.broker


BAD = [
    (
        "unknown field",
        "[risk.cooldown]\nminuts = 5\n",
        "risk.cooldown.minuts = 5: unknown field (allowed: enabled, minutes)",
    ),
    (
        "wrong type",
        '[backtest]\ninitial_cash = "lots"\n',
        "backtest.initial_cash = 'lots': expected a whole number",
    ),
    ("out of range", "[risk.cooldown]\nminutes = -5\n", "risk.cooldown.minutes = -5: expected a number >= 1"),
    (
        "bad code",
        '[universe]\nsafe_asset_code = "35787"\n',
        "universe.safe_asset_code = '35787': expected a 6-character KRX code like '005930'",
    ),
    (
        "no such date",
        '[backtest]\nstart = "2025-02-30"\n',
        "backtest.start = '2025-02-30': no such date; expected a date like 2025-03-04",
    ),
    ("bad date", '[backtest]\nstart = "2025/04/01"\n', "backtest.start = '2025/04/01': expected a date like"),
    ("bad enum", 'mode = "yolo"\n', "mode = 'yolo': expected one of 'backtest', 'paper' or 'live'"),
    ("bad notifier", '[[alerts.notifiers]]\nkind = "pager"\n', "alerts.notifiers.0: unknown kind"),
    (
        "cross-field",
        "[backtest]\nstart = 2025-05-01\nend = 2025-04-01\n",
        "backtest: start 2025-05-01 is after end 2025-04-01; expected start on or before end",
    ),
    (
        "unknown strategy parameter",
        '[strategies.daily]\nclass = "sma_daily"\n[strategies.daily.params]\nshortx = 3\n',
        "strategies.daily.params.shortx = 3: unknown parameter of SMADaily (allowed: short, long,",
    ),
    (
        "bad strategy parameter",
        '[strategies.minute]\nclass = "rsi_minute"\n[strategies.minute.params]\nperiod = "x"\n',
        "strategies.minute.params.period = 'x':",
    ),
    # a timedelta overflowed with it in the first step of a run, with a traceback
    (
        "timeout beyond a day",
        "[execution]\nunfilled_timeout_s = 1000000000000000\n",
        "execution.unfilled_timeout_s = 1000000000000000: expected a number <= 86400",
    ),
    (
        "cash beyond a quadrillion won",
        "[backtest]\ninitial_cash = 10000000000000000\n",
        "backtest.initial_cash = 10000000000000000: expected a number <= 1000000000000000",
    ),
    (
        "a code listed twice",
        '[universe]\nselector = "fixed"\ncodes = ["005930", "000660", "005930"]\n',
        "universe.codes = ['005930', '000660', '005930']: 005930 listed more than once: expected each code",
    ),
    (
        "a day both closed and open",
        "[calendar]\nextra_closures = [2025-12-08]\nextra_sessions = [2025-12-08]\n",
        "calendar: 2025-12-08 in both extra_closures and extra_sessions: expected one or the other",
    ),
    (
        "too many stocks",
        "[universe]\nmax_stocks = 150\n",
        "universe.max_stocks = 150: expected a number <= 100",
    ),
    # a date as written, not Python's datetime.date(1990, 1, 5), and its bound as a date, not "a number"
    (
        "date before the calendar",
        "[backtest]\nstart = 1990-01-05\n",
        "backtest.start = 1990-01-05: expected a date >= 2006-01-02",
    ),
    (
        "date after the calendar",
        "[backtest]\nend = 2030-01-05\n",
        "backtest.end = 2030-01-05: expected a date <= 2027-12-31",
    ),
    (
        "date in quotes before the calendar",
        '[backtest]\nstart = "1990-01-05"\n',
        "backtest.start = '1990-01-05': expected a date >= 2006-01-02",
    ),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD, ids=[case[0] for case in BAD])
def test_config_check_when_input_is_bad_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, text: str, message: str
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2, case
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {path}: ")
    assert message in err


EMPTY_PATHS = [
    ("data", "root", "folder"),
    ("backtest", "out_dir", "folder"),
    ("backtest", "mapped_cache_dir", "folder"),
    ("logging", "dir", "folder"),
    ("report", "dir", "folder"),
    ("execution", "halt_file", "file"),
    ("web", "token_file", "file"),
    ("broker.kis", "token_cache", "file"),
]


@pytest.mark.parametrize("value", ["", "  "])
@pytest.mark.parametrize(("section", "key", "kind"), EMPTY_PATHS, ids=[f"{s}.{k}" for s, k, _ in EMPTY_PATHS])
def test_config_check_when_a_path_is_empty_refuses_it_rather_than_the_current_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, key: str, kind: str, value: str
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(f'[{section}]\n{key} = "{value}"\n', encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: {section}.{key} = {value!r}: expected a {kind} path, not an empty value\n"
    )


def test_config_check_when_several_problems_reports_each_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text("mode = 1\ncolour = 'red'\n[risk.stop_loss]\npct = 0\n", encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"error: {path}: ") for line in lines)


def test_config_check_when_toml_is_broken_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text('mode = "backtest"\n[risk\n', encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:2: invalid TOML: ")
    assert err.count("\n") == 1


def test_config_check_when_file_missing_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: no such config file" in capsys.readouterr().err


def test_load_config_when_valid_is_frozen() -> None:
    config = load_config(ROOT / "examples" / "minimal.toml")
    with pytest.raises(ValueError, match="frozen"):
        config.risk.stop_loss.pct = 1  # type: ignore[misc]


def test_load_config_when_bad_raises_config_error_with_exit_code_2(tmp_path: Path) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text("[broker]\nkind = 'ibkr'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.exit_code == 2


def test_configuration_doc_when_models_change_is_regenerated() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    generated = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"
    assert generated == render_reference(), "run `python -m maemae.config.reference` to refresh the doc"


def test_config_check_when_the_argument_is_empty_or_a_folder_then_one_line_saying_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty argument reached the reader as the current folder: the line named ``.`` with an OS error."""
    assert main(["config", "check", ""]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: '.': a folder, not a config file: expected the path of a TOML file"
    )
    assert main(["config", "check", str(tmp_path)]) == 2
    assert "a folder, not a config file" in capsys.readouterr().err


def test_config_check_when_data_root_is_no_folder_from_here_then_ok_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file may be checked where it does not run, so it passes; but a backtest here would be refused
    for it, and the check says so before the run does."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "maemae.toml"
    config.write_text('[data]\nroot = "var/market"\n', encoding="utf-8")
    assert main(["config", "check", str(config)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"ok: {config}")
    assert err.splitlines() == [
        f"warning: data.root = 'var/market': no such folder (relative to the current folder {tmp_path}); a "
        "backtest, a replay and a day on the clock read the market data there"
    ]
    (tmp_path / "var" / "market").mkdir(parents=True)
    assert main(["config", "check", str(config)]) == 0
    assert capsys.readouterr().err == ""

"""A user's strategy that fails while it is loaded (its ``__init__``, its ``history_days()``, a missing class
attribute) is reported as one line naming the class, the hook and the error, exit 2, by every command that
loads it: never as a traceback, and never by running with a value the engine cannot use."""

from __future__ import annotations

import pickle
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.config.strategies import StrategySpec
from maemae.errors import ConfigError
from maemae.strategy.loader import ParamsError, load_daily, load_minute
from tests.user_errors import one_error_line, refused

DOC = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"
INIT = "        super().__init__(params)\n        self.p = params\n"


def example(tmp_path: Path, *, replace: tuple[str, str] | None = None) -> Path:
    """The complete example of docs/strategies.md saved as ``my_strategies.py``, with one change."""
    found = re.search(r"Save it as `my_strategies.py`:\n\n```python\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert found is not None
    code = found.group(1)
    if replace is not None:
        assert replace[0] in code
        code = code.replace(*replace)
    path = tmp_path / "my_strategies.py"
    path.write_text(code, encoding="utf-8")
    return path


def config_file(tmp_path: Path, market_root: Path, strategies: Path) -> Path:
    """The docs' config block for ``strategies``, on the sample market."""
    path = tmp_path / "my.toml"
    path.write_text(
        f"""
[data]
root = "{market_root}"
[backtest]
out_dir = "{tmp_path / "out"}"

[strategies.daily]
class = "{strategies}:EveryDay"

[strategies.minute]
class = "{strategies}:OpenToAfternoon"
[strategies.minute.params]
quantity = 5
sell_after_bars = 240
""",
        encoding="utf-8",
    )
    return path


def daily_spec(path: Path, name: str = "EveryDay") -> StrategySpec:
    return StrategySpec.model_validate({"class": f"{path}:{name}"})


COMMANDS = [["config", "check"], ["backtest", "-c"], ["compare", "-c"], ["sweep", "--workers", "1", "-c"]]


def _command(command: list[str], config: Path) -> list[str]:
    """``command`` on ``config``; a sweep with a grid of one value beside it."""
    if command[0] != "sweep":
        return [*command, str(config)]
    grid = config.with_name("grid.toml")
    grid.write_text('[grid]\n"risk.stop_loss.pct" = [5]\n', encoding="utf-8")
    return [*command, str(config), "--grid", str(grid)]


@pytest.mark.parametrize("command", COMMANDS, ids=["config-check", "backtest", "compare", "sweep"])
@pytest.mark.parametrize(
    ("raised", "shown"),
    # sys.exit() in __init__ ended the command silently, with exit 0 and nothing written
    [('RuntimeError("boom")', "RuntimeError('boom')"), ("SystemExit(0)", "SystemExit(0)")],
)
def test_cli_when_the_strategy_init_raises_exits_2_with_one_line_naming_class_hook_and_error(
    tmp_path: Path,
    market_root: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    raised: str,
    shown: str,
) -> None:
    strategies = example(tmp_path, replace=(INIT, INIT + f"        raise {raised}\n"))
    config = config_file(tmp_path, market_root, strategies)
    code = main(_command(command, config))
    captured = capsys.readouterr()
    assert code == 2
    assert "running policy" not in captured.out  # compare: refused before any policy is said to run
    assert one_error_line(captured.err) == (
        f"error: {config}: strategies.minute.class = '{strategies}:OpenToAfternoon': "
        f"OpenToAfternoon.__init__ raised {shown}"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=["config-check", "backtest", "compare", "sweep"])
@pytest.mark.parametrize(
    ("named", "problem"),
    [
        ("{strategies}:Nothing", "{strategies} has no class Nothing"),
        ("{folder}/gone.py:EveryDay", "no such file {folder}/gone.py"),
        ("nosuch", "expected sma_daily or path/to/file.py:ClassName"),
    ],
    ids=["no-class", "no-file", "no-built-in"],
)
def test_cli_when_the_strategy_cannot_be_loaded_then_the_line_names_the_config_file_first(
    tmp_path: Path,
    market_root: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    named: str,
    problem: str,
) -> None:
    """Every command that loads the file names it as ``config check`` does: the others named the strategy's
    table alone, which did not say which file to open."""
    strategies = example(tmp_path)
    config = config_file(tmp_path, market_root, strategies)
    spec = named.format(strategies=strategies, folder=tmp_path)
    config.write_text(
        config.read_text("utf-8").replace(f'"{strategies}:EveryDay"', f'"{spec}"'), encoding="utf-8"
    )
    line = refused(main(_command(command, config)), capsys)
    expected = problem.format(strategies=strategies, folder=tmp_path)
    assert line == f"error: {config}: strategies.daily.class = '{spec}': {expected}"


@pytest.mark.parametrize(
    ("returned", "shown"),
    [
        ("'20'", "'20' (str)"),
        ("-5", "-5 (int)"),
        ("0", "0 (int)"),
        ("True", "True (bool)"),
        ("2.0", "2.0 (float)"),
    ],
)
def test_load_daily_when_history_days_returns_no_usable_count_names_class_hook_value_and_expected(
    tmp_path: Path, returned: str, shown: str
) -> None:
    strategies = example(tmp_path, replace=("        return 1\n", f"        return {returned}\n"))
    with pytest.raises(ConfigError) as info:
        load_daily(daily_spec(strategies))
    assert str(info.value) == (
        f"strategies.daily.class = '{strategies}:EveryDay': EveryDay.history_days() returned {shown}, "
        "expected a whole number (int) >= 1"
    )


def test_load_daily_when_history_days_raises_names_class_hook_and_error(tmp_path: Path) -> None:
    strategies = example(tmp_path, replace=("        return 1\n", "        raise KeyError('long')\n"))
    with pytest.raises(ConfigError) as info:
        load_daily(daily_spec(strategies))
    assert str(info.value) == (
        f"strategies.daily.class = '{strategies}:EveryDay': EveryDay.history_days() raised KeyError('long')"
    )


def test_load_daily_when_history_days_is_a_positive_int_loads_the_strategy(tmp_path: Path) -> None:
    strategies = example(tmp_path, replace=("        return 1\n", "        return 20\n"))
    assert load_daily(daily_spec(strategies)).history_days() == 20


def test_backtest_cli_when_history_days_returns_text_exits_2_before_running(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategies = example(tmp_path, replace=("        return 1\n", "        return '20'\n"))
    line = refused(main(["backtest", "-c", str(config_file(tmp_path, market_root, strategies))]), capsys)
    assert line.endswith("EveryDay.history_days() returned '20' (str), expected a whole number (int) >= 1")
    assert not (tmp_path / "out").exists()


def test_load_minute_when_the_class_has_no_name_says_so(tmp_path: Path) -> None:
    strategies = example(tmp_path, replace=('    name: ClassVar[str] = "open_to_afternoon"\n', ""))
    with pytest.raises(ConfigError) as info:
        load_minute(StrategySpec.model_validate({"class": f"{strategies}:OpenToAfternoon"}))
    assert str(info.value).endswith("OpenToAfternoon.name = None, expected the strategy's name as text")


def test_load_daily_when_the_class_has_no_params_class_says_so(tmp_path: Path) -> None:
    strategies = example(
        tmp_path, replace=("    Params: ClassVar[type[StrategyParams]] = EveryDayParams\n", "")
    )
    with pytest.raises(ConfigError) as info:
        load_daily(daily_spec(strategies))
    assert str(info.value).endswith("EveryDay.Params = None, expected a StrategyParams subclass")


def test_params_error_when_pickled_as_a_sweep_worker_sends_it_keeps_its_problems() -> None:
    """A sweep with more than one worker printed a bad parameter one character at a time: unpickled, the
    error was built again from its message, whose characters became its problems."""
    error = ParamsError(["strategies.daily.params.shrt = 2: unknown parameter", "b = 1: bad"])
    back = pickle.loads(pickle.dumps(error))
    assert back.problems == error.problems
    assert str(back) == "strategies.daily.params.shrt = 2: unknown parameter; b = 1: bad"


@pytest.mark.parametrize(
    ("load", "where", "offered"),
    [
        (load_daily, "strategies.daily", "sma_daily or"),  # one name read as a list of one
        (load_minute, "strategies.minute", "one of follow_daily, rsi_minute, or"),
    ],
)
def test_load_when_the_built_in_name_is_unknown_offers_only_the_slots_kind(
    load: Callable[[StrategySpec], object], where: str, offered: str
) -> None:
    """The daily slot was offered the minute strategies too, which it then refuses."""
    with pytest.raises(ConfigError) as info:
        load(StrategySpec.model_validate({"class": "nosuch"}))
    assert str(info.value) == (f"{where}.class = 'nosuch': expected {offered} path/to/file.py:ClassName")


@pytest.mark.parametrize(
    "command",
    [["paper", "--replay", "2025-12-03", "--speed", "0"], ["run", "--replay", "2025-12-03"]],
    ids=["paper", "run-replay"],
)
def test_trading_commands_when_the_strategy_cannot_be_loaded_then_the_line_names_the_config_file_first(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """``paper`` and ``run`` (and ``live``, on the same path) name the file as the research commands do."""
    strategies = example(tmp_path)
    config = config_file(tmp_path, market_root, strategies)
    text = config.read_text("utf-8").replace(f'"{strategies}:EveryDay"', f'"{strategies}:Nothing"')
    config.write_text(
        f'mode = "paper"\n[store]\nurl = "sqlite:///{tmp_path}/state.db"\n'
        f'[logging]\ndir = "{tmp_path / "logs"}"\n[report]\ndir = "{tmp_path / "reports"}"\n{text}',
        encoding="utf-8",
    )
    line = refused(main([*command, "-c", str(config)]), capsys)
    problem = f"strategies.daily.class = '{strategies}:Nothing': {strategies} has no class Nothing"
    assert line == f"error: {config}: {problem}"


def test_load_when_a_strategy_is_in_the_other_slot_says_where_it_goes() -> None:
    with pytest.raises(ConfigError) as info:
        load_daily(StrategySpec.model_validate({"class": "rsi_minute"}))
    assert str(info.value) == (
        "strategies.daily.class = 'rsi_minute': expected a DailyStrategy subclass; RSIMinute is a minute "
        "strategy: put it under [strategies.minute]"
    )
    with pytest.raises(ConfigError) as info:
        load_minute(StrategySpec.model_validate({"class": "sma_daily"}))
    assert str(info.value).endswith("; SMADaily is a daily strategy: put it under [strategies.daily]")


def test_load_when_the_file_is_unchanged_then_it_runs_once_and_again_once_edited(tmp_path: Path) -> None:
    """A run's start and the dashboard's view every two seconds load the strategies again: the user's file
    runs once for each text it has, as an import would, and an edited file is the one loaded."""
    runs = tmp_path / "runs.txt"
    marker = f"open({str(runs)!r}, 'a').write('x')\n"
    path = example(tmp_path)
    path.write_text(marker + path.read_text("utf-8"), encoding="utf-8")
    spec = StrategySpec.model_validate({"class": f"{path}:EveryDay"})
    first, second = load_daily(spec), load_daily(spec)
    assert type(first) is type(second)
    assert runs.read_text() == "x"
    path.write_text(path.read_text("utf-8") + "\nEDITED = True\n", encoding="utf-8")
    third = load_daily(spec)
    assert runs.read_text() == "xx"
    assert sys.modules[type(third).__module__].EDITED is True

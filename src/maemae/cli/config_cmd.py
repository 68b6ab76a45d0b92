"""``maemae config ...``: check a config file and show it with every default filled in."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from maemae.cli.app import app
from maemae.config import MaemaeConfig, StrategiesConfig, StrategySpec, load_config, parse_config
from maemae.config.loader import read_config_file
from maemae.config.root import check_live_broker
from maemae.errors import ConfigError
from maemae.wording import unset_variables, where_relative

config_app = typer.Typer(help="Check and explain configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")

FileArgument = Annotated[Path, typer.Argument(help="The TOML config file.")]


@config_app.command("check")
def check(file: FileArgument) -> None:
    """Validate FILE and its strategies' params: 'ok' and exit 0, or one line per problem on stderr and
    exit 2."""
    data = read_config_file(file)
    problems: list[str] = []
    try:
        config: MaemaeConfig | None = parse_config(data, str(file))
    except ConfigError as error:
        config = None
        problems += str(error).splitlines()
    if config is not None:
        problems += _mode_problems(config, file)
    # the strategies are loaded as a run would load them, also when other sections are refused: one check
    # reports every problem of the file
    specs = _strategies(config.strategies if config else _strategies_alone(data))
    problems += [f"{file}: {problem}" for problem in _load_strategies(specs)[1]]
    if problems or config is None:  # ``main`` prints each problem as its own error line
        raise ConfigError("\n".join(problems))
    names = ", ".join(spec.class_ for _, spec in specs) or "none"
    typer.echo(f"ok: {file} (mode={config.mode}, broker={config.broker.kind}, strategies={names})")
    _warn_of_unset_secrets(config)
    _warn_of_alert_secrets(config)
    _warn_of_a_missing_data_root(config)


def _warn_of_alert_secrets(config: MaemaeConfig) -> None:
    """A warning for each alert secret unset or malformed here: as for the KIS keys, the file may be checked
    on another machine, but here `maemae paper`, `run` and `live` would refuse to start."""
    if config.mode == "backtest":
        return
    from maemae.alerts.notifiers import secret_problems

    for problem in secret_problems(config.alerts):
        typer.echo(
            f"warning: {problem}; `maemae paper`, `run` and `live` refuse to start without it", err=True
        )


def _warn_of_a_missing_data_root(config: MaemaeConfig) -> None:
    """A warning when ``data.root`` is no folder from here: the file may be checked where it does not run,
    but a backtest, a replay or a day on the clock started here would be refused for it."""
    root = config.data.root
    if not root.is_dir():
        typer.echo(
            f"warning: data.root = {str(root)!r}: no such folder{where_relative(root)}; a backtest, a replay "
            "and a day on the clock read the market data there",
            err=True,
        )


def _strategies(strategies: StrategiesConfig) -> list[tuple[str, StrategySpec]]:
    named = (("strategies.daily", strategies.daily), ("strategies.minute", strategies.minute))
    return [(where, spec) for where, spec in named if spec is not None]


def _strategies_alone(data: dict[str, Any]) -> StrategiesConfig:
    """The strategies of a file refused elsewhere: each of daily and minute whose own table is valid (the
    problems of one that is not are among the file's already), the other one left out."""
    tables = data.get("strategies")
    tables = tables if isinstance(tables, dict) else {}
    valid: dict[str, Any] = {"daily": None, "minute": None}
    for name in valid:
        try:
            chosen = StrategiesConfig.model_validate({name: tables[name]} if name in tables else {})
        except ValidationError:
            continue
        valid[name] = getattr(chosen, name)
    return StrategiesConfig.model_validate(valid)


def _mode_problems(config: MaemaeConfig, file: Path) -> list[str]:
    """The mode and broker no command trades, whatever machine it runs on (live on the simulator or on KIS's
    paper server), in the words `maemae live` refuses them with. What depends on the command is left to it:
    ``mode = "backtest"`` is `maemae backtest`'s, and paper with ``broker.kis.paper = false`` replays."""
    try:
        check_live_broker(config)
    except ConfigError as error:
        return [f"{file}: {error}"]
    return []


def _load_strategies(specs: list[tuple[str, StrategySpec]]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each strategy loaded as a run loads it: its params as its own ``Params`` validate them, defaults filled
    in (as JSON, by where it is configured), and every problem of loading it (its class, each of its params,
    its ``__init__``), one each."""
    from maemae.strategy.loader import ParamsError, load_daily, load_minute

    params: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for where, spec in specs:
        load = load_daily if where == "strategies.daily" else load_minute
        try:
            strategy = load(spec, where)
        except ParamsError as error:
            problems += error.problems
            continue
        except ConfigError as error:
            problems.append(str(error))
            continue
        # validated again from the class, not read from the object: a user's __init__ may keep them elsewhere
        validated = type(strategy).Params.model_validate(spec.params)
        params[where] = validated.model_dump(mode="json", by_alias=True)
    return params, problems


def _warn_of_unset_secrets(config: MaemaeConfig) -> None:
    """A warning, not an error, when the KIS variables the config names give no value here: the file may be
    checked on another machine than the one it trades on, but here `maemae run` and `maemae live` would
    refuse it. An empty export is told from a missing one, in the words those refusals use."""
    if config.mode == "backtest" or not config.broker.needs_kis_secrets:
        return
    variables = config.broker.kis.secret_variables()
    unset = [name for name in variables if not os.environ.get(name, "").strip()]
    if unset:
        typer.echo(
            f"warning: broker.kis: in this environment {unset_variables(unset, os.environ)}; `maemae run` "
            "and `maemae live` on the clock read the KIS keys from them where they run; a --replay needs "
            "none (docs/brokers/kis.md)",
            err=True,
        )


@config_app.command("show")
def show(file: FileArgument) -> None:
    """Print FILE as JSON with every default filled in, the strategies' params included (as each strategy's
    own ``Params`` fill them in when a run loads it)."""
    config = load_config(file)
    params, problems = _load_strategies(_strategies(config.strategies))
    if problems:
        raise ConfigError("\n".join(f"{file}: {problem}" for problem in problems))
    tree = config.model_dump(mode="json", by_alias=True)
    for where, values in params.items():
        tree["strategies"][where.removeprefix("strategies.")]["params"] = values
    typer.echo(json.dumps(tree, ensure_ascii=False, indent=2))

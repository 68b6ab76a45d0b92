"""Dynamic parameters: ``params set`` changes a risk or execution setting of a running engine.

The change is validated against the whole config (the same pydantic models as the file), so an invalid value
is refused with one line and the old one stays. A valid one is saved as an override in the runtime document
``params`` with a ``param_changes`` row and an audit record, in one transaction; the running engine applies
the overrides before its next step, and an engine started later starts with them.

``risk.*`` and ``execution.*`` keys change at run time: they are read at every decision. So do the
configured strategies' own parameters, ``strategies.daily.params.<name>`` and
``strategies.minute.params.<name>``: validated by the strategy's ``Params`` model, and applied by building
the strategies again (a strategy's cached state is rebuilt from the bars) and evaluating the day's daily
signals with them; a daily strategy that then needs another number of daily bars (``history_days()``) has
them loaded at once. The strategies' classes and the universe are chosen before the open, so those change in
the config file, for the next start.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args

from maemae.config import MaemaeConfig, parse_config
from maemae.engine.composition import load_strategies
from maemae.engine.kernel import TradingKernel
from maemae.engine.persistence import StateRecorder
from maemae.errors import ConfigError
from maemae.ports.state import AuditEntry, ParamChange, StateChange, StateStore
from maemae.strategy.api import DailyStrategy, MinuteStrategy, StrategyParams
from maemae.strategy.loader import load_daily, load_minute, load_params

# a running day's driver, given the strategies built again with changed parameters and the moment
Rebuild = Callable[[DailyStrategy, MinuteStrategy, datetime], None]

PARAMS_DOCUMENT = "params"
RUNTIME_SECTIONS = ("risk", "execution")
STRATEGY_SLOTS = ("daily", "minute")
# execution keys a run reads once, when it starts (its timers, the kill switch's flag file it watches): a
# change saved while it runs would show in `params get` and be in force for nobody until the next start
READ_AT_START = frozenset(
    {
        "execution.halt_file",
        "execution.price_refresh_s",
        "execution.daily_eval_s",
        "execution.minute_eval_s",
        "execution.reconcile_s",
    }
)


def _annotation(key: str) -> Any:
    """The type the config models declare for ``key``, a known key under risk or execution (no aliases)."""
    model: Any = MaemaeConfig
    *sections, leaf = key.split(".")
    for part in sections:
        model = model.model_fields[part].annotation
    return model.model_fields[leaf].annotation


def _takes_a_number(key: str) -> bool:
    """Whether ``key`` holds a number (or None): ``nan`` typed for a choice is refused by its own check. A
    strategy parameter is typed by the strategy's own model, whose check names what it expects."""
    if strategy_slot(key) is not None:
        return False
    annotation = _annotation(key)
    return bool({annotation, *get_args(annotation)} & {int, float, Decimal})


def _refuse_non_finite(key: str, raw: str) -> None:
    """Refuse ``inf``, ``nan`` and a number too large for a float (``1e400``) for a number field, naming the
    value as typed.

    JSON reads ``1e400`` as infinity, so the models would name ``inf`` instead of what was typed, and a float
    field without an upper bound (``execution.resilience.reject_breaker_cooldown_s``) would take it and save
    a value that no JSON reader can load.
    """
    if not _takes_a_number(key):
        return  # a text field's own check names what it expects
    try:
        number = float(raw)
    except ValueError:
        return  # not a number at all: the models say what was expected
    if not math.isfinite(number):
        raise ConfigError(f"params: {key} = {raw}: expected a finite number")


def strategy_slot(key: str) -> str | None:
    """``daily`` or ``minute`` when ``key`` names one parameter of that configured strategy
    (``strategies.daily.params.short``), else None."""
    parts = key.split(".")
    if len(parts) == 4 and parts[0] == "strategies" and parts[1] in STRATEGY_SLOTS and parts[2] == "params":
        return parts[1]
    return None


def _changes_while_running(key: str) -> bool:
    return key.split(".")[0] in RUNTIME_SECTIONS or strategy_slot(key) is not None


def _strategies(config: MaemaeConfig) -> dict[str, DailyStrategy | MinuteStrategy]:
    """The configured strategies by slot, loaded: their ``Params`` check the parameters (one line naming the
    key, the value and what was expected) and fill in the defaults the config file left out."""
    loaded: dict[str, DailyStrategy | MinuteStrategy] = {}
    if config.strategies.daily is not None:
        loaded["daily"] = load_daily(config.strategies.daily)
    if config.strategies.minute is not None:
        loaded["minute"] = load_minute(config.strategies.minute)
    return loaded


def _strategy_params(config: MaemaeConfig) -> dict[str, StrategyParams]:
    """The configured strategies' parameters by slot, validated by each class's ``Params`` (one line naming
    the key, the value and what was expected) with the defaults the config file left out, and no strategy
    made: showing them must not run a user strategy's ``__init__``."""
    found: dict[str, StrategyParams] = {}
    if config.strategies.daily is not None:
        found["daily"] = load_params(config.strategies.daily, "strategies.daily", DailyStrategy)
    if config.strategies.minute is not None:
        found["minute"] = load_params(config.strategies.minute, "strategies.minute", MinuteStrategy)
    return found


def _dump(config: MaemaeConfig, mode: str) -> dict[str, Any]:
    """``config`` as a tree (``mode`` as pydantic's), each strategy's ``params`` in full, defaults included:
    a parameter the file does not set is in force all the same, and can be read and changed by its key."""
    tree = config.model_dump(mode=mode, by_alias=True)
    for slot, params in _strategy_params(config).items():
        tree["strategies"][slot]["params"] = params.model_dump(mode=mode)
    return tree


def _parse_value(raw: str) -> Any:
    """JSON when it parses (numbers, true/false, lists), else the text itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def value_at(tree: dict[str, Any], key: str) -> Any:
    """The value at dotted ``key``; an unknown key is refused with the names allowed where it went wrong, as
    a config file's unknown field is."""
    node: Any = tree
    path: list[str] = []
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            where = f" under {'.'.join(path)}" if path else ""
            allowed = f" (allowed{where}: {', '.join(node)})" if isinstance(node, dict) else ""
            raise ConfigError(f"params: unknown key {key!r}{allowed}")
        node = node[part]
        path.append(part)
    return node


def _set(tree: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = tree
    for part in parents:
        node = node[part]
    node[leaf] = value


def with_overrides(base: MaemaeConfig, overrides: dict[str, Any], build: bool = False) -> MaemaeConfig:
    """``base`` with every override applied, validated as a whole. ``build``: a changed strategy parameter is
    also judged by making the strategies with it, as the running engine will (a change being saved); only
    reading the parameters in force validates them by the ``Params`` models alone."""
    tree = base.model_dump(mode="json", by_alias=True)
    strategic = any(strategy_slot(key) for key in overrides)
    full = _dump(base, "json") if strategic else tree  # a strategy's parameters with its defaults
    for key, value in overrides.items():
        value_at(full, key)
        _set(tree, key, value)
    try:
        changed = parse_config(tree, "params")
        if strategic and build:
            _strategies(changed)  # a strategy's own model, or its __init__, refuses what it cannot take
        elif strategic:
            _strategy_params(changed)  # its own model refuses a parameter it cannot take
    except ConfigError as error:
        raise ConfigError(f"params: {str(error).splitlines()[0].removeprefix('params: ')}") from None
    return changed


def request_change(
    store: StateStore, base: MaemaeConfig, key: str, raw: str, actor: str, at: datetime
) -> tuple[Any, Any]:
    """Validate and save one change; returns the values in force before and after it (``in_force``: a
    Decimal stays a Decimal). Nothing is saved when it is refused."""
    if not _changes_while_running(key):
        raise ConfigError(
            f"params: {key!r} cannot change while running (only risk.*, execution.* and "
            "strategies.daily.params.* or strategies.minute.params.*): edit the config file"
        )
    if key in READ_AT_START:
        raise ConfigError(
            f"params: {key!r} is read when a run starts, so a running maemae would not apply it: edit the "
            "config file for the next start"
        )
    overrides = dict(store.runtime_document(PARAMS_DOCUMENT) or {})
    current = _with_saved(base, overrides)
    old = stored_value(current, key)
    _refuse_non_finite(key, raw)
    value = _parse_value(raw)
    overrides = _with_change(overrides, key, value)
    changed = with_overrides(base, overrides, build=True)  # refuses an invalid value with one line
    store.commit(
        StateChange(
            runtime={PARAMS_DOCUMENT: overrides},
            params=[ParamChange(at, key, old, value, actor)],
            audit=[AuditEntry(at, "param", key, {"old": old, "new": value, "by": actor})],
        )
    )
    return in_force(current, key), in_force(changed, key)


def request_reset(
    store: StateStore, base: MaemaeConfig, key: str, actor: str, at: datetime
) -> tuple[Any, Any]:
    """Drop the saved override of ``key``, so the config file's value is in force again; returns the values
    before and after. Saved and audited as a change is, in one transaction.

    Setting the file's value again would leave an override that hides the next edit of the file; and an
    override saved by an older maemae that the models now refuse (``"yes"`` for a switch) made every
    ``params`` command and a run's start refuse, with no command to remove it. So the old value is the one
    saved, never validated, and only the overrides left must hold.
    """
    overrides = dict(store.runtime_document(PARAMS_DOCUMENT) or {})
    gone = _gone_from_its_strategy(base, overrides, key)
    if not gone:
        tree = _dump(base, "json") if strategy_slot(key) else base.model_dump(mode="json", by_alias=True)
        value_at(tree, key)  # an unknown key is named as such
    holding = _holding(overrides, key)
    if holding is not None:
        raise ConfigError(
            f"params: {key} is part of the saved override of {holding}: "
            f"`maemae params reset --config F {holding}` returns it to the config file's value"
        )
    dropped = [saved for saved in overrides if saved == key or saved.startswith(f"{key}.")]
    if not dropped:
        raise ConfigError(f"params: {key} has no saved override; the config file's value is in force")
    old = overrides[key] if key in overrides else {saved: overrides[saved] for saved in dropped}
    for saved in dropped:  # the key's own override and those of its parts: the file's value, all of it
        del overrides[saved]
    changed = _with_saved(base, overrides)  # another refused override is named with its own reset
    new = None if gone else stored_value(changed, key)
    store.commit(
        StateChange(
            runtime={PARAMS_DOCUMENT: overrides},
            params=[ParamChange(at, key, old, new, actor)],
            audit=[AuditEntry(at, "param", key, {"old": old, "new": new, "by": actor, "reset": True})],
        )
    )
    return old, None if gone else in_force(changed, key)


def _gone_from_its_strategy(base: MaemaeConfig, overrides: dict[str, Any], key: str) -> bool:
    """Whether ``key`` is a saved strategy parameter that the configured strategy no longer has (its class
    was changed in the config file): every run's start refuses the override, naming ``params reset``, so the
    reset must drop it although the key is unknown now."""
    if key not in overrides or strategy_slot(key) is None:
        return False
    try:
        value_at(_dump(base, "json"), key)
    except ConfigError:
        return True
    return False


def _holding(overrides: dict[str, Any], key: str) -> str | None:
    """The saved override of a table that holds ``key`` (``risk.stop_loss`` for ``risk.stop_loss.pct``)."""
    return next((saved for saved in overrides if key.startswith(f"{saved}.")), None)


def _with_change(overrides: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """``overrides`` with ``key`` set to ``value``, kept so that no two overlap: a key inside a table saved
    whole changes inside that table's override, and a table set whole replaces the overrides of its parts.
    Overlapping, a reset of one could not bring back the config file's value: the other still set it."""
    holding = _holding(overrides, key)
    if holding is not None and isinstance(overrides[holding], dict):
        table = copy.deepcopy(overrides[holding])
        *parents, leaf = key[len(holding) + 1 :].split(".")
        node = table
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
        return {**overrides, holding: table}
    kept = {saved: v for saved, v in overrides.items() if not saved.startswith(f"{key}.")}
    return {**kept, key: value}


def current_params(store: StateStore, base: MaemaeConfig) -> MaemaeConfig:
    return _with_saved(base, dict(store.runtime_document(PARAMS_DOCUMENT) or {}))


def _with_saved(base: MaemaeConfig, overrides: dict[str, Any]) -> MaemaeConfig:
    """``base`` with the saved ``overrides``. One the models refuse (saved by an older maemae, whose rules
    were looser) is named with the command that removes it: ``params get|set`` and a run's start refuse
    until it is gone."""
    try:
        return with_overrides(base, overrides)
    except ConfigError as error:
        for key, value in overrides.items():
            try:
                with_overrides(base, {key: value})
            except ConfigError:
                raise ConfigError(
                    f"{error} (a saved override: `maemae params reset --config F {key}` returns to the "
                    "config file's value)"
                ) from None
        raise


def stored_value(config: MaemaeConfig, key: str) -> Any:
    """The value at ``key`` as a parameter change saves it (JSON): a Decimal as the number it is. The models'
    JSON dump writes a Decimal as text, and a change's old value read ``"4" -> 4.5``."""
    if strategy_slot(key) is not None:
        python, json_tree = _dump(config, "python"), _dump(config, "json")
    else:
        python, json_tree = config.model_dump(by_alias=True), config.model_dump(mode="json", by_alias=True)
    return _numbers(value_at(python, key), value_at(json_tree, key))


def _numbers(python: Any, json_value: Any) -> Any:
    """``json_value`` with each Decimal of ``python`` (the same value as Python objects) made a number."""
    if isinstance(python, Decimal):
        return int(python) if python == python.to_integral_value() else float(python)
    if isinstance(python, dict) and isinstance(json_value, dict):
        return {name: _numbers(python[name], item) for name, item in json_value.items()}
    return json_value


def in_force(config: MaemaeConfig, key: str | None = None) -> Any:
    """The runtime sections of ``config`` with the strategies' parameters, or the value at ``key``, as Python
    values.

    A Decimal stays a Decimal, so that a caller can print it as the number it is: a JSON dump of the models
    turns it into text, which ``params get`` showed as ``"0.5"``.
    """
    if key is not None and not key.startswith("strategies"):
        return value_at(config.model_dump(by_alias=True), key)
    tree = _dump(config, "python")
    if key is not None:
        return value_at(tree, key)
    strategies = {slot: {"params": spec["params"]} for slot, spec in tree["strategies"].items() if spec}
    return {section: tree[section] for section in RUNTIME_SECTIONS} | {"strategies": strategies}


def _of_strategies(overrides: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in overrides.items() if strategy_slot(key) is not None}


class ParamsWatcher:
    """Polled before each step: applies saved overrides to the running engine's risk and execution rules,
    and hands strategies built again with changed parameters to the day's driver (``rebuild``)."""

    def __init__(
        self,
        store: StateStore,
        base: MaemaeConfig,
        kernel: TradingKernel,
        recorder: StateRecorder,
        rebuild: Rebuild,
    ):
        self.store = store
        self.base = base
        self.kernel = kernel
        self.recorder = recorder
        self.rebuild = rebuild
        self.applied: dict[str, Any] = {}

    def poll(self, now: datetime) -> None:
        overrides = dict(self.store.runtime_document(PARAMS_DOCUMENT) or {})
        if overrides == self.applied:
            return
        config = _with_saved(self.base, overrides)
        self.kernel.gate.config = config.risk
        self.kernel.exits.config = config.risk
        self.kernel.orders.config = config.execution
        if _of_strategies(overrides) != _of_strategies(self.applied):
            daily, minute = load_strategies(config)
            self.kernel.minute = minute  # a new object: nothing the old one cached is carried over
            self.rebuild(daily, minute, now)
        changed = {k: v for k, v in overrides.items() if self.applied.get(k) != v}
        plain = config.model_dump(mode="json", by_alias=True)
        dumped = _dump(config, "json") if _of_strategies(self.applied) else plain
        changed |= {k: value_at(dumped, k) for k in self.applied if k not in overrides}  # reset: the file's
        self.applied = overrides
        self.recorder.checkpoint(audit=[AuditEntry(now, "param", "applied", changed)])

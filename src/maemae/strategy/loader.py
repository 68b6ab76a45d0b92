"""Loading strategies from the config: a built-in by name, or a user's class from a Python file.

``class = "path/to/file.py:ClassName"`` loads ``ClassName`` from that file; its ``Params`` validate the
config's ``params`` table, so a wrong parameter is reported with the strategy's own field names. A user
strategy subclasses ``DailyStrategy`` or ``MinuteStrategy`` (docs/strategies.md).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from maemae.config.base import toml_text
from maemae.config.loader import expected_text
from maemae.config.strategies import StrategySpec
from maemae.errors import HOOK_FAILURES, ConfigError
from maemae.strategy.api import DailyStrategy, MinuteStrategy, StrategyParams
from maemae.strategy.follow_daily import FollowDaily
from maemae.strategy.rsi_minute import RSIMinute
from maemae.strategy.sma_daily import SMADaily
from maemae.wording import where_relative

BUILT_INS: dict[str, type[DailyStrategy] | type[MinuteStrategy]] = {
    SMADaily.name: SMADaily,
    RSIMinute.name: RSIMinute,
    FollowDaily.name: FollowDaily,
}


class StrategyLoadError(ConfigError):
    """A strategy the config names cannot be loaded: its class, its params or its own code refused it. A
    class of its own so that a command run on a config file can put the file's name before it, as ``config
    check`` does: the loader knows the strategy's table, not the file it was read from."""


def _load_class(spec: str, where: str, base: type[Any]) -> type[Any]:
    """The class ``spec`` names: a built-in's name, or ``path/to/file.py:ClassName``. An unknown name is
    offered the built-ins of the slot's kind (``base``) only: a minute strategy offered for the daily slot
    would be refused next."""
    if ":" not in spec:
        if spec not in BUILT_INS:
            fitting = sorted(name for name, cls in BUILT_INS.items() if issubclass(cls, base))
            choices = fitting[0] if len(fitting) == 1 else f"one of {', '.join(fitting)},"
            raise StrategyLoadError(
                f"{where}.class = {spec!r}: expected {choices} or path/to/file.py:ClassName"
            )
        return BUILT_INS[spec]
    file, _, name = spec.rpartition(":")
    path = Path(file)
    if not path.is_file():
        raise StrategyLoadError(f"{where}.class = {spec!r}: no such file {path}{where_relative(path)}")
    found = getattr(_module(path, spec, where), name, None)
    if not isinstance(found, type):
        raise StrategyLoadError(f"{where}.class = {spec!r}: {path} has no class {name}")
    return found


# each user file's module by its resolved path, with a digest of the text it was run from
_MODULES: dict[Path, tuple[bytes, ModuleType]] = {}


def _module(path: Path, spec: str, where: str) -> ModuleType:
    """The module of the user's file, run once for each text it has: a run's start loads its strategies
    several times (the start checks, the engine, the warm-up), and `params get` and the dashboard's view load
    them to show their parameters, every two seconds; an import runs a file once too. A file changed since
    is run again, so an edited strategy is the one loaded."""
    key = path.resolve()
    try:
        digest = hashlib.sha256(path.read_bytes()).digest()
    except OSError as error:
        raise StrategyLoadError(f"{where}.class = {spec!r}: cannot read {path}: {error.strerror}") from None
    cached = _MODULES.get(key)
    if cached is not None and cached[0] == digest:
        return cached[1]
    module_spec = importlib.util.spec_from_file_location(f"maemae_user_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise StrategyLoadError(f"{where}.class = {spec!r}: cannot load {path} as Python")
    module = importlib.util.module_from_spec(module_spec)
    # registered while it runs, as an import does: a @dataclass in the file looks its module up by name
    sys.modules[module_spec.name] = module
    try:
        module_spec.loader.exec_module(module)
    except SyntaxError as error:
        del sys.modules[module_spec.name]
        raise StrategyLoadError(
            f"{where}.class = {spec!r}: {path}:{error.lineno}: syntax error: {error.msg}"
        ) from None
    except HOOK_FAILURES as error:  # the user's file failed to import: a config problem
        del sys.modules[module_spec.name]
        raise StrategyLoadError(f"{where}.class = {spec!r}: importing {path} failed: {error!r}") from None
    _MODULES[key] = (digest, module)
    return module


class ParamsError(StrategyLoadError):
    """A strategy's ``params`` refused: every problem, joined by '; ' into the one line a run prints, and each
    on its own in ``problems`` for ``config check``, which prints one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[ParamsError], tuple[list[str]]]:
        """Pickled (a sweep's worker process sends it back) with its list: by its message alone it came back
        as a list of the message's characters, printed one at a time."""
        return ParamsError, (self.problems,)


def _problem(error: ErrorDetails, cls: type[Any], where: str) -> str:
    """One parameter problem in the words ``config check`` uses for the rest of the file (``toml_text``,
    ``expected_text``). A rule across the parameters (``short`` below ``long``) has no location: it names the
    ``params`` table itself, not ``params.`` with a trailing dot, and the values it was given as ``key=value``
    pairs, if any (a sweep's trial names its parameter set this way; a Python dict read as a leak of the
    code)."""
    location = ".".join(str(part) for part in error["loc"])
    if not location:
        given = ", ".join(f"{key}={toml_text(value)}" for key, value in error.get("input", {}).items())
        return f"{where}.params{f' ({given})' if given else ''}: {expected_text(error)}"
    name = f"{where}.params.{location}"
    value = toml_text(error.get("input"))
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(cls.Params.model_fields)
        return f"{name} = {value}: unknown parameter of {cls.__name__} (allowed: {allowed})"
    return f"{name} = {value}: {expected_text(error)}"


def _params(cls: type[Any], spec: StrategySpec, where: str) -> Any:
    try:
        return cls.Params.model_validate(spec.params)
    except ValidationError as error:
        raise ParamsError([_problem(e, cls, where) for e in error.errors()]) from None


def _other_slot(cls: type[Any]) -> str:
    """Where a strategy of the other kind goes, for the line refusing it in this slot."""
    if issubclass(cls, MinuteStrategy):
        return f"; {cls.__name__} is a minute strategy: put it under [strategies.minute]"
    if issubclass(cls, DailyStrategy):
        return f"; {cls.__name__} is a daily strategy: put it under [strategies.daily]"
    return ""


def _check_class(cls: type[Any], spec: StrategySpec, where: str, base: type[Any]) -> None:
    """What the engine reads from a strategy class before it makes one: a user's class missing ``name``
    would only fail at its first error, deep in a run, and one missing ``Params`` when its params are read."""
    if not issubclass(cls, base):
        raise StrategyLoadError(
            f"{where}.class = {spec.class_!r}: expected a {base.__name__} subclass{_other_slot(cls)}"
        )
    params = getattr(cls, "Params", None)
    if not (isinstance(params, type) and issubclass(params, StrategyParams)):
        raise StrategyLoadError(
            f"{where}.class = {spec.class_!r}: {cls.__name__}.Params = {params!r}, "
            "expected a StrategyParams subclass"
        )
    if not isinstance(getattr(cls, "name", None), str):
        raise StrategyLoadError(
            f"{where}.class = {spec.class_!r}: {cls.__name__}.name = {getattr(cls, 'name', None)!r}, "
            "expected the strategy's name as text"
        )


def _checked_class(spec: StrategySpec, where: str, base: type[Any]) -> type[Any]:
    cls = _load_class(spec.class_, where, base)
    _check_class(cls, spec, where, base)
    return cls


def load_params(spec: StrategySpec, where: str, base: type[Any]) -> StrategyParams:
    """The parameters ``spec`` gives its strategy, validated by the class's ``Params`` (defaults filled in),
    without making the strategy: ``params get`` and the dashboard's view, every two seconds, only show them,
    and a user strategy's ``__init__`` may do work, or fail."""
    params: StrategyParams = _params(_checked_class(spec, where, base), spec, where)
    return params


def _instantiate(spec: StrategySpec, where: str, base: type[Any]) -> Any:
    """The strategy object. Its ``__init__`` is the user's code: an error there is reported in one line that
    names the class and the error, as a config problem (``config check`` finds it too), not a traceback."""
    cls = _checked_class(spec, where, base)
    params = _params(cls, spec, where)
    try:
        return cls(params)
    except HOOK_FAILURES as error:  # sys.exit() there ended a backtest silently, with exit 0
        raise StrategyLoadError(
            f"{where}.class = {spec.class_!r}: {cls.__name__}.__init__ raised {error!r}"
        ) from None


def _check_history_days(strategy: DailyStrategy, spec: StrategySpec, where: str) -> None:
    """Ask ``history_days()`` once, when the strategy is loaded: the engine loads that many daily bars before
    every open, and a value it cannot use (text, 0, a negative number) would otherwise fail in the middle of
    the run or quietly load no history and trade nothing. A bool is refused although Python counts it an
    int. The drivers ask again each day; a strategy whose answer changes between calls is not supported."""
    hook = f"{type(strategy).__name__}.history_days()"
    try:
        days = strategy.history_days()
    except HOOK_FAILURES as error:
        raise StrategyLoadError(f"{where}.class = {spec.class_!r}: {hook} raised {error!r}") from None
    if type(days) is not int or days < 1:
        raise StrategyLoadError(
            f"{where}.class = {spec.class_!r}: {hook} returned {days!r} ({type(days).__name__}), "
            "expected a whole number (int) >= 1"
        )


def load_daily(spec: StrategySpec, where: str = "strategies.daily") -> DailyStrategy:
    """The daily strategy ``spec`` names, with its params and ``history_days()`` validated."""
    strategy: DailyStrategy = _instantiate(spec, where, DailyStrategy)
    _check_history_days(strategy, spec, where)
    return strategy


def load_minute(spec: StrategySpec, where: str = "strategies.minute") -> MinuteStrategy:
    """The minute strategy ``spec`` names, with its params validated."""
    strategy: MinuteStrategy = _instantiate(spec, where, MinuteStrategy)
    return strategy

"""The base of every config section: frozen, no unknown keys, each value of a type its field takes, and typed
values for codes and money."""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from itertools import repeat
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from maemae.domain.codes import StockCode
from maemae.errors import InvalidStockCode

# Which of TOML's own value types a field of each type takes. Any other TOML value is refused, not converted
# as pydantic's lax mode would (``"20"`` or ``true`` read as 20 or 1, ``"yes"`` or ``1`` as true, ``0`` as the
# date 1970-01-01). A whole number is also a number; TOML has no decimal type, so a Decimal takes an integer,
# a float (``0.5``) or the number as text (``"0.5"``, as ``config show`` prints it); a date or time is a TOML
# date or time, or the same as text (as JSON keeps it: ``params set``, sweeps). The other types (text, paths,
# codes, choices, lists, tables) keep pydantic's own rules, which already refuse a number for text.
_TAKES: dict[type, tuple[type, ...]] = {
    bool: (bool,),
    int: (int,),
    float: (int, float),
    Decimal: (int, float, str),
    datetime: (datetime, str),
    date: (date, str),
    time: (time, str),
}
_TOML_VALUES = frozenset({bool, int, float, str, datetime, date, time})  # lists and tables: item by item


class _Mistyped:
    """Stands in for a value of a TOML type its field does not take: pydantic then refuses it with its own
    error for the field's type (``int_type`` for an int, ``bool_type`` for a bool, ...) at the value's own
    place, and the error names the value as it was written."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


def _checked(annotation: Any, value: Any) -> Any:
    """``value`` itself when ``annotation`` takes it (or these rules leave it to pydantic), else a copy with
    each mistyped part replaced by a ``_Mistyped``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _checked(args[0], value)
    if origin in (Union, types.UnionType):
        if value is None:
            return value
        arms = [_checked(arm, value) for arm in args if arm is not type(None)]
        return value if any(arm is value for arm in arms) else arms[0]
    if isinstance(value, dict):
        if origin not in (dict, Mapping) or len(args) != 2:
            return value  # a model's table, checked by the model
        table = {key: _checked(args[1], item) for key, item in value.items()}
        return value if all(table[key] is item for key, item in value.items()) else table
    if isinstance(value, list | tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            item_types: Any = (*args, *repeat(Any, max(0, len(value) - len(args))))
        elif origin in (list, tuple, set, frozenset, Sequence) and args:
            item_types = repeat(args[0])
        else:
            return value
        items = [_checked(item_type, item) for item_type, item in zip(item_types, value, strict=False)]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else type(value)(items)
    if type(value) not in _TOML_VALUES or not isinstance(annotation, type) or issubclass(annotation, Enum):
        return value
    kind = next((base for base in annotation.__mro__ if base in _TAKES), None)
    return value if kind is None or type(value) in _TAKES[kind] else _Mistyped(value)


def toml_text(value: Any) -> str:
    """``value`` as a config file spells it, for an error line: ``true`` and ``false`` for TOML's booleans
    (Python's repr says ``True``), dates and times in ISO form (``2025-03-04``, not ``datetime.date(2025, 3,
    4)``), the repr otherwise (text in quotes, numbers as written)."""
    if isinstance(value, _Mistyped):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, time)):  # a datetime is a date
        return value.isoformat()
    return repr(value)


class ConfigModel(BaseModel):
    """A model a config file fills (the sections below, a strategy's params): each value must be of a TOML
    type its field takes (``_TAKES``), so a mistyped value is an error naming the field, never a silent
    conversion. pydantic converts the rest as before (a Decimal from ``0.5``, a path from text)."""

    @model_validator(mode="before")
    @classmethod
    def _of_their_types(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # a model instance, or not a table: pydantic says so
        fields = {
            key: field for name, field in cls.model_fields.items() for key in {name, field.alias or name}
        }
        return {key: _checked(fields[key].annotation, v) if key in fields else v for key, v in data.items()}


class Section(ConfigModel):
    """A config section: immutable once loaded, and a typo in a key is an error, not a silent default."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def _stock_code(value: Any) -> StockCode:
    try:
        return StockCode(value)
    except InvalidStockCode as error:
        raise ValueError("expected a 6-character KRX code like '005930'") from error


Code = Annotated[StockCode, PlainValidator(_stock_code), PlainSerializer(str, return_type=str)]
Won = Annotated[int, Field(gt=0, description="whole won")]
# at most a day: an order or a timer lives within one trading day (a larger one overflowed a timedelta in a
# running day, where it ended the run)
DAY_SECONDS = 86_400
Seconds = Annotated[int, Field(gt=0, le=DAY_SECONDS, description="seconds, at most a day")]


def _not_empty(kind: str) -> Callable[[Any], Any]:
    """A check refusing an empty path (or blanks): as a path, ``""`` is the current folder, so a store, a
    backtest's outputs or a log would land among whatever is there, and a halt file there always exists.
    ``--out ""`` is refused in the same words."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError(f"expected a {kind} path, not an empty value")
        return value

    return check


FolderPath = Annotated[Path, BeforeValidator(_not_empty("folder"))]
FilePath = Annotated[Path, BeforeValidator(_not_empty("file"))]


ENV_NAME_ERROR = (
    "env_var_name"  # the error type of an EnvName that is no name (config.loader hides its value)
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str) -> str:
    """A ``*_env`` field holds the name of the variable that holds a secret. A value that is no such name is
    most likely the secret itself, pasted in the wrong place: it is refused with an error type whose value
    the loader never shows (it would otherwise land in the terminal and the logs)."""
    if _ENV_NAME.fullmatch(value) is None:
        raise PydanticCustomError(
            ENV_NAME_ERROR,
            "expected the name of an environment variable (letters, digits, _), not the secret itself",
        )
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]

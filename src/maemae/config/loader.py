"""Reading a config file: TOML into ``MaemaeConfig``, with every problem reported, one line each.

A line names the file, the dotted field path, the bad value and what was expected, e.g.
``cfg.toml: risk.cooldown.minutes = -5: expected a number >= 1``. ``ConfigError`` carries all lines, so a user
fixes the whole file in one pass instead of one error per run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from maemae.config.base import ENV_NAME_ERROR, toml_text
from maemae.config.operations import (
    EmailNotifier,
    LogNotifier,
    SlackNotifier,
    StoreConfig,
    TelegramNotifier,
)
from maemae.config.root import MaemaeConfig
from maemae.errors import ConfigError, without_passwords
from maemae.text_files import read_utf8

# an unknown field named like one of these is taken for a secret written into the file: its value is not shown
_SECRET_WORDS = ("key", "secret", "token", "password", "webhook", "account")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_DAY_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def expected_text(error: ErrorDetails) -> str:
    """What the field wanted, in words a trader reads without knowing pydantic."""
    kind, ctx = error["type"], error.get("ctx") or {}
    well_formed = _DAY_FORM.fullmatch(str(error.get("input"))) is not None
    if kind in ("date_parsing", "date_from_datetime_parsing") and well_formed:  # 2025-02-30: not the form
        return "no such date; expected a date like 2025-03-04"
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        what = "a date" if _DAY_FORM.fullmatch(str(limit)) else "a number"  # a date's bound, given as text
        return f"expected {what} {bounds[kind]} {limit}"
    messages = {
        "int_parsing": "expected a whole number",
        "int_from_float": "expected a whole number",
        "int_type": "expected a whole number",
        "bool_parsing": "expected true or false",
        "bool_type": "expected true or false",
        "decimal_parsing": "expected a number",
        "decimal_type": "expected a number",
        "float_parsing": "expected a number",
        "float_type": "expected a number",
        "finite_number": "expected a finite number",
        "date_from_datetime_parsing": "expected a date like 2025-03-04",
        "date_parsing": "expected a date like 2025-03-04",
        "date_type": "expected a date like 2025-03-04",
        "time_parsing": "expected a time like 09:30:00",
        "time_type": "expected a time like 09:30:00",
        "datetime_from_date_parsing": "expected a date and time like 2025-03-04T09:30:00",
        "datetime_parsing": "expected a date and time like 2025-03-04T09:30:00",
        "datetime_type": "expected a date and time like 2025-03-04T09:30:00",
        "string_type": "expected text in quotes",
        "path_type": "expected a path in quotes",
        "missing": "required, but missing",
        "tuple_type": "expected a list",
        "list_type": "expected a list",
        "set_type": "expected a list",
        "frozen_set_type": "expected a list",
        "dict_type": "expected a table",
        "model_type": "expected a table",
        "too_short": "expected a non-empty list",
    }
    if kind in messages:
        return messages[kind]
    if kind in ("literal_error", "enum"):
        return f"expected one of {ctx.get('expected', '')}"
    if kind == "is_instance_of":
        return f"expected a {ctx.get('class', 'value of the field type')}"
    if kind == "union_tag_invalid":
        return f"unknown kind, expected one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return "missing 'kind'"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx.get('pattern', '')}"
    if kind == "decimal_max_places":
        return f"expected a number with at most {ctx.get('decimal_places', '')} digits after the point"
    message = str(error["msg"])
    return message.removeprefix("Value error, ").replace("\n", " ")


def _model_at(model: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The section class at ``path`` inside ``model``, for listing the keys it allows."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None or isinstance(part, int):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            field = next((f for f in current.model_fields.values() if f.alias == part), None)
        annotation = field.annotation if field else None
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if current is None and annotation is not None:
            for arg in getattr(annotation, "__args__", ()):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    current = arg
    return current


def _allowed_keys(path: tuple[str | int, ...]) -> str:
    section = _model_at(MaemaeConfig, path)
    if section is None:
        return ""
    names = [field.alias or name for name, field in section.model_fields.items()]
    return f" (allowed: {', '.join(names)})"


def value_text(error: ErrorDetails) -> str:
    """The refused value as the file spells it (``true``, not Python's ``True``), a table shortened, a URL's
    password masked."""
    value = error.get("input")
    if isinstance(value, dict):
        return "{...}"
    return without_passwords(toml_text(value))


def format_problems(source: str, error: ValidationError) -> list[str]:
    """One line per problem in a validation error."""
    lines = []
    for problem in error.errors():
        location = tuple(part for part in problem["loc"] if not (isinstance(part, str) and part in _TAGS))
        dotted = ".".join(str(part) for part in location) or "(file)"
        if problem["type"] == "extra_forbidden" and _looks_secret(location[-1]):
            lines.append(f"{source}: {dotted}: {_unknown_secret(location, problem['loc'])}")
        elif problem["type"] == ENV_NAME_ERROR:  # most likely the secret itself: never shown
            lines.append(f"{source}: {dotted}: {expected_text(problem)}")
        elif problem["type"] == "extra_forbidden":
            lines.append(
                f"{source}: {dotted} = {value_text(problem)}: unknown field{_allowed_keys(location[:-1])}"
            )
        elif not location:  # a rule across sections: its message names the fields and values itself
            lines.append(f"{source}: {expected_text(problem)}")
        elif problem["type"] == "missing":
            lines.append(f"{source}: {dotted}: required, but missing")
        elif isinstance(problem.get("input"), dict):  # a rule across a table's fields: its message names them
            lines.append(f"{source}: {dotted}: {expected_text(problem)}")
        else:
            lines.append(f"{source}: {dotted} = {value_text(problem)}: {expected_text(problem)}")
    return lines


def _looks_secret(name: str | int) -> bool:
    """Whether an unknown field's name says it holds a secret (``app_key``, ``webhook_url``, ...)."""
    return any(word in str(name).lower() for word in _SECRET_WORDS)


def _unknown_secret(location: tuple[str | int, ...], raw: tuple[str | int, ...]) -> str:
    """What a line says of an unknown field that looks like a secret written into the file: without its
    value (the line reaches the terminal and the logs), and where a secret goes instead: the section's
    ``<name>_env`` field when it has one."""
    said = (
        "unknown field, its value not shown: secrets come from environment variables, never the config file"
    )
    env_field = f"{location[-1]}_env"
    # in a notifier, the kind pydantic puts before the field names its class, which _model_at cannot reach
    section = _NOTIFIERS.get(str(raw[-2])) if len(raw) > 1 else None
    section = section or _model_at(MaemaeConfig, location[:-1])
    if section is not None and env_field in section.model_fields:
        named = ".".join(str(part) for part in (*location[:-1], env_field))
        return f"{said}; set {named} to the variable's name"
    return f"{said}{_allowed_keys(location[:-1])}"


_NOTIFIERS: dict[str, type[BaseModel]] = {
    "log": LogNotifier,
    "slack": SlackNotifier,
    "email": EmailNotifier,
    "telegram": TelegramNotifier,
}
_TAGS = frozenset(_NOTIFIERS)  # discriminator tags pydantic adds to error paths


def parse_config(data: dict[str, Any], source: str = "config") -> MaemaeConfig:
    """Validate already-parsed TOML; raises ``ConfigError`` whose message has one line per problem."""
    try:
        return MaemaeConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError("\n".join(format_problems(source, error))) from None


def read_config_file(path: Path) -> dict[str, Any]:
    """A config file's TOML, not yet validated; ``ConfigError`` when it cannot be read or is not TOML."""
    path = Path(path)
    if path.is_dir():  # an empty argument reaches here as the current folder, "."
        raise ConfigError(f"{str(path)!r}: a folder, not a config file: expected the path of a TOML file")
    try:
        text = read_utf8(path, ConfigError)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file ({error})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        where = f"{path}:{position.group(1)}" if position else str(path)
        raise ConfigError(f"{where}: invalid TOML: {_TOML_POSITION.sub('', message).strip()}") from None
    return data


def load_config(path: Path, store_url: str | None = None) -> MaemaeConfig:
    """Read and validate a TOML config file. ``store_url`` (a command's ``--store``) stands in for the file's
    ``store.url`` and is checked as that field is: one config can then replay several days, each into a
    database of its own, without a copy of the file per day."""
    path = Path(path)
    settings = parse_config(read_config_file(path), str(path))
    if store_url is None:
        return settings
    try:
        store = StoreConfig(url=store_url)
    except ValidationError as error:
        problem = error.errors()[0]
        raise ConfigError(f"--store {without_passwords(store_url)!r}: {expected_text(problem)}") from None
    return settings.model_copy(update={"store": store})

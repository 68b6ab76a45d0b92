"""Which strategies run: the daily one picks stocks, the minute one times the orders (SPEC 2).

``class`` is a built-in name (``sma_daily``, ``rsi_minute``) or a user file and class,
``"path/to/file.py:ClassName"``. ``params`` is checked against the strategy's own config class when the
strategy is loaded, because only the strategy knows its parameters.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from maemae.config.base import Section

_CLASS_PATH = re.compile(r"^[a-z_][a-z0-9_]*$|^.+\.py:[A-Za-z_][A-Za-z0-9_]*$")


class StrategySpec(Section):
    class_: str = Field(alias="class", description="built-in name or 'path/to/file.py:ClassName'")
    params: dict[str, Any] = Field(default_factory=dict, description="the strategy's own parameters")

    @field_validator("class_")
    @classmethod
    def _class_path(cls, value: str) -> str:
        if not _CLASS_PATH.match(value):
            raise ValueError("expected a built-in name like 'sma_daily' or 'path/to/file.py:ClassName'")
        return value


class StrategiesConfig(Section):
    daily: StrategySpec | None = Field(
        StrategySpec.model_validate({"class": "sma_daily"}), description="picks stocks on daily bars"
    )
    minute: StrategySpec | None = Field(
        StrategySpec.model_validate({"class": "rsi_minute"}), description="times orders on minute bars"
    )

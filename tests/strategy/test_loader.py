"""Loading strategies from the config: a bad ``params`` table is reported in ``config check``'s words."""

from __future__ import annotations

from typing import Any

import pytest

from maemae.config.strategies import StrategySpec
from maemae.errors import ConfigError
from maemae.strategy.loader import load_daily


def _error(params: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        load_daily(StrategySpec.model_validate({"class": "sma_daily", "params": params}))
    return str(info.value)


def test_load_daily_when_params_break_a_model_rule_names_the_params_table_without_pydantic_prefix() -> None:
    """The values given as ``key=value`` pairs: a Python dict (``{'short': 30, ...}``) read as a leak."""
    assert _error({"short": 30, "long": 5, "volume_filter": True}) == (
        "strategies.daily.params (short=30, long=5, volume_filter=true): short (30) must be less than long "
        "(5)"
    )


def test_load_daily_when_a_param_has_the_wrong_type_names_the_field_in_plain_words() -> None:
    assert _error({"short": "x"}) == "strategies.daily.params.short = 'x': expected a whole number"


def test_load_daily_when_a_param_is_unknown_lists_the_allowed_ones() -> None:
    assert _error({"shortx": 3}).startswith(
        "strategies.daily.params.shortx = 3: unknown parameter of SMADaily (allowed: short, long,"
    )

"""What an operator changes on a maemae instance, one implementation for the CLI and the dashboard.

Every change goes through the state database (``engine.operator``, ``engine.params``): validated, saved with
an audit record naming who asked, and applied by a running engine before its next step (or by the next
engine that starts), so it does not matter which surface asked or whether an engine is running.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maemae.config import MaemaeConfig
from maemae.engine.operator import request_state
from maemae.engine.params import current_params, in_force, request_change, request_reset
from maemae.ports.state import StateStore
from maemae.risk.state import TradingState


def set_trading_state(
    store: StateStore, state: TradingState, reason: str, actor: str, at: datetime
) -> TradingState:
    """Halt (``halted``), allow sells only (``reducing``) or resume (``active``)."""
    request_state(store, state, reason, actor, at)
    return state


def parameters(store: StateStore, base: MaemaeConfig, key: str | None = None) -> Any:
    """The parameters in force (the config with saved overrides): one dotted key, or every runtime section
    (``in_force``: a Decimal stays a Decimal, which a JSON response writes as a number)."""
    return in_force(current_params(store, base), key)


def change_parameter(
    store: StateStore, base: MaemaeConfig, key: str, value: str, actor: str, at: datetime
) -> tuple[Any, Any]:
    """Validate and save one change (``value`` as JSON or text); returns (old, new)."""
    return request_change(store, base, key, value, actor, at)


def reset_parameter(
    store: StateStore, base: MaemaeConfig, key: str, actor: str, at: datetime
) -> tuple[Any, Any]:
    """Drop the saved override of ``key`` (the config file's value is in force again); returns (old, new)."""
    return request_reset(store, base, key, actor, at)

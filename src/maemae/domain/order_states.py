"""The order state machine: one explicit table of (state, event) → next state.

Every order in every mode moves only through this table (DESIGN 1.5), so an order cannot be, say, filled after
it was reported cancelled unless the table says a broker can do that. The table encodes real broker races:

* a fill can arrive while a cancel or a modify is pending (the order traded before the request reached it);
* a cancel can be refused because the order already filled;
* a submit whose answer never came is UNKNOWN; a later query settles it (found → ACCEPTED / FILLED …;
  not found → REJECTED), and fills may arrive for it, because the broker did receive it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from maemae.errors import IllegalTransition


class OrderState(StrEnum):
    CREATED = "created"  # made by the order manager, persisted, not yet sent
    DENIED = "denied"  # refused by the risk gate; never sent
    SUBMITTED = "submitted"  # the request is leaving (write-ahead: recorded before it goes)
    UNKNOWN = "unknown"  # sent, no answer: settle by query, never by sending again
    ACCEPTED = "accepted"  # the broker gave it a number; working, nothing filled
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    PENDING_MODIFY = "pending_modify"
    CANCELLED = "cancelled"  # whatever was filled before stays filled
    REJECTED = "rejected"
    EXPIRED = "expired"  # the session ended with the order working (KRX orders are day orders)


class OrderEvent(StrEnum):
    DENY = "deny"
    SUBMIT = "submit"
    SUBMIT_TIMEOUT = "submit_timeout"
    ACCEPT = "accept"
    REJECT = "reject"
    FILL_PARTIAL = "fill_partial"
    FILL_FULL = "fill_full"
    REQUEST_CANCEL = "request_cancel"
    CANCEL_CONFIRMED = "cancel_confirmed"
    CANCEL_REJECTED = "cancel_rejected"
    REQUEST_MODIFY = "request_modify"
    MODIFY_CONFIRMED = "modify_confirmed"
    MODIFY_REJECTED = "modify_rejected"
    EXPIRE = "expire"
    NOT_FOUND = "not_found"  # a query for an UNKNOWN order: the broker never got it


S = OrderState
E = OrderEvent

_WORKING = (S.ACCEPTED, S.PARTIALLY_FILLED)
_PENDING = (S.PENDING_CANCEL, S.PENDING_MODIFY)


def _build_table() -> dict[tuple[OrderState, OrderEvent], OrderState]:
    table: dict[tuple[OrderState, OrderEvent], OrderState] = {
        (S.CREATED, E.DENY): S.DENIED,
        (S.CREATED, E.SUBMIT): S.SUBMITTED,
        (S.SUBMITTED, E.ACCEPT): S.ACCEPTED,
        (S.SUBMITTED, E.REJECT): S.REJECTED,
        (S.SUBMITTED, E.SUBMIT_TIMEOUT): S.UNKNOWN,
        (S.SUBMITTED, E.FILL_PARTIAL): S.PARTIALLY_FILLED,  # a fill notice can beat the submit reply
        (S.SUBMITTED, E.FILL_FULL): S.FILLED,
        (S.UNKNOWN, E.ACCEPT): S.ACCEPTED,
        (S.UNKNOWN, E.REJECT): S.REJECTED,
        (S.UNKNOWN, E.NOT_FOUND): S.REJECTED,
        (S.UNKNOWN, E.FILL_PARTIAL): S.PARTIALLY_FILLED,
        (S.UNKNOWN, E.FILL_FULL): S.FILLED,
        (S.UNKNOWN, E.CANCEL_CONFIRMED): S.CANCELLED,
        (S.UNKNOWN, E.EXPIRE): S.EXPIRED,
    }
    for state in _WORKING:
        table[(state, E.FILL_PARTIAL)] = S.PARTIALLY_FILLED
        table[(state, E.FILL_FULL)] = S.FILLED
        table[(state, E.REQUEST_CANCEL)] = S.PENDING_CANCEL
        table[(state, E.REQUEST_MODIFY)] = S.PENDING_MODIFY
        table[(state, E.CANCEL_CONFIRMED)] = S.CANCELLED  # cancelled by the exchange (e.g. IOC remainder)
        table[(state, E.EXPIRE)] = S.EXPIRED
    for state in _PENDING:
        table[(state, E.FILL_PARTIAL)] = state  # still pending; the remainder may yet be cancelled
        table[(state, E.FILL_FULL)] = S.FILLED  # the fill won the race
        table[(state, E.CANCEL_CONFIRMED)] = S.CANCELLED
        table[(state, E.EXPIRE)] = S.EXPIRED
    table[(S.PENDING_CANCEL, E.CANCEL_REJECTED)] = S.ACCEPTED  # the order resolves its fill state on apply
    table[(S.PENDING_MODIFY, E.MODIFY_CONFIRMED)] = S.ACCEPTED
    table[(S.PENDING_MODIFY, E.MODIFY_REJECTED)] = S.ACCEPTED
    return table


# a Final dict: the compiled engine looks a move up (every order's every history line) with the dict's own
# lookup from a C global, where a ``Mapping`` in the module's namespace went through two generic lookups
TRANSITIONS: Final[dict[tuple[OrderState, OrderEvent], OrderState]] = _build_table()

TERMINAL_STATES: Final[frozenset[OrderState]] = frozenset(
    {S.DENIED, S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED}
)
OPEN_STATES: Final[frozenset[OrderState]] = frozenset(
    {S.SUBMITTED, S.UNKNOWN, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_MODIFY}
)


# the table by state, then event, for ``next_state``: two lookups of keys whose hash the strings keep, where
# a ``(state, event)`` key is a new tuple, hashed and compared item by item on every move
_MOVES: Final[dict[OrderState, dict[OrderEvent, OrderState]]] = {state: {} for state in OrderState}
for (_state, _event), _next in TRANSITIONS.items():
    _MOVES[_state][_event] = _next


def next_state(state: OrderState, event: OrderEvent) -> OrderState:
    """The state after ``event``; raises ``IllegalTransition`` when the table has no such move."""
    new = _MOVES[state].get(event)
    if new is None:
        raise IllegalTransition(f"order in state {state.value}: event {event.value} is not allowed")
    return new

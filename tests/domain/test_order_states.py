import itertools
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.clock_time import KST
from maemae.domain.order_states import (
    OPEN_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    OrderEvent,
    OrderState,
    next_state,
)
from maemae.errors import IllegalTransition

S, E = OrderState, OrderEvent
AT = datetime(2025, 3, 4, 10, 0, tzinfo=KST)

EXPECTED_LEGAL = {
    (S.CREATED, E.DENY): S.DENIED,
    (S.CREATED, E.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, E.SUBMIT_TIMEOUT): S.UNKNOWN,
    (S.UNKNOWN, E.NOT_FOUND): S.REJECTED,
    (S.UNKNOWN, E.FILL_FULL): S.FILLED,
    (S.ACCEPTED, E.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.FILL_FULL): S.FILLED,
    (S.PENDING_CANCEL, E.FILL_PARTIAL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.CANCEL_CONFIRMED): S.CANCELLED,
    (S.PARTIALLY_FILLED, E.EXPIRE): S.EXPIRED,
}


@pytest.mark.parametrize(("move", "target"), list(EXPECTED_LEGAL.items()))
def test_next_state_when_move_is_a_known_broker_path_follows_table(
    move: tuple[OrderState, OrderEvent], target: OrderState
) -> None:
    assert next_state(*move) is target


@pytest.mark.parametrize(("state", "event"), list(itertools.product(OrderState, OrderEvent)))
def test_next_state_when_pair_not_in_table_raises_and_when_in_table_returns_it(
    state: OrderState, event: OrderEvent
) -> None:
    if (state, event) in TRANSITIONS:
        assert next_state(state, event) is TRANSITIONS[(state, event)]
    else:
        with pytest.raises(IllegalTransition, match=f"state {state.value}: event {event.value}"):
            next_state(state, event)


def test_terminal_states_when_any_event_never_leave() -> None:
    for state, event in itertools.product(TERMINAL_STATES, OrderEvent):
        assert (state, event) not in TRANSITIONS


def test_submitted_order_when_timeout_cannot_be_submitted_again() -> None:
    assert (S.UNKNOWN, E.SUBMIT) not in TRANSITIONS
    assert (S.SUBMITTED, E.SUBMIT) not in TRANSITIONS


@given(st.lists(st.sampled_from(list(OrderEvent)), max_size=30))
def test_random_event_sequences_when_applied_stay_inside_the_table(events: list[OrderEvent]) -> None:
    state = S.CREATED
    for event in events:
        if (state, event) not in TRANSITIONS:
            with pytest.raises(IllegalTransition):
                next_state(state, event)
            continue
        was_terminal = state in TERMINAL_STATES
        state = next_state(state, event)
        assert not was_terminal
        assert state in OPEN_STATES | TERMINAL_STATES

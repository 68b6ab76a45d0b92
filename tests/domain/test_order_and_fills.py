from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.clock_time import KST, compact_date, dated_id
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.fill import Fill
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent, OrderState
from maemae.errors import DomainError, IllegalTransition

CODE = StockCode("005930")
T0 = datetime(2025, 3, 4, 9, 30, tzinfo=KST)


def make_order(quantity: int = 10, price: int = 70_000) -> Order:
    order = Order("o1", CODE, Side.BUY, quantity, OrderType.LIMIT, price, created_at=T0)
    order.apply(OrderEvent.SUBMIT, T0)
    order.apply(OrderEvent.ACCEPT, T0)
    return order


def make_fill(n: int, quantity: int, price: int = 70_000) -> Fill:
    return Fill(
        f"f{n}", "o1", "B1", CODE, Side.BUY, quantity, price, T0 + timedelta(seconds=n), commission=10
    )


def test_record_fill_when_partial_then_rest_moves_to_filled() -> None:
    order = make_order()
    assert order.record_fill(make_fill(1, 4))
    assert order.state is OrderState.PARTIALLY_FILLED
    assert order.record_fill(make_fill(2, 6, 70_100))
    assert order.state is OrderState.FILLED
    assert (order.filled_quantity, order.filled_amount, order.commission) == (10, 700_600, 20)
    assert str(order.average_fill_price) == "70060"


def test_record_fill_when_same_fill_twice_counts_once() -> None:
    order = make_order()
    assert order.record_fill(make_fill(1, 4))
    assert not order.record_fill(make_fill(1, 4))
    assert order.filled_quantity == 4


def test_record_fill_when_over_remaining_raises() -> None:
    order = make_order()
    with pytest.raises(DomainError, match="exceeds the remaining 10"):
        order.record_fill(make_fill(1, 11))


def test_record_fill_when_wrong_side_raises() -> None:
    order = make_order()
    fill = Fill("f1", "o1", "B1", CODE, Side.SELL, 1, 70_000, T0)
    with pytest.raises(DomainError, match="expected buy 005930"):
        order.record_fill(fill)


def test_cancel_when_partially_filled_keeps_filled_quantity() -> None:
    order = make_order()
    order.record_fill(make_fill(1, 3))
    order.apply(OrderEvent.REQUEST_CANCEL, T0)
    order.apply(OrderEvent.CANCEL_CONFIRMED, T0)
    assert order.state is OrderState.CANCELLED
    assert order.filled_quantity == 3


def test_cancel_rejected_when_partially_filled_returns_to_partially_filled() -> None:
    order = make_order()
    order.record_fill(make_fill(1, 3))
    order.apply(OrderEvent.REQUEST_CANCEL, T0)
    assert order.apply(OrderEvent.CANCEL_REJECTED, T0) is OrderState.PARTIALLY_FILLED


def test_fill_when_cancel_pending_wins_race_and_fills() -> None:
    order = make_order()
    order.apply(OrderEvent.REQUEST_CANCEL, T0)
    order.record_fill(make_fill(1, 10))
    assert order.state is OrderState.FILLED


def test_apply_when_order_filled_refuses_cancel() -> None:
    order = make_order()
    order.record_fill(make_fill(1, 10))
    with pytest.raises(IllegalTransition):
        order.apply(OrderEvent.REQUEST_CANCEL, T0)


def test_order_when_limit_without_price_raises() -> None:
    with pytest.raises(DomainError, match="needs a positive limit price"):
        Order("o2", CODE, Side.BUY, 1, OrderType.LIMIT, None, created_at=T0)


def test_order_when_naive_time_raises() -> None:
    with pytest.raises(DomainError, match="timezone-aware"):
        Order("o3", CODE, Side.BUY, 1, OrderType.MARKET, None, created_at=datetime(2025, 3, 4, 9, 0))


def test_modify_terms_when_reducing_keeps_filled_and_sets_new_price() -> None:
    order = make_order()
    order.record_fill(make_fill(1, 4))
    order.apply(OrderEvent.REQUEST_MODIFY, T0)
    order.modify_terms(price=69_900, quantity=2, broker_order_no="B2")
    order.apply(OrderEvent.MODIFY_CONFIRMED, T0)
    assert (order.quantity, order.remaining, order.limit_price, order.broker_order_no) == (6, 2, 69_900, "B2")
    assert order.state is OrderState.PARTIALLY_FILLED


@given(
    st.integers(min_value=1, max_value=500),
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=200_000)),
        max_size=40,
    ),
    st.booleans(),
)
def test_partial_fills_when_any_sequence_sums_exactly_and_never_exceed(
    quantity: int, fills: list[tuple[int, int]], repeat_each: bool
) -> None:
    order = make_order(quantity)
    expected_qty = expected_amount = 0
    for n, (size, price) in enumerate(fills):
        fill = Fill(f"f{n}", "o1", "B1", CODE, Side.BUY, size, price, T0)
        if size > order.remaining:
            with pytest.raises(DomainError):
                order.record_fill(fill)
            continue
        assert order.record_fill(fill)
        if repeat_each:
            assert not order.record_fill(fill)
        expected_qty += size
        expected_amount += size * price
    assert order.filled_quantity == expected_qty <= quantity
    assert order.filled_amount == expected_amount
    if expected_qty == quantity:
        assert order.state is OrderState.FILLED
    elif expected_qty:
        assert order.state is OrderState.PARTIALLY_FILLED
    else:
        assert order.state is OrderState.ACCEPTED


@given(st.dates(min_value=date(1000, 1, 1)))  # strftime does not pad years before 1000
def test_compact_date_when_any_date_is_the_strftime_form(day: date) -> None:
    assert compact_date(day) == f"{day:%Y%m%d}"
    assert compact_date(datetime.combine(day, time(15, 30), KST)) == f"{day:%Y%m%d}"  # an order's moment


@given(st.dates(), st.integers(min_value=0, max_value=10**9))
def test_dated_id_when_any_day_and_number_is_the_formatted_form(day: date, number: int) -> None:
    assert compact_date(day) == f"{day.year:04d}{day.month:02d}{day.day:02d}"
    assert dated_id(day, number) == f"{day.year:04d}{day.month:02d}{day.day:02d}-{number:06d}"


def test_dated_id_when_the_day_goes_back_and_forth_carries_each_call_s_day() -> None:
    # the last id's day is kept: a call on another day, or on an earlier one again, must not reuse it
    first, second = datetime(2026, 1, 5, 9, 0, tzinfo=KST), datetime(2026, 1, 6, 9, 0, tzinfo=KST)
    made = [dated_id(moment, n) for n, moment in enumerate([first, first, second, first, second], start=1)]
    assert made == [
        "20260105-000001",
        "20260105-000002",
        "20260106-000003",
        "20260105-000004",
        "20260106-000005",
    ]

"""The persisted risk state: day rollover, trade counting and a lossless JSON round trip."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.errors import DataError
from maemae.risk.state import CountedOrder, RiskState, TradingState

SAMSUNG = StockCode("005930")
HYNIX = StockCode("000660")
DAY = date(2025, 3, 4)
NEXT_DAY = date(2025, 3, 5)


def at(hh: int, mm: int, ss: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=KST)


def test_note_fill_when_second_fill_of_same_order_counts_one_trade() -> None:
    state = RiskState()
    state.start_day(DAY, 10_000_000)
    assert state.note_fill("o1", SAMSUNG, Side.BUY, 70_000, at(9, 30)) is True
    assert state.note_fill("o1", SAMSUNG, Side.BUY, 70_100, at(9, 31)) is False
    assert state.trades_today(SAMSUNG) == 1
    assert state.entries_today(SAMSUNG) == 1
    assert state.trades_total == 1


def test_note_fill_when_buy_then_sell_counts_two_trades_and_one_entry() -> None:
    state = RiskState()
    state.start_day(DAY, 10_000_000)
    state.note_fill("o1", SAMSUNG, Side.BUY, 70_000, at(9, 30))
    state.note_fill("o2", SAMSUNG, Side.SELL, 71_000, at(10, 12))
    assert state.trades_today(SAMSUNG) == 2
    assert state.entries_today(SAMSUNG) == 1
    assert state.last_sell_at[SAMSUNG] == at(10, 12)
    assert state.last_exit_price[SAMSUNG] == 71_000
    assert state.trades_today(HYNIX) == 0


def test_start_day_when_new_day_resets_counters_but_keeps_last_sell() -> None:
    state = RiskState()
    state.start_day(DAY, 10_000_000)
    state.note_fill("o1", SAMSUNG, Side.SELL, 71_000, at(15, 10))
    state.note_order_sent(at(15, 10), 710_000)
    state.start_day(NEXT_DAY, 9_000_000)
    assert state.trades_today(SAMSUNG) == 0
    assert state.trades_total == 0
    assert state.amount_today == 0
    assert state.day_start_equity == 9_000_000
    assert state.last_sell_at[SAMSUNG] == at(15, 10)


def test_start_day_when_same_day_again_keeps_counters_and_start_equity() -> None:
    state = RiskState()
    state.start_day(DAY, 10_000_000)
    state.note_fill("o1", SAMSUNG, Side.BUY, 70_000, at(9, 30))
    state.start_day(DAY, 8_000_000)  # a restart in the middle of the session
    assert state.trades_today(SAMSUNG) == 1
    assert state.day_start_equity == 10_000_000


def test_orders_in_window_when_order_exactly_one_minute_old_excludes_it() -> None:
    state = RiskState()
    state.start_day(DAY, 1)
    state.note_order_sent(at(10, 0, 0), 1)
    state.note_order_sent(at(10, 0, 30), 1)
    assert state.orders_in_window(at(10, 0, 59)) == 2
    assert state.orders_in_window(at(10, 1, 0)) == 1
    assert state.orders_in_window(at(10, 1, 30)) == 0


def _sent(state: RiskState, order_id: str, price: int, quantity: int) -> None:
    """What the gate and the kernel note for one order sent."""
    state.note_order_sent(at(10, 0), price * quantity)
    state.note_order_working(order_id, price, quantity)


def test_amount_today_when_partly_filled_then_cancelled_keeps_only_the_filled_part() -> None:
    state = RiskState()
    state.start_day(DAY, 100_000_000)
    _sent(state, "o1", 10_000, 100)
    _sent(state, "o2", 5_000, 10)
    assert state.amount_today == 1_050_000
    state.note_order_ended("o1", filled=30)  # 70 shares cancelled unfilled
    assert state.amount_today == 300_000 + 50_000
    assert state.orders_in_window(at(10, 0)) == 2  # the rate limit still counts it: a send-cancel loop stops
    assert state.working_orders == {"o2": CountedOrder(5_000, 10)}
    state.note_order_ended("o1", filled=30)  # the same end seen again: taken back once
    state.note_order_ended("o2", filled=10)  # filled in full: nothing to take back
    assert state.amount_today == 350_000
    assert state.working_orders == {}


def test_amount_today_when_an_order_is_re_priced_counts_it_once_at_its_counted_price() -> None:
    """A replace on the unfilled timeout modifies the same order: counted once, while it works, and its
    unfilled rest is taken back at the price it was counted at, not the new one."""
    state = RiskState()
    state.start_day(DAY, 100_000_000)
    _sent(state, "o1", 10_000, 100)
    assert state.amount_today == 1_000_000  # re-priced twice to 10,100: still the one order's amount
    state.note_order_ended("o1", filled=40)
    assert state.amount_today == 400_000


def test_note_order_ended_when_the_order_was_sent_on_an_earlier_day_changes_nothing() -> None:
    state = RiskState()
    state.start_day(DAY, 100_000_000)
    _sent(state, "o1", 10_000, 100)
    state.start_day(NEXT_DAY, 100_000_000)
    _sent(state, "o2", 10_000, 10)
    state.note_order_ended("o1", filled=0)  # a query closes yesterday's order: today's amount is today's
    assert state.amount_today == 100_000


def test_amount_today_when_saved_and_loaded_mid_day_gives_the_same_count_and_takes_back_once() -> None:
    state = RiskState()
    state.start_day(DAY, 100_000_000)
    _sent(state, "o1", 10_000, 100)
    _sent(state, "o2", 20_000, 10)
    state.note_order_ended("o1", filled=25)
    restored = RiskState.from_dict(json.loads(json.dumps(state.to_dict())))
    restored.start_day(DAY, 1)  # the engine calls this again after the restart
    assert restored.amount_today == state.amount_today == 450_000
    restored.note_order_ended("o1", filled=25)  # re-read from the store and settled again: nothing more
    restored.note_order_ended("o2", filled=0)
    assert restored.amount_today == 250_000


def test_from_dict_when_saved_before_working_orders_were_kept_loads_with_none() -> None:
    saved = _filled_state().to_dict()
    del saved["working_orders"]
    restored = RiskState.from_dict(saved)
    assert restored.working_orders == {}
    assert restored.amount_today == 1_805_000


def test_is_halted_when_next_day_is_false() -> None:
    state = RiskState()
    state.halt_for_day(DAY)
    assert state.is_halted(DAY)
    assert not state.is_halted(NEXT_DAY)


def _filled_state() -> RiskState:
    state = RiskState()
    state.start_day(DAY, 12_345_678)
    state.halt_for_day(DAY)
    state.operator_state = TradingState.REDUCING
    state.note_fill("o1", SAMSUNG, Side.BUY, 70_000, at(9, 30))
    state.note_fill("o2", SAMSUNG, Side.SELL, 71_000, at(10, 12, 7))
    state.note_fill("o3", HYNIX, Side.BUY, 180_500, at(10, 13))
    state.note_order_sent(at(10, 13), 1_805_000)
    state.note_order_working("o3", 180_500, 10)
    state.mark_take_profit(HYNIX, 190_000, at(11, 0))
    return state


def test_to_dict_when_round_tripped_through_json_gives_equal_state() -> None:
    state = _filled_state()
    text = json.dumps(state.to_dict())
    restored = RiskState.from_dict(json.loads(text))
    assert restored == state
    assert restored.to_dict() == state.to_dict()
    assert restored.last_sell_at[SAMSUNG].tzinfo is not None
    assert isinstance(next(iter(restored.last_sell_at)), StockCode)


def test_from_dict_when_restored_keeps_cooldown_inputs_and_caps() -> None:
    restored = RiskState.from_dict(json.loads(json.dumps(_filled_state().to_dict())))
    restored.start_day(DAY, 1)  # the engine calls this again after the restart
    assert restored.trades_today(SAMSUNG) == 2
    assert restored.last_sell_at[SAMSUNG] == at(10, 12, 7)
    assert restored.is_halted(DAY)
    assert "o1" in restored.counted_orders
    assert restored.note_fill("o1", SAMSUNG, Side.BUY, 70_000, at(9, 31)) is False


@given(
    trades=st.dictionaries(st.sampled_from(["005930", "000660", "035720", "A0001A"]), st.integers(0, 1000)),
    amount=st.integers(0, 10**15),
    seconds=st.lists(st.integers(0, 6 * 3600), max_size=5),
)
def test_to_dict_when_any_counters_round_trips_exactly(
    trades: dict[str, int], amount: int, seconds: list[int]
) -> None:
    state = RiskState(day=DAY, day_start_equity=amount, amount_today=amount)
    state.trades_by_code = {StockCode(c): n for c, n in trades.items()}
    base = at(9, 0)
    for s in sorted(seconds):
        state.order_times.append(base + timedelta(seconds=s))
    assert RiskState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", 99, "'version'"),
        ("day_start_equity", "1000", "'day_start_equity'"),
        ("day", "04/03/2025", "'day'"),
        ("operator_state", "paused", "'operator_state'"),
        ("last_sell_at", {"005930": "2025-03-04T10:12:00"}, "'last_sell_at.005930'"),
        ("trades_by_code", {"5930": 1}, "'trades_by_code'"),
        ("order_times", "none", "'order_times'"),
        ("working_orders", {"o3": {"price": "180500", "quantity": 10}}, "'working_orders.o3.price'"),
        ("working_orders", {"o3": 1_805_000}, "'working_orders.o3'"),
    ],
)
def test_from_dict_when_field_is_damaged_raises_data_error_naming_it(
    field: str, value: object, message: str
) -> None:
    data = _filled_state().to_dict()
    data[field] = value
    with pytest.raises(DataError, match=message) as info:
        RiskState.from_dict(data)
    assert "\n" not in str(info.value)


def test_from_dict_when_field_missing_raises_data_error() -> None:
    data = _filled_state().to_dict()
    del data["trades_total"]
    with pytest.raises(DataError, match="'trades_total': missing"):
        RiskState.from_dict(data)

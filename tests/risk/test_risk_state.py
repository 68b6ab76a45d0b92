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
from maemae.risk.state import RiskState, TradingState

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

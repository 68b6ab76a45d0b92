from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.account import Account
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.fill import Fill
from maemae.domain.position import Position
from maemae.errors import DomainError, InvalidStockCode

CODE = StockCode("A005930")
T0 = datetime(2025, 3, 4, 10, 0, tzinfo=KST)


def fill(n: int, side: Side, quantity: int, price: int, commission: int = 0, tax: int = 0) -> Fill:
    return Fill(f"f{n}", f"o{n}", f"B{n}", CODE, side, quantity, price, T0, commission, tax)


def test_stock_code_when_prefixed_is_normalised() -> None:
    assert CODE == "005930"
    assert StockCode("q530031") == "530031"


@pytest.mark.parametrize("bad", ["5930", "0059300", "00593$", "", "12-345", "X0059300"])
def test_stock_code_when_malformed_raises_one_line_error(bad: str) -> None:
    with pytest.raises(InvalidStockCode) as info:
        StockCode(bad)
    assert "\n" not in str(info.value)
    assert repr(bad) in str(info.value) or bad in str(info.value)


def test_position_when_round_trip_realises_cash_change() -> None:
    position = Position(CODE)
    buy = fill(1, Side.BUY, 10, 70_000, commission=105)
    sell = fill(2, Side.SELL, 10, 72_000, commission=108, tax=1_440)
    position.apply_fill(buy)
    realised = position.apply_fill(sell)
    assert realised == buy.cash_change + sell.cash_change == 18_347
    assert position.is_flat
    assert position.cost_basis == 0


def test_position_when_a_sell_fills_more_than_owned_books_the_owned_part_as_maemaes() -> None:
    """Only after reconciliation cut what maemae owns; refusing the fill would stop every restart at it."""
    position = Position(CODE, account_quantity=100)
    position.apply_fill(fill(1, Side.BUY, 5, 10_000, commission=10))  # 95 external shares beside
    realised = position.apply_fill(fill(2, Side.SELL, 10, 11_000, commission=20, tax=200))
    assert realised == (110_000 - 220) * 5 // 10 - 50_010 == 4_880
    assert (position.owned_quantity, position.account_quantity, position.cost_basis) == (0, 95, 0)
    assert position.realised_pnl == realised
    assert position.opened_at is None
    capped = Position(CODE)
    capped.apply_fill(fill(3, Side.SELL, 18, 10_000))  # owned and held both cut to 0 earlier
    assert (capped.owned_quantity, capped.account_quantity) == (0, 0)


def test_position_when_account_holds_external_shares_reports_them() -> None:
    position = Position(CODE)
    position.apply_fill(fill(1, Side.BUY, 5, 10_000))
    position.set_account_quantity(12)
    assert (position.owned_quantity, position.external_quantity) == (5, 7)


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(1, 50), st.integers(1_000, 90_000), st.integers(0, 500)),
        max_size=40,
    )
)
def test_position_when_any_fill_sequence_realised_plus_basis_equals_cash(
    moves: list[tuple[bool, int, int, int]],
) -> None:
    position = Position(CODE)
    cash = 0
    for n, (is_buy, quantity, price, cost) in enumerate(moves):
        side = Side.BUY if is_buy else Side.SELL
        if side is Side.SELL:
            quantity = min(quantity, position.owned_quantity)
            if quantity == 0:
                continue
        item = fill(n, side, quantity, price, commission=cost, tax=cost if side is Side.SELL else 0)
        position.apply_fill(item)
        cash += item.cash_change
        assert position.cost_basis >= 0
    # whatever remains is held at cost: realised P&L is the cash made beyond the money still tied up
    assert position.realised_pnl == cash + position.cost_basis


def test_account_when_sale_settles_t_plus_2_cash_is_orderable_before() -> None:
    account = Account(settled_cash=1_000_000)
    account.apply_fill(fill(1, Side.SELL, 10, 10_000, commission=15, tax=150), settles_on=date(2025, 3, 6))
    assert account.cash == 1_099_835
    assert account.orderable_cash == 1_099_835
    assert account.settled_cash == 1_000_000
    assert account.settle(date(2025, 3, 5)) == 0
    assert account.settle(date(2025, 3, 6)) == 99_835
    assert account.settled_cash == 1_099_835


def test_account_when_orders_reserve_cash_cannot_double_spend() -> None:
    account = Account(settled_cash=100_000)
    account.reserve("a", 60_000)
    with pytest.raises(DomainError, match="only 40000 won is orderable"):
        account.reserve("b", 60_000)
    account.release("a")
    account.reserve("b", 60_000)
    assert account.orderable_cash == 40_000


def test_account_when_buy_fills_reservation_shrinks_by_used_cash() -> None:
    account = Account(settled_cash=100_000)
    account.reserve("o1", 50_010)
    account.apply_fill(fill(1, Side.BUY, 2, 10_000, commission=3), settles_on=date(2025, 3, 6))
    assert account.reserved["o1"] == 50_010 - 20_003
    assert account.cash == 79_997

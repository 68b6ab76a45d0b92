"""The gate's count of the shares cash pays for, commission included: the most that fit, found at once for
any account (counting down a share at a time hung a backtest with a quadrillion won of cash)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from maemae.risk.gate import _affordable


def _most_that_fit(cash: int, price: int, rate: tuple[int, int]) -> int:
    """Plainly: the largest count whose cost and commission is within ``cash``, by bisection."""
    low, high = 0, cash // price
    while low < high:
        middle = (low + high + 1) // 2
        amount = middle * price
        if amount + amount * rate[0] // rate[1] <= cash:
            low = middle
        else:
            high = middle - 1
    return low


@given(
    cash=st.integers(0, 10**9),
    price=st.integers(1, 3_000_000),
    rate=st.sampled_from([(0, 1), (15, 100_000), (1_5, 10_000), (1, 3), (3, 2)]),
)
def test_affordable_when_any_cash_price_and_rate_then_the_most_shares_that_fit(
    cash: int, price: int, rate: tuple[int, int]
) -> None:
    shares = _affordable(cash, price, lambda amount: amount * rate[0] // rate[1])
    assert shares == _most_that_fit(cash, price, rate)


def test_affordable_when_the_account_is_a_quadrillion_won_then_at_once_and_within_the_cash() -> None:
    def commission(amount: int) -> int:
        return amount * 15 // 100_000

    shares = _affordable(10**15, 10_000, commission)
    assert shares * 10_000 + commission(shares * 10_000) <= 10**15
    assert (shares + 1) * 10_000 + commission((shares + 1) * 10_000) > 10**15

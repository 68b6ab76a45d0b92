from datetime import date
from decimal import ROUND_FLOOR, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.enums import InstrumentType, Market, Side
from maemae.errors import DomainError
from maemae.krx.calendar import default_calendar
from maemae.krx.costs import CostModel, sell_tax_rate
from maemae.krx.settlement import settlement_date

CAL = default_calendar()


@pytest.mark.parametrize(
    ("settles", "rate"),
    [
        ("2019-05-31", "0.0030"),
        ("2019-06-03", "0.0025"),
        ("2020-12-30", "0.0025"),
        ("2021-01-04", "0.0023"),
        ("2022-12-29", "0.0023"),
        ("2023-01-02", "0.0020"),
        ("2024-01-02", "0.0018"),
        ("2025-01-02", "0.0015"),
        ("2025-12-30", "0.0015"),
        ("2026-01-02", "0.0020"),
    ],
)
@pytest.mark.parametrize("market", list(Market))
def test_sell_tax_rate_when_settlement_date_in_period_matches_table(
    settles: str, rate: str, market: Market
) -> None:
    assert sell_tax_rate(date.fromisoformat(settles), market, InstrumentType.STOCK) == Decimal(rate)


def test_sell_tax_rate_when_etf_or_etn_is_exempt() -> None:
    assert sell_tax_rate(date(2026, 3, 3), Market.KOSPI, InstrumentType.ETF) == 0
    assert sell_tax_rate(date(2026, 3, 3), Market.KOSPI, InstrumentType.ETN) == 0


@pytest.mark.parametrize(
    ("trade", "rate"),
    [
        ("2024-12-26", "0.0018"),
        ("2024-12-27", "0.0015"),
        ("2025-12-26", "0.0015"),
        ("2025-12-29", "0.0020"),
        ("2019-05-29", "0.0030"),
        ("2019-05-30", "0.0025"),
    ],
)
def test_sell_tax_when_trade_near_rate_change_uses_settlement_rate(trade: str, rate: str) -> None:
    model = CostModel()
    tax = model.sell_tax(10_000_000, date.fromisoformat(trade), Market.KOSPI, InstrumentType.STOCK, CAL)
    assert tax == int(10_000_000 * Decimal(rate))


def test_costs_when_buy_pays_commission_only_truncated_to_won() -> None:
    costs = CostModel().costs(Side.BUY, 1_234_567, date(2025, 3, 4), Market.KOSPI, InstrumentType.STOCK, CAL)
    assert costs.commission == 185  # 185.185 won, truncated
    assert costs.tax == 0


def test_costs_when_sell_pays_commission_and_tax() -> None:
    costs = CostModel(Decimal("0.0001")).costs(
        Side.SELL, 1_000_000, date(2025, 3, 4), Market.KOSDAQ, InstrumentType.STOCK, CAL
    )
    assert (costs.commission, costs.tax, costs.total) == (100, 1_500, 1_600)


def test_cost_model_when_rate_negative_raises() -> None:
    with pytest.raises(DomainError, match=r"commission rate -0\.1"):
        CostModel(Decimal("-0.1"))


def test_settlement_date_when_across_holidays_is_two_sessions_later() -> None:
    assert settlement_date(date(2025, 3, 6), CAL) == date(2025, 3, 10)
    assert settlement_date(date(2025, 12, 29), CAL) == date(2026, 1, 2)


@given(
    amount=st.integers(min_value=0, max_value=10**13),
    rate=st.decimals(min_value=0, max_value=Decimal("0.999999"), places=6),
    day=st.dates(min_value=date(2018, 1, 1), max_value=date(2026, 12, 1)),
)
def test_costs_when_any_amount_and_rate_equal_the_decimal_floor(
    amount: int, rate: Decimal, day: date
) -> None:
    """Costs are computed in integers; they must be the truncation of the exact Decimal products."""
    model = CostModel(rate)
    assert model.commission(amount) == int((amount * rate).to_integral_value(rounding=ROUND_FLOOR))
    trade = CAL.next_session(day)
    tax_rate = sell_tax_rate(settlement_date(trade, CAL), Market.KOSPI, InstrumentType.STOCK)
    tax = model.sell_tax(amount, trade, Market.KOSPI, InstrumentType.STOCK, CAL)
    assert tax == int((amount * tax_rate).to_integral_value(rounding=ROUND_FLOOR))

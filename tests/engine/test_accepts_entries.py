"""The kernel's "does the book take a new stock?" answer: a quick bound first, the exact count when the bound
is not enough. Whatever the book holds, the answer must be the exact count's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.config import parse_config
from maemae.domain.codes import StockCode
from maemae.domain.position import Position
from maemae.engine.composition import build_backtest_engine
from maemae.engine.kernel import TradingKernel
from maemae.krx.calendar import TradingCalendar

SAFE = StockCode("357870")
CODES = [SAFE, *(StockCode(f"{n:06d}") for n in (5930, 660, 35420, 51910, 68270))]

# per code: not in the book, owned by maemae, or on the account only (a trade made outside maemae)
HOLDINGS = st.lists(st.sampled_from(["none", "owned", "external"]), min_size=len(CODES), max_size=len(CODES))


def _kernel(max_positions: int) -> TradingKernel:
    config = parse_config(
        {
            "data": {"root": str(Path("unused"))},
            "universe": {"safe_asset_code": str(SAFE)},
            "risk": {"sizing": {"max_positions": max_positions}},
        }
    )
    return build_backtest_engine(config, TradingCalendar(), {}, date(2025, 12, 1)).kernel


@settings(max_examples=200, deadline=None)
@given(holdings=HOLDINGS, max_positions=st.integers(1, 5))
def test_accepts_entries_for_any_book_answers_as_the_exact_count(
    holdings: list[str], max_positions: int
) -> None:
    kernel = _kernel(max_positions)
    for code, holding in zip(CODES, holdings, strict=True):
        if holding == "owned":
            kernel.portfolio.positions[code] = Position(code, owned_quantity=10, account_quantity=10)
        elif holding == "external":
            kernel.portfolio.positions[code] = Position(code, owned_quantity=0, account_quantity=7)
    owned_stocks = sum(1 for c, h in zip(CODES, holdings, strict=True) if h == "owned" and c != SAFE)
    assert kernel.open_positions() == owned_stocks
    assert kernel.accepts_entries() is (owned_stocks < max_positions)


def test_accepts_entries_when_the_book_is_only_the_safe_asset_and_an_outside_trade_takes_a_stock() -> None:
    """Two entries in the book but no stock maemae holds: a two-stock book still has room."""
    kernel = _kernel(2)
    kernel.portfolio.positions[SAFE] = Position(SAFE, owned_quantity=100, account_quantity=100)
    kernel.portfolio.positions[CODES[1]] = Position(CODES[1], owned_quantity=0, account_quantity=3)
    assert kernel.accepts_entries() is True
    kernel.portfolio.positions[CODES[2]] = Position(CODES[2], owned_quantity=5, account_quantity=5)
    kernel.portfolio.positions[CODES[3]] = Position(CODES[3], owned_quantity=5, account_quantity=5)
    assert kernel.accepts_entries() is False

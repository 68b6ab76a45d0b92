"""Every risk rule fires when it must and only then: exactly at the threshold, and one unit off it."""

from datetime import date, datetime, timedelta
from typing import Any, get_args

import pytest

from maemae.config.risk import RiskConfig, StrategyChangeConfig
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market, OrderType, Side
from maemae.domain.intents import IntentSource, OrderIntent
from maemae.krx.limits import PriceLimits
from maemae.krx.ticks import tick_table
from maemae.risk.context import GateContext, HeldPosition
from maemae.risk.decision import DenyReason
from maemae.risk.gate import RiskGate
from maemae.risk.state import RiskState, TradingState

CODE = StockCode("005930")
DAY = date(2025, 3, 4)
NOW = datetime(2025, 3, 4, 10, 0, tzinfo=KST)


def config(**sections: dict[str, Any]) -> RiskConfig:
    return RiskConfig.model_validate(sections)


def gate(cfg: RiskConfig | None = None) -> RiskGate:
    state = RiskState()
    state.start_day(DAY, 100_000_000)
    return RiskGate(cfg or RiskConfig(), state, lambda amount: amount * 15 // 100_000)


def ctx(**changes: Any) -> GateContext:
    base: dict[str, Any] = dict(
        now=NOW,
        day=DAY,
        price=10_000,
        limits=PriceLimits(13_000, 7_000),
        grid=tick_table(DAY),
        orderable_cash=100_000_000,
        equity=100_000_000,
        open_positions=0,
        position=None,
        recent_high=10_000,
        bar_volume=1_000,
        average_volume=1_000,
    )
    base.update(changes)
    return GateContext(**base)


def buy(quantity: int | None = 10, price: int | None = 10_000, **kw: Any) -> OrderIntent:
    return OrderIntent(CODE, Side.BUY, quantity, OrderType.LIMIT if price else OrderType.MARKET, price, **kw)


def sell(quantity: int | None = 10, **kw: Any) -> OrderIntent:
    kw.setdefault("strategy", "rsi_minute")
    return OrderIntent(CODE, Side.SELL, quantity, OrderType.MARKET, None, **kw)


HELD = HeldPosition(10, "rsi_minute")


def test_gate_when_nothing_configured_approves_a_plain_buy_and_counts_it() -> None:
    g = gate()
    decision = g.evaluate(buy(), ctx())
    assert decision.approved
    assert decision.quantity == 10
    assert g.state.amount_today == 100_000
    assert g.state.orders_in_window(NOW) == 1


def test_max_amount_per_day_when_cancelled_orders_left_it_unfilled_allows_a_buy_again() -> None:
    """Only money committed (filled or working) counts: a cancelled order's unfilled shares free the room."""
    g = gate(config(order_limits={"max_amount_per_day": 250_000}))
    for n in range(2):  # 2 x 100,000 won sent
        decision = g.evaluate(buy(), ctx())
        g.state.note_order_working(f"o{n}", decision.price, decision.quantity)
    assert g.evaluate(buy(), ctx()).reason is DenyReason.MAX_DAILY_AMOUNT
    g.state.note_order_ended("o0", filled=4)  # 6 of 10 shares cancelled unfilled: 60,000 won back
    g.state.note_order_ended("o1", filled=0)
    assert g.state.amount_today == 40_000
    assert g.evaluate(buy(), ctx()).approved


@pytest.mark.parametrize(("minutes_after", "denied"), [(29, True), (30, False), (31, False)])
def test_cooldown_when_rebuying_within_the_window_is_denied(minutes_after: int, denied: bool) -> None:
    g = gate(config(cooldown={"enabled": True, "minutes": 30}))
    g.state.note_fill("s1", CODE, Side.SELL, 10_000, NOW)
    decision = g.evaluate(buy(), ctx(now=NOW + timedelta(minutes=minutes_after)))
    assert (decision.reason is DenyReason.COOLDOWN) is denied


def test_cooldown_when_switched_off_never_denies() -> None:
    g = gate()
    g.state.note_fill("s1", CODE, Side.SELL, 10_000, NOW)
    assert g.evaluate(buy(), ctx(now=NOW + timedelta(seconds=1))).approved


def test_one_trade_a_day_when_already_bought_denies_second_buy_but_not_sell() -> None:
    g = gate(config(one_trade_a_day={"enabled": True}))
    assert g.evaluate(buy(), ctx()).approved
    g.state.note_fill("b1", CODE, Side.BUY, 10_000, NOW)
    assert g.evaluate(buy(), ctx()).reason is DenyReason.ONE_TRADE_A_DAY
    assert g.evaluate(sell(), ctx(position=HELD)).approved


@pytest.mark.parametrize(("trades", "reason"), [(1, None), (2, DenyReason.DAILY_CAP_STOCK)])
def test_daily_cap_per_stock_when_reached_denies(trades: int, reason: DenyReason | None) -> None:
    g = gate(config(daily_caps={"enabled": True, "max_trades_per_stock": 2, "max_trades_per_account": 10}))
    for n in range(trades):
        g.state.note_fill(f"o{n}", CODE, Side.BUY if n % 2 == 0 else Side.SELL, 10_000, NOW)
    assert g.evaluate(buy(), ctx()).reason is reason


def test_daily_cap_per_account_when_reached_denies_and_resets_next_day() -> None:
    g = gate(config(daily_caps={"enabled": True, "max_trades_per_stock": 9, "max_trades_per_account": 2}))
    g.state.note_fill("a", StockCode("000010"), Side.BUY, 10_000, NOW)
    g.state.note_fill("b", StockCode("000020"), Side.BUY, 10_000, NOW)
    assert g.evaluate(buy(), ctx()).reason is DenyReason.DAILY_CAP_ACCOUNT
    g.state.start_day(date(2025, 3, 5), 100_000_000)
    assert g.evaluate(buy(), ctx(day=date(2025, 3, 5), now=NOW + timedelta(days=1))).approved


@pytest.mark.parametrize(
    ("price", "recent_high", "volume", "last_exit", "approved"),
    [
        (10_100, 10_000, 2_000, 9_900, True),  # every test exactly at its threshold
        (10_099, 10_000, 2_000, 9_900, False),  # breakout 1 won short
        (10_100, 10_000, 1_999, 9_900, False),  # volume 1 share short
        (10_100, 10_000, 2_000, 9_903, False),  # not 2 % above the last exit
    ],
)
def test_reentry_when_second_entry_needs_every_stronger_signal(
    price: int, recent_high: int, volume: int, last_exit: int, approved: bool
) -> None:
    g = gate(
        config(
            reentry={
                "enabled": True,
                "min_breakout_pct": "1",
                "min_volume_ratio": "2",
                "min_rise_above_exit_pct": "2",
            }
        )
    )
    g.state.note_fill("b1", CODE, Side.BUY, 9_800, NOW)
    g.state.note_fill("s1", CODE, Side.SELL, last_exit, NOW)
    decision = g.evaluate(buy(price=price), ctx(price=price, recent_high=recent_high, bar_volume=volume))
    assert decision.approved is approved
    if not approved:
        assert decision.reason is DenyReason.REENTRY_TOO_WEAK


def test_reentry_when_first_entry_of_the_day_is_not_judged() -> None:
    g = gate(config(reentry={"enabled": True}))
    assert g.evaluate(buy(), ctx(bar_volume=1)).approved


@pytest.mark.parametrize(("price", "approved"), [(10_200, True), (10_190, False)])
def test_rebuy_after_take_profit_when_price_has_not_risen_enough_is_denied(
    price: int, approved: bool
) -> None:
    g = gate(config(take_profit={"enabled": True, "rebuy_rise_pct": "2"}))
    g.state.mark_take_profit(CODE, 10_000, NOW)
    decision = g.evaluate(buy(price=price), ctx(price=price))
    assert decision.approved is approved
    assert approved or decision.reason is DenyReason.REBUY_TOO_LOW


def test_max_positions_when_full_denies_new_stock_but_allows_adding() -> None:
    g = gate(config(sizing={"max_positions": 2}))
    assert g.evaluate(buy(), ctx(open_positions=2)).reason is DenyReason.MAX_POSITIONS
    assert g.evaluate(buy(), ctx(open_positions=2, position=HELD)).approved
    assert g.evaluate(buy(), ctx(open_positions=1)).approved


@pytest.mark.parametrize(
    ("method", "extra", "expected"),
    [
        ("equal_weight", {"max_positions": 10}, 1_000),
        ("fixed_amount", {"fixed_amount": 1_234_567}, 123),
        ("pct_equity", {"pct_equity": "2.5"}, 250),
    ],
)
def test_sizing_when_quantity_left_to_the_gate_uses_configured_method(
    method: str, extra: dict[str, Any], expected: int
) -> None:
    g = gate(
        config(
            sizing={"method": method, **extra},
            order_limits={
                "max_amount_per_order": 10**12,
                "max_quantity_per_order": 10**6,
                "max_amount_per_day": 10**12,
            },
        )
    )
    assert g.evaluate(buy(quantity=None), ctx()).quantity == expected


def test_sizing_when_cash_short_buys_what_cash_and_commission_allow() -> None:
    g = gate(config(sizing={"method": "fixed_amount", "fixed_amount": 1_000_000}))
    decision = g.evaluate(buy(quantity=None), ctx(orderable_cash=100_014))
    assert decision.quantity == 9  # 10 shares cost 100,000 + 15 commission: one won short
    assert g.evaluate(buy(quantity=10), ctx(orderable_cash=100_014)).reason is DenyReason.INSUFFICIENT_CASH


@pytest.mark.parametrize(
    ("limits", "quantity", "reason", "detail"),
    [
        ({"max_quantity_per_order": 1_000}, 1_001, DenyReason.MAX_QUANTITY, "1,001 shares > 1,000"),
        ({"max_amount_per_order": 1_000_000}, 101, DenyReason.MAX_AMOUNT, "1,010,000 won > 1,000,000"),
        (
            {"max_amount_per_day": 1_000_000},
            101,
            DenyReason.MAX_DAILY_AMOUNT,
            "0 won committed today (filled or working) + 1,010,000 > 1,000,000",
        ),
    ],
)
def test_order_limits_when_exceeded_deny(
    limits: dict[str, int], quantity: int, reason: DenyReason, detail: str
) -> None:
    """Each denial says why with the numbers, amounts with thousands separators as the CLI prints them."""
    g = gate(config(order_limits=limits))
    denied = g.evaluate(buy(quantity=quantity), ctx())
    assert (denied.reason, denied.detail) == (reason, detail)
    assert g.evaluate(buy(quantity=100), ctx()).approved


def test_order_rate_when_limit_reached_denies_until_window_passes() -> None:
    g = gate(config(order_limits={"max_orders_per_minute": 2}))
    assert g.evaluate(buy(), ctx()).approved
    assert g.evaluate(buy(), ctx(now=NOW + timedelta(seconds=10))).approved
    assert g.evaluate(buy(), ctx(now=NOW + timedelta(seconds=59))).reason is DenyReason.ORDER_RATE
    assert g.evaluate(buy(), ctx(now=NOW + timedelta(seconds=60))).approved


@pytest.mark.parametrize(
    ("price", "reason"),
    [(10_005, DenyReason.NOT_ON_TICK), (13_010, DenyReason.PRICE_OUTSIDE_LIMITS), (13_000, None)],
)
def test_price_checks_when_limit_off_grid_or_outside_limits_deny(
    price: int, reason: DenyReason | None
) -> None:
    assert gate().evaluate(buy(quantity=1, price=price), ctx()).reason is reason


@pytest.mark.parametrize(
    ("market", "reason"), [(Market.KOSDAQ, None), (Market.KOSPI, DenyReason.NOT_ON_TICK)]
)
def test_price_checks_when_before_the_reform_judge_by_the_stocks_own_market_grid(
    market: Market, reason: DenyReason | None
) -> None:
    """In 2022 KOSDAQ stocks above 50,000 won moved by 100 won, KOSPI ones from 100,000 by 500: 150,100 is
    a KOSDAQ price and not a KOSPI one."""
    old = date(2022, 6, 2)
    limits = PriceLimits(195_000, 105_100)
    context = ctx(day=old, price=150_000, limits=limits, grid=tick_table(old, InstrumentType.STOCK, market))
    assert gate().evaluate(buy(quantity=1, price=150_100), context).reason is reason


def test_kill_switch_when_on_denies_buys_and_sells_and_reducing_allows_only_sells() -> None:
    g = gate()
    g.state.operator_state = TradingState.HALTED
    assert g.evaluate(buy(), ctx()).reason is DenyReason.KILL_SWITCH
    assert g.evaluate(sell(), ctx(position=HELD)).reason is DenyReason.KILL_SWITCH
    g.state.operator_state = TradingState.REDUCING
    assert g.evaluate(buy(), ctx()).reason is DenyReason.REDUCING
    assert g.evaluate(sell(), ctx(position=HELD)).approved


def test_portfolio_halt_when_tripped_denies_entries_for_the_day_only() -> None:
    g = gate()
    g.state.halt_for_day(DAY)
    assert g.evaluate(buy(), ctx()).reason is DenyReason.HALTED_PORTFOLIO_STOP
    assert g.evaluate(sell(), ctx(position=HELD)).approved
    assert g.evaluate(buy(), ctx(day=date(2025, 3, 5))).approved


def test_sell_when_not_owned_is_denied_and_never_sells_external_shares() -> None:
    g = gate()
    assert g.evaluate(sell(), ctx()).reason is DenyReason.NOT_OWNED
    assert g.evaluate(sell(quantity=50), ctx(position=HELD)).quantity == 10


@pytest.mark.parametrize(
    ("asked", "per_order", "detail"),
    [
        (50, 1_000, "asked 50, clipped to the 10 held"),
        (50, 4, "asked 50, clipped to max_quantity_per_order 4"),
        (10, 1_000, ""),
        (None, 1_000, ""),  # a sell of what is held asks for no number of its own
    ],
)
def test_sell_when_clipped_then_the_approval_says_what_was_asked(
    asked: int | None, per_order: int, detail: str
) -> None:
    """The order is made with the approval's detail: a clipped sell left no trace of the number asked."""
    g = gate(config(order_limits={"max_quantity_per_order": per_order}))
    assert g.evaluate(sell(quantity=asked), ctx(position=HELD)).detail == detail


@pytest.mark.parametrize(
    ("policy", "source", "approved"),
    [
        ("exits_only", IntentSource.STRATEGY, False),
        ("strategy_may_sell", IntentSource.STRATEGY, True),
        ("exits_only", IntentSource.STOP_LOSS, True),
    ],
)
def test_strategy_change_when_another_strategy_bought_follows_policy(
    policy: str, source: IntentSource, approved: bool
) -> None:
    g = gate(config(strategy_change={"policy": policy}))
    other = HeldPosition(10, "old_strategy")
    decision = g.evaluate(sell(strategy="rsi_minute", source=source), ctx(position=other))
    assert decision.approved is approved
    assert approved or decision.reason is DenyReason.STRATEGY_CHANGE


EXITS = (
    IntentSource.STOP_LOSS,
    IntentSource.TRAILING_STOP,
    IntentSource.TIME_CUT,
    IntentSource.PORTFOLIO_STOP,
)


@pytest.mark.parametrize("policy", get_args(StrategyChangeConfig.model_fields["policy"].annotation))
@pytest.mark.parametrize("source", EXITS)
def test_strategy_change_when_any_policy_then_the_exit_rules_still_sell(
    policy: str, source: IntentSource
) -> None:
    """SPEC 3: stop loss, trailing stop, portfolio stop and time-cut apply whatever the strategy; no policy
    value may keep a stock another strategy bought from them."""
    g = gate(config(strategy_change={"policy": policy}))
    decision = g.evaluate(sell(strategy="rsi_minute", source=source), ctx(position=HeldPosition(10, "old")))
    assert decision.approved


def test_denials_when_recorded_keep_reason_and_detail() -> None:
    g = gate(config(cooldown={"enabled": True, "minutes": 30}))
    g.state.note_fill("s1", CODE, Side.SELL, 10_000, NOW)
    g.evaluate(buy(), ctx())
    (record,) = g.denials
    assert (record.code, record.side, record.reason) == (CODE, Side.BUY, DenyReason.COOLDOWN)
    assert "no re-buy before" in record.detail


def test_book_size_when_risk_settings_are_swapped_follows_the_new_maximum() -> None:
    checked = gate(config(sizing={"max_positions": 5}))
    assert checked.max_positions == 5
    checked.config = config(sizing={"max_positions": 2})
    assert checked.max_positions == 2


@pytest.mark.parametrize("quantity", [0, -3])
def test_gate_when_the_strategy_asks_for_no_shares_or_fewer_denies_buy_and_sell(quantity: int) -> None:
    """A sell of 0 would otherwise sell the whole position (a sell's quantity defaults to what is owned),
    and an order of -3 cannot exist: the strategy's mistake is a denial, not a sale or a stopped run."""
    g = gate()
    for intent, position in ((buy(quantity), None), (sell(quantity), HELD)):
        decision = g.evaluate(intent, ctx(position=position))
        assert decision.reason is DenyReason.QUANTITY_NOT_POSITIVE
        assert not decision.approved
    assert g.state.orders_in_window(NOW) == 0


def test_gate_when_a_sell_leaves_the_quantity_to_the_gate_sells_what_is_owned() -> None:
    decision = gate().evaluate(sell(None), ctx(position=HELD))
    assert decision.approved
    assert decision.quantity == HELD.quantity

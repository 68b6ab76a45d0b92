"""Exit rules: their levels follow the settings in force, including settings swapped while a loop runs
(``maemae params set`` replaces ``ExitRules.config`` between steps)."""

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.config.risk import RiskConfig
from maemae.domain.codes import StockCode
from maemae.domain.intents import IntentSource
from maemae.risk.exits import ExitLevels, ExitRules, Holding


def _config(stop_pct: str, trailing_pct: str, day_loss_pct: str) -> RiskConfig:
    return RiskConfig.model_validate(
        {
            "stop_loss": {"pct": stop_pct},
            "trailing_stop": {"enabled": True, "pct": trailing_pct},
            "portfolio_stop": {"day_loss_pct": day_loss_pct},
        }
    )


HOLDING = Holding(StockCode("005930"), 10, 1_000_000, 120_000, take_profit_taken=False)


def test_exit_levels_when_settings_are_swapped_follow_the_new_percentages() -> None:
    rules = ExitRules(_config("5", "3", "3"))
    assert rules.levels(HOLDING).stop == 95_000
    assert rules.levels(HOLDING).trailing == 116_400
    assert rules.portfolio_stop_level(10_000_000) == 9_700_000

    rules.config = _config("10", "2.5", "1")

    assert rules.levels(HOLDING).stop == 90_000
    assert rules.levels(HOLDING).trailing == 117_000
    assert rules.portfolio_stop_level(10_000_000) == 9_900_000
    no_high = Holding(StockCode("005930"), 10, 1_000_000, 0, take_profit_taken=False)
    assert rules.check(no_high, 92_000) is None  # above the new stop, below the old one
    stopped = rules.check(no_high, 90_000)
    assert stopped is not None
    assert stopped.source is IntentSource.STOP_LOSS
    assert stopped.reason == "price 90,000 <= stop 90,000"  # prices as a person reads them, in the notes too
    trailed = rules.check(HOLDING, 116_900)
    assert trailed is not None
    assert trailed.reason == "price 116,900 <= 117,000 (high 120,000)"
    assert rules.first_exit_bar(HOLDING, np.array([[118_000, 117_500, 117_000]]), 0, 0, 3) == 2


def test_exit_levels_when_the_average_cost_is_fractional_round_the_stop_down_and_the_target_up() -> None:
    rules = ExitRules(RiskConfig.model_validate({"take_profit": {"enabled": True, "trigger_pct": "10"}}))
    holding = Holding(StockCode("005930"), 3, 100_001, 0, take_profit_taken=False)  # 33,333.67 won a share
    levels = rules.levels(holding)
    assert levels.stop == 31_666  # floor(100,001 x 0.95 / 3) = floor(31,666.98)
    assert levels.take_profit == 36_668  # ceil(100,001 x 1.1 / 3) = ceil(36,667.03)
    assert Decimal(levels.stop) <= Decimal(100_001) * Decimal("0.95") / 3


@settings(max_examples=300, deadline=None)
@given(
    closes=st.lists(st.integers(1_000, 200_000), min_size=0, max_size=40),
    start=st.integers(0, 45),
    stop=st.sampled_from([None, "3", "7.5"]),
    take=st.sampled_from([None, "2", "12.25"]),
    trailing=st.sampled_from([None, "1", "4.5"]),
    high_water=st.integers(0, 200_000),
    taken=st.booleans(),
)
def test_first_exit_bar_when_scanning_closes_fires_where_check_first_fires_bar_by_bar(
    closes: list[int],
    start: int,
    stop: str | None,
    take: str | None,
    trailing: str | None,
    high_water: int,
    taken: bool,
) -> None:
    rules = ExitRules(
        RiskConfig.model_validate(
            {
                "stop_loss": {"enabled": stop is not None, "pct": stop or "5"},
                "take_profit": {"enabled": take is not None, "trigger_pct": take or "10"},
                "trailing_stop": {"enabled": trailing is not None, "pct": trailing or "3"},
            }
        )
    )
    expected, high = None, high_water  # the live driver: a check at every close, the high following it
    for index in range(start, len(closes)):
        high = max(high, closes[index])
        holding = Holding(StockCode("005930"), 7, 700_000, high, take_profit_taken=taken)
        if rules.check(holding, closes[index]) is not None:
            expected = index
            break
    holding = Holding(StockCode("005930"), 7, 700_000, high_water, take_profit_taken=taken)
    matrix = np.array([[0] * len(closes), closes, [10**9] * len(closes)], dtype=np.int64)
    assert rules.first_exit_bar(holding, matrix, 1, start, len(closes)) == expected


def test_exit_rules_when_swapped_settings_switch_rules_off_stop_firing_them() -> None:
    rules = ExitRules(_config("5", "3", "3"))
    assert rules.levels(HOLDING).stop is not None
    assert rules.levels(HOLDING).trailing is not None
    assert rules.portfolio_stop_level(10_000_000) is not None

    rules.config = RiskConfig.model_validate(
        {
            "stop_loss": {"enabled": False},
            "trailing_stop": {"enabled": False},
            "portfolio_stop": {"enabled": False},
        }
    )

    assert rules.levels(HOLDING) == ExitLevels(None, None, None)
    assert rules.portfolio_stop_level(10_000_000) is None
    assert rules.first_exit_bar(HOLDING, np.array([[1_000, 500]], dtype=np.int64), 0, 0, 2) is None

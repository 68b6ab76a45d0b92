"""Acceptance: the engine against an independent, plainly written calculation, to the won.

The strategy is the complete example of docs/strategies.md, loaded from the document itself. The check
below re-derives every trade from the bars (a market order decided when a bar completes fills at the next
bar's open), the commission and the sell tax from first principles, and the final equity.
"""

import re
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from maemae.backtest.service import run_backtest
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.krx.limits import price_limits
from tests.backtest.conftest import make_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"
START, END = date(2025, 11, 24), date(2025, 12, 5)
QUANTITY, SELL_BAR = 1, 200
COMMISSION = Decimal("0.00015")


def example_strategy_file(tmp_path: Path) -> Path:
    code = re.search(r"Save it as `my_strategies.py`:\n\n```python\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert code is not None, "the complete example is missing from docs/strategies.md"
    path = tmp_path / "my_strategies.py"
    path.write_text(code.group(1), encoding="utf-8")
    return path


def tax_rate(trade_day: date) -> Decimal:
    # settlement two sessions later; 2025 sales settle at 0.15 % unless they settle in 2026 (0.20 %)
    return Decimal("0.0020") if trade_day >= date(2025, 12, 29) else Decimal("0.0015")


def floor(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=ROUND_FLOOR))


def test_example_strategy_when_backtested_matches_independent_calculation_to_the_won(
    market_root: Path, tmp_path: Path
) -> None:
    strategies = example_strategy_file(tmp_path)
    store = BarStore(market_root)
    codes = [c for c in store.codes(Timeframe.DAY) if c != "357870"][:3]
    config = make_config(
        market_root,
        universe={"selector": "fixed", "codes": codes, "safe_asset_code": None},
        strategies={
            "daily": {"class": f"{strategies}:EveryDay"},
            "minute": {
                "class": f"{strategies}:OpenToAfternoon",
                "params": {"quantity": QUANTITY, "sell_after_bars": SELL_BAR},
            },
        },
        risk={"stop_loss": {"enabled": False}, "portfolio_stop": {"enabled": False}},
        broker={"sim": {"max_volume_share": "1"}},
    )
    result = run_backtest(config, start=START, end=END)

    expected_trades = []
    cash = config.backtest.initial_cash
    for code in codes:
        bars = store.read_frame(code, Timeframe.MINUTE, START, END)
        for day, rows in bars.groupby(bars["ts"].dt.date):
            opens, volumes, highs, lows = (rows[c].to_numpy() for c in ("open", "volume", "high", "low"))
            # preconditions that keep this calculation simple: both fills happen in full on their bar
            assert volumes[1] >= QUANTITY
            assert volumes[SELL_BAR + 1] >= QUANTITY
            previous_close = int(store.read_arrays(code, Timeframe.DAY, end=day).close[-2])
            limits = price_limits(previous_close, day)
            assert not highs[1] == lows[1] == limits.upper  # a buy locked out at the upper limit would wait
            assert not highs[SELL_BAR + 1] == lows[SELL_BAR + 1] == limits.lower
            buy, sell = int(opens[1]), int(opens[SELL_BAR + 1])
            buy_cost = buy * QUANTITY + floor(buy * QUANTITY * COMMISSION)
            proceeds = (
                sell * QUANTITY - floor(sell * QUANTITY * COMMISSION) - floor(sell * QUANTITY * tax_rate(day))
            )
            cash += proceeds - buy_cost
            expected_trades += [
                (datetime.combine(day, rows["ts"].iloc[1].time(), tzinfo=KST), code, "buy", buy),
                (datetime.combine(day, rows["ts"].iloc[SELL_BAR + 1].time(), tzinfo=KST), code, "sell", sell),
            ]

    engine_trades = [(f.ts, f.code, f.side.value, f.price) for f in result.recorder.fills]
    assert sorted(engine_trades) == sorted(expected_trades)
    assert result.metrics.final_equity == cash
    assert result.engine.portfolio.account.cash == cash

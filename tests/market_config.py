"""The part every engine test's config shares: the sample market, a small universe and a quick moving
average, so 40 sessions give signals. Each test file writes the sections it is about after it."""

from __future__ import annotations

from pathlib import Path


def market_toml(root: Path, *, initial_cash: int = 50_000_000, mode: str | None = None) -> str:
    """The config text on the sample market at ``root``; ``mode`` first when given (a top-level key)."""
    first = f'mode = "{mode}"\n' if mode else ""
    return f"""{first}
[data]
root = "{root}"

[universe]
safe_asset_code = "357870"
max_stocks = 8

[strategies.daily]
class = "sma_daily"
params = {{ short = 3, long = 10 }}

[backtest]
initial_cash = {initial_cash}
"""

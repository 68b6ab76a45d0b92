from pathlib import Path
from typing import Any

import pytest

from maemae.config import MaemaeConfig, parse_config
from maemae.data.sample import generate_sample_market


@pytest.fixture(scope="session")
def market_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample market: 8 stocks + the safe-asset ETF over 40 sessions."""
    root = tmp_path_factory.mktemp("engine-market")
    generate_sample_market(root, stocks=8, days=40, seed=21, limit_events=3)
    return root


def make_config(root: Path, **sections: Any) -> MaemaeConfig:
    """A backtest config on ``root`` with short averages, so 40 sessions give signals."""
    base: dict[str, Any] = {
        "data": {"root": str(root)},
        "universe": {"safe_asset_code": "357870", "max_stocks": 8},
        "strategies": {"daily": {"class": "sma_daily", "params": {"short": 3, "long": 10}}},
        "backtest": {"initial_cash": 50_000_000},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    return parse_config(base)

from pathlib import Path
from typing import Any

from maemae.config import MaemaeConfig, parse_config


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

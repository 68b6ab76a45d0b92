from tests.backtest.conftest import market_root

__all__ = ["market_root"]

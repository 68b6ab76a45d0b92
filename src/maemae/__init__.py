"""maemae (매매): automated trading for Korean stocks, one engine for backtest, paper and live."""

__version__ = "0.1.0"

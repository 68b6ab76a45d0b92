"""maemae (매매): automated trading for Korean stocks, one engine for backtest, paper and live."""

# First, before any other maemae module: picks the mypyc build of the engine's modules when it is current.
from maemae import compiled as compiled

__version__ = "0.1.0"

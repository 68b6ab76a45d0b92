"""The simulated exchange: the ``sim`` broker adapter used by backtests and paper trading."""

"""Where real market data comes from: pykrx and FinanceDataReader here, the brokers in ``brokers.history``."""

"""KRX market rules in one place: ticks, price limits, calendar, sessions, costs and settlement.

The simulator, the risk gate and the live order path all call this package, so a rule is applied the same way
in a backtest and in live trading (DESIGN 1.7). Every rule takes the date it applies to.
"""
